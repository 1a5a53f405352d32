// Node collection through debug pods: what is created, what comes back, and that every debug
// pod is deleted — on success, when a node fails mid-way, on timeouts, on missing permissions
// and on Ctrl-C.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CILIUM_FILES } from '../../src/analyses/dataplane/detect.js';
import { UserError } from '../../src/core/errors.js';
import { KubeClient } from '../../src/sources/kube/client.js';
import { collectNodeFiles, DEFAULT_DEBUG_IMAGE } from '../../src/sources/kube/collect.js';
import { connectKube } from '../../src/sources/kube/config.js';
import { cleanupTemp, failure, serveBundle, writes } from './helpers.js';
import type { ExecHandler, KubeletDecision, TestApiServer } from './server/apiserver.js';
import type { LoadedBundle } from './server/bundle.js';
import { bundleExec, type FakeNodeOptions } from './server/fake-node.js';

let server: TestApiServer;
let bundle: LoadedBundle;
const fake: FakeNodeOptions = {};
let kubelet: ((pod: unknown) => KubeletDecision) | undefined;

beforeAll(async () => {
  ({ server, bundle } = await serveBundle(undefined, {
    exec: (ctx, io) => bundleExec(bundle.nodeFiles, fake)(ctx, io),
    kubelet: (pod) => kubelet?.(pod) ?? { run: true },
  }));
});
afterAll(async () => {
  await server.close();
  cleanupTemp();
});
afterEach(() => {
  server.resetStats();
  server.requests.length = 0;
  server.faults.length = 0;
  server.forbid.length = 0;
  fake.broken = undefined;
  fake.onExec = undefined;
  kubelet = undefined;
});

const debugPods = () =>
  server.objects('Pod').filter((p) => String(p.metadata.name).startsWith('knet-collect-'));
const base = () => ({ kubeconfig: server.kubeconfig(), pollIntervalMs: 20, handleSignals: false });

/** Every pod knet created was deleted, by name. */
function expectAllDeleted(): void {
  const created = server.requests.filter((r) => r.method === 'POST' && r.status === 201);
  const deleted = server.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').pop());
  expect(debugPods()).toEqual([]);
  expect(deleted.length).toBe(created.length);
}

describe('collectNodeFiles', () => {
  it('returns the node files and the pods’ own files, then deletes the debug pods', async () => {
    const files = await collectNodeFiles(
      base(),
      ['node-1', 'node-2'],
      [
        { namespace: 'shop', name: 'web-1', node: 'node-1' },
        { namespace: 'shop', name: 'cart-1', node: 'node-2' },
      ],
    );
    expect(files.errors).toEqual([]);
    expect(files.nodes().sort()).toEqual(['node-1', 'node-2']);
    for (const node of ['node-1', 'node-2']) {
      for (const [rel, text] of Object.entries(bundle.nodeFiles[node]))
        expect(files.read(node, rel)).toBe(text);
    }
    expect(files.list('node-1', 'pods')).toEqual(['shop_web-1']);
    expect(files.read('node-1', 'pods/shop_web-1/resolv.conf')).toContain('nameserver 10.96.0.10');
    expect(files.describe('node-1', 'ip-addr.json')).toBe('nodes/node-1/ip-addr.json');
    expect(files.timings.map((t) => t.node).sort()).toEqual(['node-1', 'node-2']);
    expectAllDeleted();
  });

  it('creates short-lived privileged pods: hostNetwork, hostPID, every taint tolerated, pinned image', async () => {
    await collectNodeFiles(base(), ['control-plane']);
    const posts = server.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0].path).toBe('/api/v1/namespaces/default/pods');
    const pod = posts[0].body;
    expect(pod.metadata.generateName).toBe('knet-collect-');
    expect(pod.metadata.labels['app.kubernetes.io/managed-by']).toBe('knet');
    expect(pod.spec).toMatchObject({
      nodeName: 'control-plane',
      hostNetwork: true,
      hostPID: true,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
    });
    expect(pod.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(pod.spec.containers[0].image).toBe(DEFAULT_DEBUG_IMAGE);
    expect(DEFAULT_DEBUG_IMAGE).toMatch(/^nicolaka\/netshoot:v\d+\.\d+$/);
    expect(pod.spec.containers[0].securityContext).toEqual({ privileged: true });
    expectAllDeleted();
  });

  it('takes --image and a namespace for the debug pods', async () => {
    await collectNodeFiles(
      { ...base(), image: 'registry.internal/netshoot:v0.13', debugNamespace: 'kube-system' },
      ['node-1'],
    );
    const post = server.requests.find((r) => r.method === 'POST');
    expect(post?.path).toBe('/api/v1/namespaces/kube-system/pods');
    expect(post?.body.spec.containers[0].image).toBe('registry.internal/netshoot:v0.13');
    expectAllDeleted();
  });

  it('execs the script with the pods as arguments (namespace_name=uid), only on their node', async () => {
    const seen: Record<string, string[]> = {};
    fake.onExec = (node, command) => {
      seen[node] = command.slice(4);
    };
    const web = bundle.objects.find((o) => o.kind === 'Pod' && o.metadata.name === 'web-1');
    await collectNodeFiles(
      base(),
      ['node-2'],
      [
        { namespace: 'shop', name: 'web-1', node: 'node-1' },
        // hostNetwork pods share the node's namespace: nothing to enter.
        { namespace: 'kube-system', name: 'kube-proxy-n2001', node: 'node-2' },
      ],
    );
    expect(seen).toEqual({ 'node-1': [`shop_web-1=${web.metadata.uid}`], 'node-2': [] });
    expectAllDeleted();
  });

  it('runs a bounded number of debug pods at a time', async () => {
    await collectNodeFiles({ ...base(), concurrency: 1 }, ['control-plane', 'node-1', 'node-2']);
    expect(server.maxCreatedPods()).toBe(1);
    expectAllDeleted();
  });

  it('only writes debug pods: create and delete pods, create pods/exec — nothing else', async () => {
    await collectNodeFiles(base(), ['node-1']);
    const w = writes(server).map((r) => `${r.method} ${r.resource}`);
    expect(new Set(w)).toEqual(new Set(['POST pods', 'DELETE pods']));
    const exec = server.requests.filter((r) => r.path.endsWith('/exec'));
    expect(exec.map((r) => r.verb)).toEqual(['create']);
  });
});

describe('debug pods are always deleted', () => {
  it('a node whose exec stream is cut mid-way: that node fails, the others are collected', async () => {
    fake.broken = { 'node-2': 'cut' };
    const files = await collectNodeFiles(base(), ['node-1', 'node-2']);
    expect(files.nodes()).toEqual(['node-1']);
    expect(files.errors).toEqual([
      { node: 'node-2', message: expect.stringMatching(/closed before|ends inside|incomplete/) },
    ]);
    expect(server.openSessions()).toBe(0);
    expectAllDeleted();
  });

  it('a script that fails on the node', async () => {
    fake.broken = { 'node-1': 'fail' };
    const files = await collectNodeFiles(base(), ['node-1']);
    expect(files.errors).toEqual([
      { node: 'node-1', message: expect.stringMatching(/failed in the debug pod: command terminated/) },
    ]);
    expectAllDeleted();
  });

  it('a node that hangs: the per-node timeout', async () => {
    fake.broken = { 'node-1': 'hang' };
    const started = Date.now();
    const files = await collectNodeFiles({ ...base(), nodeTimeoutMs: 1500 }, ['node-1', 'node-2']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(files.nodes()).toEqual(['node-2']);
    expect(files.errors).toEqual([{ node: 'node-1', message: 'the collection did not finish within 1.5 s' }]);
    expectAllDeleted();
  });

  it('an image that cannot be pulled', async () => {
    kubelet = () => ({
      waiting: 'ImagePullBackOff',
      message: 'Back-off pulling image "nicolaka/netshoot:v0.13"',
    });
    const files = await collectNodeFiles(base(), ['node-1']);
    expect(files.errors).toEqual([
      {
        node: 'node-1',
        message:
          'the debug pod cannot start: ImagePullBackOff (Back-off pulling image "nicolaka/netshoot:v0.13")',
      },
    ]);
    expectAllDeleted();
  });

  it('a pod that never starts', async () => {
    kubelet = () => ({ pending: true });
    const files = await collectNodeFiles({ ...base(), nodeTimeoutMs: 400 }, ['node-1']);
    expect(files.errors).toEqual([
      { node: 'node-1', message: 'the debug pod did not start within 0.4 s (phase Pending)' },
    ]);
    expectAllDeleted();
  });

  it('no permission to exec: the whole collection fails with the permission to add', async () => {
    server.forbid.push({ verb: 'create', resource: 'pods/exec' });
    const err = await failure(() => collectNodeFiles(base(), ['node-1', 'node-2']));
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('forbidden: cannot create pods/exec in namespace default (see docs/rbac.md)');
    expect(err.exitCode).toBe(2);
    expectAllDeleted();
  });

  it('no permission to create pods', async () => {
    server.forbid.push({ verb: 'create', resource: 'pods' });
    const err = await failure(() => collectNodeFiles(base(), ['node-1']));
    expect(err.message).toBe('forbidden: cannot create pods in namespace default (see docs/rbac.md)');
    expect(debugPods()).toEqual([]);
  });

  it('Pod Security admission refusing privileged pods: said as such, not as RBAC', async () => {
    const psa =
      'pods "knet-collect-abcde" is forbidden: violates PodSecurity "baseline:latest": host namespaces ' +
      '(hostNetwork=true, hostPID=true), privileged (container "collect" must not set securityContext.privileged=true)';
    server.faults.push({ method: 'POST', path: /\/pods$/, status: 403, reason: 'Forbidden', message: psa });
    const err = await failure(() => collectNodeFiles(base(), ['node-1']));
    expect(err.message).toBe(
      `the API server refused to create pods in namespace default: ${psa} (see docs/rbac.md)`,
    );
    expect(err.exitCode).toBe(2);
    expect(debugPods()).toEqual([]);
  });

  it('an abort (Ctrl-C) while nodes are being read', async () => {
    fake.broken = { 'node-2': 'hang' };
    const controller = new AbortController();
    const pending = collectNodeFiles({ ...base(), signal: controller.signal }, ['node-1', 'node-2']);
    await waitFor(() => server.openSessions() > 0);
    controller.abort(new UserError('interrupted', 130));
    const err = await failure(() => pending);
    expect(err.exitCode).toBe(130);
    expectAllDeleted();
  });

  it('Ctrl-C while the creates are in flight (#19): the pods they make are deleted and named', async () => {
    server.faults.push({ method: 'POST', path: /\/pods$/, createDelayMs: 1500 });
    const controller = new AbortController();
    const started = Date.now();
    const pending = collectNodeFiles({ ...base(), signal: controller.signal }, ['node-1', 'node-2']);
    await waitFor(() => server.requests.filter((r) => r.method === 'POST').length === 2);
    controller.abort(new UserError('interrupted', 130));
    const err = await failure(() => pending);
    expect(err.exitCode).toBe(130);
    expect(err.message).toMatch(/^interrupted: deleted the debug pods knet-collect-\w+, knet-collect-\w+$/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(debugPods()).toEqual([]);
  });

  it('a real SIGINT: the pods are deleted, then it fails with exit code 130', async () => {
    fake.broken = { 'node-1': 'hang' };
    const before = process.listenerCount('SIGINT');
    const pending = collectNodeFiles({ ...base(), handleSignals: true }, ['node-1']);
    await waitFor(() => server.openSessions() > 0);
    expect(process.listenerCount('SIGINT')).toBe(before + 1);
    process.kill(process.pid, 'SIGINT');
    const err = await failure(() => pending);
    expect(err.exitCode).toBe(130);
    expect(err.message).toMatch(/^interrupted: deleted the debug pods knet-collect-\w+$/);
    expect(process.listenerCount('SIGINT')).toBe(before);
    expectAllDeleted();
  });

  it('a delete that fails is reported with the command to run', async () => {
    server.faults.push({ method: 'DELETE', path: /\/pods\//, status: 500, times: 1 });
    const files = await collectNodeFiles(base(), ['node-1']);
    expect(files.nodes()).toEqual(['node-1']);
    expect(files.errors[0].message).toMatch(
      /^the debug pod default\/knet-collect-\w+ could not be deleted .*kubectl delete pod -n default knet-collect-/,
    );
    expect(debugPods()).toHaveLength(1);
    // Clean up what the failed delete left behind.
    const client = new KubeClient(await connectKube({ kubeconfig: server.kubeconfig() }));
    for (const p of debugPods()) {
      await client.request('DELETE', `/api/v1/namespaces/default/pods/${p.metadata.name}`, {
        action: { verb: 'delete', resource: 'pods', namespace: 'default' },
      });
    }
    expect(debugPods()).toEqual([]);
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the Cilium agents: their service table (kube-proxy replacement)', () => {
  let cilium: TestApiServer;
  const SERVICE_LIST = readFileSync(path.resolve(__dirname, '../fixtures/cilium/service-list.json'), 'utf8');
  const agentExecs: { namespace: string; pod: string; container: string; command: string[] }[] = [];
  let agentMode: 'answer' | 'hang' | 'garbage' = 'answer';

  const agentPod = (name: string, node: string, phase = 'Running') => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'kube-system', name, uid: `uid-${name}`, labels: { 'k8s-app': 'cilium' } },
    spec: {
      nodeName: node,
      hostNetwork: true,
      containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.16.0' }],
    },
    status: {
      phase,
      containerStatuses: [
        {
          name: 'cilium-agent',
          state: phase === 'Running' ? { running: {} } : { waiting: { reason: 'ContainerCreating' } },
        },
      ],
    },
  });

  /** node-1 runs a current agent (cilium-dbg), node-2 an agent older than 1.15 (cilium only). */
  const fakeAgent: ExecHandler = async (ctx, io) => {
    const pod = String(ctx.pod.metadata.name);
    agentExecs.push({ namespace: ctx.namespace, pod, container: ctx.container, command: ctx.command });
    if (ctx.command.slice(1).join(' ') !== 'service list -o json') return 2;
    if (ctx.command[0] === 'cilium-dbg' && pod === 'cilium-n2old') {
      io.stderr('exec: "cilium-dbg": executable file not found in $PATH\n');
      return 127;
    }
    if (agentMode === 'hang') {
      await new Promise((r) => setTimeout(r, 60_000).unref());
      return 0;
    }
    io.stdout(agentMode === 'garbage' ? 'Error: cannot connect to the agent\n' : SERVICE_LIST);
    return 0;
  };

  beforeAll(async () => {
    ({ server: cilium } = await serveBundle(undefined, {
      objects: [
        ...bundle.objects,
        agentPod('cilium-n1new', 'node-1'),
        agentPod('cilium-n2old', 'node-2'),
        agentPod('cilium-cp000', 'control-plane', 'Pending'),
      ],
      exec: (ctx, io) =>
        ctx.container === 'cilium-agent' ? fakeAgent(ctx, io) : bundleExec(bundle.nodeFiles)(ctx, io),
    }));
  });
  afterAll(async () => {
    await cilium.close();
  });
  afterEach(() => {
    cilium.requests.length = 0;
    cilium.forbid.length = 0;
    agentExecs.length = 0;
    agentMode = 'answer';
  });
  const opts = () => ({ kubeconfig: cilium.kubeconfig(), pollIntervalMs: 20, handleSignals: false });
  const ciliumDebugPods = () =>
    cilium.objects('Pod').filter((p) => String(p.metadata.name).startsWith('knet-collect-'));

  it('execs into the agent on each node (cilium-dbg, else cilium) and stores its output', async () => {
    const sunk: Record<string, Record<string, string>> = {};
    const files = await collectNodeFiles(
      {
        ...opts(),
        sink: (node, f) => {
          sunk[node] = f;
        },
      },
      ['node-1', 'node-2'],
    );
    expect(files.errors).toEqual([]);
    expect(files.warnings).toEqual([]);
    expect(files.notes).toEqual([]);
    for (const node of ['node-1', 'node-2']) {
      expect(sunk[node]['cilium-service-list.json']).toBe(SERVICE_LIST);
      expect(sunk[node]['iptables-save.txt']).toBe(bundle.nodeFiles[node]['iptables-save.txt']);
    }
    const byPod = (pod: string) => agentExecs.filter((e) => e.pod === pod).map((e) => e.command.join(' '));
    expect(byPod('cilium-n1new')).toEqual(['cilium-dbg service list -o json']);
    expect(byPod('cilium-n2old')).toEqual(['cilium-dbg service list -o json', 'cilium service list -o json']);
    expect(new Set(agentExecs.map((e) => `${e.namespace}/${e.container}`))).toEqual(
      new Set(['kube-system/cilium-agent']),
    );
    // No debug pod for the agent: only the usual two, created and deleted; the agents found by label.
    const posts = cilium.requests.filter((r) => r.method === 'POST');
    expect(posts.map((r) => r.path)).toEqual([
      '/api/v1/namespaces/default/pods',
      '/api/v1/namespaces/default/pods',
    ]);
    const list = cilium.requests.find((r) => r.path === '/api/v1/namespaces/kube-system/pods');
    expect(list?.query.get('labelSelector')).toBe('k8s-app=cilium');
    expect(ciliumDebugPods()).toEqual([]);
  });

  it('the file is nodes/NODE/cilium-service-list.json, where the trace reads it (CILIUM_FILES)', async () => {
    const files = await collectNodeFiles(opts(), ['node-1']);
    expect(files.read('node-1', 'cilium-service-list.json')).toBe(SERVICE_LIST);
    expect(files.describe('node-1', CILIUM_FILES.services)).toBe('nodes/node-1/cilium-service-list.json');
  });

  it('an agent that is not running: a warning for its node, the node files are kept', async () => {
    const files = await collectNodeFiles(opts(), ['control-plane']);
    expect(files.nodes()).toEqual(['control-plane']);
    expect(files.errors).toEqual([]);
    expect(files.warnings).toEqual([
      {
        node: 'control-plane',
        message:
          'cilium-service-list.json: the Cilium agent pod kube-system/cilium-cp000 is not running (phase Pending)',
      },
    ]);
    expect(agentExecs).toEqual([]);
  });

  it('no permission to exec in kube-system: a warning naming it per node, not a failure', async () => {
    cilium.forbid.push({ verb: 'create', resource: 'pods/exec', namespace: 'kube-system' });
    const files = await collectNodeFiles({ ...opts(), concurrency: 1 }, ['node-1', 'node-2']);
    expect(files.errors).toEqual([]);
    expect(files.nodes().sort()).toEqual(['node-1', 'node-2']);
    const refused =
      'cilium-service-list.json: forbidden: cannot create pods/exec in namespace kube-system (see docs/rbac.md)';
    expect(files.warnings).toEqual([
      { node: 'node-1', message: refused },
      { node: 'node-2', message: refused },
    ]);
    expect(files.read('node-1', 'cilium-service-list.json')).toBeUndefined();
    // Refused once: the other node is not tried again.
    const tries = cilium.requests.filter((r) => r.path.startsWith('/api/v1/namespaces/kube-system/pods/'));
    expect(tries).toHaveLength(1);
    expect(ciliumDebugPods()).toEqual([]);
  });

  it('an agent that does not answer: bounded by the node timeout, the node files are kept', async () => {
    agentMode = 'hang';
    const started = Date.now();
    const files = await collectNodeFiles({ ...opts(), nodeTimeoutMs: 1500 }, ['node-1']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(files.errors).toEqual([]);
    expect(files.read('node-1', 'ip-route.json')).toBe(bundle.nodeFiles['node-1']['ip-route.json']);
    expect(files.warnings).toEqual([
      {
        node: 'node-1',
        message:
          "cilium-service-list.json: cilium-dbg service list in the Cilium agent pod kube-system/cilium-n1new did not finish within the node's 1.5 s",
      },
    ]);
    expect(cilium.openSessions()).toBe(0);
    expect(ciliumDebugPods()).toEqual([]);
  });

  it('output that is not the service list: not stored, said', async () => {
    agentMode = 'garbage';
    const files = await collectNodeFiles(opts(), ['node-1']);
    expect(files.read('node-1', 'cilium-service-list.json')).toBeUndefined();
    expect(files.warnings).toEqual([
      { node: 'node-1', message: expect.stringMatching(/^cilium-service-list.json: .*invalid JSON/) },
    ]);
  });

  it('the agents cannot be listed: a note, and the collection goes on', async () => {
    cilium.forbid.push({ verb: 'list', resource: 'pods', namespace: 'kube-system' });
    const files = await collectNodeFiles(opts(), ['node-1']);
    expect(files.errors).toEqual([]);
    expect(files.nodes()).toEqual(['node-1']);
    expect(files.notes).toEqual([
      'the Cilium agents could not be looked for (forbidden: cannot list pods in namespace kube-system (see docs/rbac.md)): their service tables are not read',
    ]);
    expect(agentExecs).toEqual([]);
  });
});
