// Runs probes (probe-script.ts) from pods' own network namespaces, or from a node's, through
// the debug pods of node collection (debug-pods.ts): one short-lived privileged pod per node
// of a source, deleted on success, failure, timeout and Ctrl-C. Nothing is created unless a
// probe is asked for.
import { ApiError } from './client.js';
import { type DebugPodOptions, errorText, type NodeCollectionError, onDebugPods } from './debug-pods.js';
import { type ProbeOutput, type ProbeSpec, parseProbeOutput, probeCommand } from './probe-script.js';
import { RESOURCES, resourcePath } from './resources.js';

export interface ProbeRequest {
  /** The node whose debug pod runs the probe. */
  node: string;
  /** Enter this pod's network namespace; none: the node's own. */
  pod?: { namespace: string; name: string };
  spec: ProbeSpec;
}

export type ProbeAnswer = { output: ProbeOutput } | { error: string };

export interface ProbeRun {
  /** One per request, in order. */
  answers: ProbeAnswer[];
  /** Nodes whose debug pod failed (every request on it has an error answer too). */
  errors: NodeCollectionError[];
  /** The debug pods created (all deleted unless named in errors). */
  created: string[];
}

/** Time one request may take: its attempts, 10 at a time, plus the start of the interpreter. */
export function probeBudgetMs(spec: ProbeSpec): number {
  const rounds = spec.kind === 'resolve' ? spec.count * 6 : Math.ceil(spec.count / 10);
  return Math.ceil(rounds * spec.timeoutS * 1000) + 10_000;
}

export async function runProbes(opts: DebugPodOptions, requests: ProbeRequest[]): Promise<ProbeRun> {
  const answers: (ProbeAnswer | undefined)[] = requests.map(() => undefined);
  const uids = new Map<string, string | undefined>();
  const budget = requests.reduce((s, r) => s + probeBudgetMs(r.spec), 0);
  const run = await onDebugPods(
    {
      ...opts,
      activity: 'probing',
      // The pod must start, then every probe of its node run to its own bound.
      nodeTimeoutMs: (opts.nodeTimeoutMs ?? 120_000) + budget,
    },
    async ({ client }) => {
      // A pod's uid finds its processes on the node; a hostNetwork pod is the node's namespace.
      for (const r of requests) {
        if (!r.pod) continue;
        const key = `${r.pod.namespace}/${r.pod.name}`;
        if (uids.has(key)) continue;
        const res = await client.get(resourcePath(RESOURCES.pods, r.pod.namespace, r.pod.name), {
          action: { verb: 'get', resource: 'pods', namespace: r.pod.namespace, name: r.pod.name },
        });
        uids.set(
          key,
          res.body?.spec?.hostNetwork === true ? undefined : String(res.body?.metadata?.uid ?? ''),
        );
      }
      return requests.map((r) => r.node);
    },
    async (on) => {
      for (const [i, r] of requests.entries()) {
        if (r.node !== on.node) continue;
        const uid = r.pod ? uids.get(`${r.pod.namespace}/${r.pod.name}`) : undefined;
        on.report(`${on.node}: ${r.spec.count} attempts`);
        try {
          const { stdout } = await on.exec(probeCommand(uid, r.spec), 'the probe did not finish in time');
          answers[i] = { output: parseProbeOutput(stdout, `probe output on node ${on.node}`) };
        } catch (err) {
          if (on.signal.aborted || (err instanceof ApiError && [401, 403].includes(err.status))) throw err;
          if (err instanceof Error && /^forbidden|^authentication failed/.test(err.message)) throw err;
          answers[i] = { error: errorText(err) };
        }
      }
    },
  );
  for (const e of run.errors)
    for (const [i, r] of requests.entries())
      if (r.node === e.node && !answers[i]) answers[i] = { error: e.message };
  return {
    answers: answers.map((a) => a ?? { error: 'not run' }),
    errors: run.errors,
    created: run.created,
  };
}
