// --probe-mode ephemeral: the probe runs in an ephemeral debug container added to the source
// pod (as `kubectl debug pod/X` does), for clusters that forbid privileged pods. The container
// shares the pod's network namespace, so nothing is entered; it is not privileged and sleeps
// only as long as the attempts may take. Kubernetes cannot remove an ephemeral container: it
// stops by itself and stays in the pod's spec, stopped, until the pod is deleted.
import { UserError } from '../../core/errors.js';
import type { Raw } from '../../model/normalize.js';
import { KubeClient } from './client.js';
import { connectKube } from './config.js';
import {
  abortError,
  DEFAULT_DEBUG_IMAGE,
  type DebugPodOptions,
  errorText,
  execInPod,
  podFailure,
} from './debug-pods.js';
import { type ProbeAnswer, type ProbeRequest, type ProbeRun, probeBudgetMs } from './probe.js';
import { parseProbeOutput, probeCommand } from './probe-script.js';
import { RESOURCES, resourcePath } from './resources.js';

export const EPHEMERAL_PREFIX = 'knet-probe-';

/** The container's state, or why it will not run. */
function containerState(pod: Raw, name: string): 'running' | 'waiting' | string {
  const st = (pod?.status?.ephemeralContainerStatuses ?? []).find((c: Raw) => c?.name === name);
  if (st?.state?.running) return 'running';
  if (st?.state?.terminated)
    return `the ephemeral container ended (${st.state.terminated.reason ?? 'terminated'})`;
  const stuck = podFailure({ status: { phase: 'Pending', containerStatuses: st ? [st] : [] } });
  return stuck ? stuck.replace('the debug pod', 'the ephemeral container') : 'waiting';
}

export async function runEphemeralProbes(opts: DebugPodOptions, requests: ProbeRequest[]): Promise<ProbeRun> {
  const conn = await connectKube(opts);
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const signal = controller.signal;
  const client = new KubeClient(conn, { requestTimeoutMs: opts.requestTimeoutMs, signal });
  const onSignal = () => controller.abort(new UserError('interrupted', 130));
  const handleSignals = opts.handleSignals ?? true;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const answers: ProbeAnswer[] = [];
  const created: string[] = [];
  const image = opts.image ?? DEFAULT_DEBUG_IMAGE;
  const pollMs = opts.pollIntervalMs ?? 500;
  try {
    for (const r of requests) {
      if (!r.pod) {
        answers.push({
          error:
            'an ephemeral container probes from a pod: a node or ip/ source needs --probe-mode debug-pod',
        });
        continue;
      }
      const { namespace, name: podName } = r.pod;
      const budgetMs = probeBudgetMs(r.spec);
      const deadline = Date.now() + (opts.nodeTimeoutMs ?? 120_000) + budgetMs;
      const name = `${EPHEMERAL_PREFIX}${Math.random().toString(36).slice(2, 7)}`;
      try {
        opts.progress?.(`probing: adding the ephemeral container ${name} to pod ${namespace}/${podName}`);
        await client.request(
          'PATCH',
          `${resourcePath(RESOURCES.pods, namespace, podName)}/ephemeralcontainers`,
          {
            body: {
              spec: {
                ephemeralContainers: [
                  {
                    name,
                    image,
                    imagePullPolicy: 'IfNotPresent',
                    // Long enough to start and make the attempts; then it ends by itself.
                    command: ['sleep', String(Math.ceil((deadline - Date.now()) / 1000) + 30)],
                    terminationMessagePolicy: 'File',
                  },
                ],
              },
            },
            action: { verb: 'patch', resource: 'pods/ephemeralcontainers', namespace, name: podName },
          },
        );
        created.push(`${namespace}/${podName}:${name}`);
        for (;;) {
          const res = await client.get(resourcePath(RESOURCES.pods, namespace, podName), {
            action: { verb: 'get', resource: 'pods', namespace, name: podName },
          });
          const state = containerState(res.body, name);
          if (state === 'running') break;
          if (state !== 'waiting') throw new Error(state);
          if (Date.now() + pollMs > deadline)
            throw new Error('the ephemeral container did not start in time');
          await new Promise((done) => setTimeout(done, pollMs));
          if (signal.aborted) throw abortError(signal);
        }
        opts.progress?.(`probing: ${r.spec.count} attempts from pod ${namespace}/${podName}`);
        // Already in the pod's network namespace: no pod to find, nothing to enter ("-").
        const { stdout } = await execInPod(conn, namespace, podName, name, probeCommand(undefined, r.spec), {
          timeoutMs: Math.max(1000, deadline - Date.now()),
          signal,
          where: `the ephemeral container ${name}`,
          timeoutMessage: 'the probe did not finish in time',
        });
        answers.push({ output: parseProbeOutput(stdout, `probe output in pod ${namespace}/${podName}`) });
      } catch (err) {
        if (signal.aborted) throw abortError(signal);
        if (
          err instanceof UserError &&
          /^(forbidden|authentication failed|the API server refused)/.test(err.message)
        )
          throw err;
        answers.push({ error: errorText(err) });
      }
    }
  } catch (err) {
    if (err instanceof UserError && err.exitCode === 130) {
      const left = created.length
        ? `: the ephemeral containers ${created.join(', ')} stop by themselves (they stay in their pods' spec until the pods are deleted)`
        : '';
      throw new UserError(`interrupted${left}`, 130);
    }
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    if (handleSignals) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
  return { answers, errors: [], created };
}
