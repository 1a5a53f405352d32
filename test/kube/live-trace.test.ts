// A live trace that decides (issue #21, part 1): `--collect-nodes` on trace, proxy and doctor
// through the test API server, whose exec endpoint plays the collection script on the fixture
// cluster's node files. The live answer must be the snapshot's answer, only the path's nodes
// get a debug pod, and every debug pod is deleted — on success, on failure and on SIGINT.
// The flags that need a live cluster refuse a snapshot; a 403 still prints the static trace.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../src/sources/bundle/read.js';
import { cleanupTemp, interruptKnet, runKnet, serveBundle, tempDir } from './helpers.js';
import type { ExecHandler, TestApiServer } from './server/apiserver.js';
import type { LoadedBundle } from './server/bundle.js';
import { bundleExec, type FakeNodeOptions } from './server/fake-node.js';

let server: TestApiServer;
let bundle: LoadedBundle;
let kubeconfig: string;
let snapshot: string;
const fake: FakeNodeOptions = {};
/** What the fake node does with a probe command ('refuse' as a node without python3 would). */
let probeMode: 'refuse' | 'hang' = 'refuse';

/** A node whose debug image cannot run the probe. */
const probeRefused: ExecHandler = async (_ctx, io) => {
  io.stderr('the debug image has no python3\n');
  return 3;
};

const debugPods = () =>
  server.objects('Pod').filter((p) => String(p.metadata.name).startsWith('knet-collect-'));
/** The nodes knet created a debug pod on, sorted. */
const createdOn = () =>
  server.requests
    .filter((r) => r.method === 'POST' && r.path.endsWith('/pods'))
    .map((r) => String(r.body?.spec?.nodeName))
    .sort();
/** Every pod knet created was deleted, by name. */
function expectAllDeleted(): void {
  const created = server.requests.filter((r) => r.method === 'POST' && r.status === 201);
  const deleted = server.requests.filter((r) => r.method === 'DELETE');
  expect(debugPods()).toEqual([]);
  expect(deleted.length).toBe(created.length);
}

beforeAll(async () => {
  ({ server, bundle } = await serveBundle(undefined, {
    exec: async (ctx, io) => {
      if (ctx.command[3] !== 'knet-probe') return bundleExec(bundle.nodeFiles, fake)(ctx, io);
      if (probeMode === 'hang') await new Promise((r) => setTimeout(r, 60_000).unref());
      return probeRefused(ctx, io);
    },
  }));
  kubeconfig = server.kubeconfig();
  snapshot = path.join(tempDir('knet9-live-'), 'snap');
  const r = await runKnet(['snapshot', '-A', '-o', snapshot, '--collect-nodes', '--kubeconfig', kubeconfig]);
  expect(r.code).toBe(0);
  server.requests.length = 0;
}, 120_000);
afterAll(async () => {
  await server?.close();
  cleanupTemp();
});
afterEach(() => {
  server.requests.length = 0;
  server.forbid.length = 0;
  server.faults.length = 0;
  fake.broken = undefined;
  fake.onExec = undefined;
  probeMode = 'refuse';
});

/** Evidence names a node file by its place: in a bundle, below the bundle's path. */
const unprefixed = (text: string) => text.split(`${snapshot}:`).join('').split(`${snapshot}/`).join('');
const live = (args: string[]) => runKnet([...args, '--kubeconfig', kubeconfig]);

describe('trace --collect-nodes', () => {
  const TRACE = ['trace', 'pod/shop/web-1', 'svc/shop/cart', '-n', 'shop'];

  it('gives the snapshot’s verdict and findings, collecting only the path’s nodes', async () => {
    const offline = await runKnet([...TRACE, '--json', '--snapshot', snapshot]);
    server.requests.length = 0;
    const r = await live([...TRACE, '--json', '--collect-nodes']);
    const doc = JSON.parse(r.stdout);
    const want = JSON.parse(unprefixed(offline.stdout));
    expect(doc.verdict).toBe(want.verdict);
    expect(doc.findings).toEqual(want.findings);
    expect(doc.paths).toEqual(want.paths);
    expect(r.code).toBe(offline.code);
    // The snapshot decides this trace: the live one must too, with the same node data.
    expect(doc.verdict).not.toBe('unknown');
    // web-1 is on node-1, cart's backends on node-1 and node-2: not the control plane.
    expect(createdOn()).toEqual(['node-1', 'node-2']);
    expect(r.stderr).toMatch(/collecting node files of node-1, node-2 \(debug pods in namespace default/);
    expectAllDeleted();
  });

  it('a path on one node: one debug pod', async () => {
    const r = await live(['trace', 'pod/shop/web-1', 'pod/shop/cart-2:8080', '--json', '--collect-nodes']);
    expect(JSON.parse(r.stdout).source.node).toBe('node-1');
    expect(createdOn()).toEqual(['node-1']);
    expectAllDeleted();
  });

  it('without it, says under the verdict the command that settles the inferred hops', async () => {
    const r = await live(TRACE);
    expect(r.code).toBe(2);
    const lines = r.stdout.split('\n');
    const verdict = lines.findIndex((l) => l.startsWith('Verdict: UNKNOWN'));
    expect(lines[verdict + 1]).toBe(
      `settle the inferred hops: knet ${TRACE.join(' ')} --kubeconfig ${kubeconfig} --collect-nodes`,
    );
    expect(server.requests.filter((x) => x.method !== 'GET')).toEqual([]);
    // The command it names does settle them.
    const settled = await live([...TRACE, '--collect-nodes']);
    expect(settled.stdout).not.toContain('settle the inferred hops');
    expect(settled.stdout).not.toContain('(inferred)');
  });

  it('--save writes the bundle it used: the same trace offline', async () => {
    const dir = path.join(tempDir('knet9-save-'), 'used');
    const r = await live([...TRACE, '--json', '--collect-nodes', '--save', dir]);
    expect(r.stderr).toContain(`wrote ${dir}`);
    const saved = await readBundle(dir);
    expect(saved.nodeFiles.nodes().sort()).toEqual(['node-1', 'node-2']);
    const again = await runKnet([...TRACE, '--json', '--snapshot', dir]);
    expect(JSON.parse(again.stdout.split(`${dir}:`).join('')).findings).toEqual(
      JSON.parse(r.stdout).findings,
    );
  });

  it('a node that fails: the trace goes on without it, every debug pod deleted', async () => {
    fake.broken = { 'node-1': 'fail' };
    const r = await live([...TRACE, '--json', '--collect-nodes']);
    expect(r.stderr).toMatch(/warning: node node-1: the command failed in the debug pod/);
    const doc = JSON.parse(r.stdout);
    // node-1 (the source's) has no files: said, and its hops are inferred.
    expect(
      doc.paths.some((p: { hops: { node?: string; inferred?: boolean }[] }) =>
        p.hops.some((h) => h.node === 'node-1' && h.inferred),
      ),
    ).toBe(true);
    expect(doc.findings.map((f: { code: string }) => f.code)).toContain('NO_NODE_DATA');
    expect(createdOn()).toEqual(['node-1', 'node-2']);
    expectAllDeleted();
  });

  it('no permission to create pods: a warning naming it, and the static trace', async () => {
    server.forbid.push({ verb: 'create', resource: 'pods' });
    const r = await live([...TRACE, '--collect-nodes']);
    expect(r.stderr).toContain(
      'knet: warning: node files not collected: forbidden: cannot create pods in namespace default (see docs/rbac.md)',
    );
    expect(r.stdout).toMatch(/^Verdict: UNKNOWN/m);
    expect(debugPods()).toEqual([]);
  });

  it('SIGINT while a node is read: the debug pods are deleted, exit 130', async () => {
    fake.broken = { 'node-2': 'hang' };
    // node-1 is read at once; node-2's read hangs, with its debug pod running.
    const r = await interruptKnet(
      [...TRACE, '--collect-nodes', '--kubeconfig', kubeconfig],
      () => server.openSessions() > 0 && debugPods().some((p) => p.spec.nodeName === 'node-2'),
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted: deleted the debug pods knet-collect-\w+/);
    expectAllDeleted();
  }, 30_000);
});

describe('trace --probe: what is created, and what is left when it cannot run', () => {
  const TRACE = ['trace', 'pod/shop/web-1', 'svc/shop/cart', '-n', 'shop'];

  it('no permission to create pods: the permission named, the static trace printed', async () => {
    const before = await live([...TRACE, '--json']);
    server.forbid.push({ verb: 'create', resource: 'pods' });
    server.requests.length = 0;
    const r = await live([...TRACE, '--json', '--probe']);
    expect(r.stderr).toContain(
      'knet: warning: not probed: forbidden: cannot create pods in namespace default (see docs/rbac.md)',
    );
    const doc = JSON.parse(r.stdout);
    const { observed, agreement, ...rest } = doc;
    expect(rest).toEqual(JSON.parse(before.stdout));
    expect(observed).toMatchObject({
      attempts: 0,
      notProbed: expect.stringMatching(/^forbidden: cannot create pods/),
    });
    expect(agreement.agrees).toBeNull();
    expect(r.code).toBe(before.code);
    expect(debugPods()).toEqual([]);
  });

  it('a probe that fails on the node: said under the verdict, the debug pod deleted', async () => {
    const r = await live([...TRACE, '--probe']);
    const lines = r.stdout.split('\n');
    const v = lines.findIndex((l) => l.startsWith('Verdict:'));
    expect(lines[v + 1]).toMatch(
      /^observed: not probed \(the command failed in the debug pod: .*exit status 3 \(the debug image has no python3\)\)$/,
    );
    expect(createdOn()).toEqual(['node-1']);
    expectAllDeleted();
  });

  it('one debug pod, on the source’s node: privileged, hostPID, the pinned image', async () => {
    await live([...TRACE, '--probe', '--image', 'registry.local/netshoot:v0.13']);
    const post = server.requests.find((r) => r.method === 'POST');
    expect(post?.body.spec).toMatchObject({ nodeName: 'node-1', hostPID: true, hostNetwork: true });
    expect(post?.body.spec.containers[0]).toMatchObject({
      image: 'registry.local/netshoot:v0.13',
      securityContext: { privileged: true },
    });
    const exec = server.requests.find((r) => r.path.endsWith('/exec'));
    const command = exec?.query.getAll('command') ?? [];
    expect(command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(command[3]).toBe('knet-probe');
    const web1 = bundle.objects.find((o) => o.kind === 'Pod' && o.metadata.name === 'web-1');
    expect(command[4]).toBe(web1.metadata.uid);
    expect(JSON.parse(command[5])).toEqual({
      kind: 'tcp',
      host: '10.96.0.20',
      port: 80,
      count: 10,
      timeoutS: 2,
    });
    expectAllDeleted();
  });

  it('--probe-mode ephemeral: a patch of the source pod, no debug pod; a 403 names the permission', async () => {
    // Its own server: an ephemeral container stays in the pod's spec, as on a real cluster.
    const own = (await serveBundle(undefined, { exec: probeRefused })).server;
    const run = (args: string[]) => runKnet([...args, '--kubeconfig', own.kubeconfig()]);
    try {
      const r = await run([...TRACE, '--json', '--probe', '--probe-mode', 'ephemeral']);
      const patch = own.requests.find((x) => x.method === 'PATCH');
      expect(patch?.path).toBe('/api/v1/namespaces/shop/pods/web-1/ephemeralcontainers');
      const container = patch?.body.spec.ephemeralContainers[0];
      expect(container).toMatchObject({
        name: expect.stringMatching(/^knet-probe-\w+$/),
        image: 'nicolaka/netshoot:v0.13',
      });
      expect(container.securityContext).toBeUndefined();
      expect(own.requests.filter((x) => x.method === 'POST')).toEqual([]);
      // The probe ran in that container, without entering anything ("-").
      const exec = own.requests.find((x) => x.path.endsWith('/exec'));
      expect(exec?.path).toBe('/api/v1/namespaces/shop/pods/web-1/exec');
      expect(exec?.query.get('container')).toBe(container.name);
      expect(exec?.query.getAll('command')[4]).toBe('-');
      expect(JSON.parse(r.stdout).observed.notProbed).toMatch(/the debug image has no python3/);
      own.requests.length = 0;
      own.forbid.push({ verb: 'patch', resource: 'pods/ephemeralcontainers' });
      const denied = await run([...TRACE, '--probe', '--probe-mode', 'ephemeral']);
      expect(denied.stderr).toContain(
        'knet: warning: not probed: forbidden: cannot patch pods/ephemeralcontainers web-1 in namespace shop (see docs/rbac.md)',
      );
      expect(denied.stdout).toMatch(/^Verdict: /m);
    } finally {
      await own.close();
    }
  });

  it('nothing is created without --probe', async () => {
    await live(TRACE);
    expect(createdOn()).toEqual([]);
  });

  it('--probe-count is bounded (at most 100), --probe-timeout is a duration', async () => {
    const many = await live([...TRACE, '--probe', '--probe-count', '101']);
    expect(many.code).toBe(2);
    expect(many.stderr).toBe('knet: --probe-count must be from 1 to 100: 101\n');
    const bad = await live([...TRACE, '--probe', '--probe-timeout', 'soon']);
    expect(bad.stderr).toBe('knet: --probe-timeout must be a duration from 50ms to 30s: soon\n');
    expect(bad.code).toBe(2);
    expect(createdOn()).toEqual([]);
  });

  it('SIGINT while the attempts run: the debug pod is deleted, exit 130', async () => {
    probeMode = 'hang';
    const r = await interruptKnet(
      [...TRACE, '--probe', '--kubeconfig', kubeconfig],
      () => server.openSessions() > 0,
    );
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted: deleted the debug pods knet-collect-\w+/);
    expectAllDeleted();
  }, 30_000);
});

describe('proxy and doctor --collect-nodes', () => {
  it('proxy --node N --collect-nodes: that node only, the snapshot’s answer', async () => {
    const args = ['proxy', '--node', 'node-1', '--json'];
    const offline = await runKnet([...args, '--snapshot', snapshot]);
    server.requests.length = 0;
    const r = await live([...args, '--collect-nodes']);
    expect(createdOn()).toEqual(['node-1']);
    expect(r.stdout).toBe(unprefixed(offline.stdout));
    expect(r.code).toBe(offline.code);
    expectAllDeleted();
  });

  it('proxy --collect-nodes without --node: one line, nothing created', async () => {
    const r = await live(['proxy', '--collect-nodes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('knet: --collect-nodes on proxy needs --node NODE: the node whose rules to read\n');
    expect(createdOn()).toEqual([]);
  });

  it('doctor --collect-nodes --nodes: the set named, with their pods', async () => {
    const r = await live(['doctor', '-A', '--json', '--collect-nodes', '--nodes', 'node-2']);
    expect(createdOn()).toEqual(['node-2']);
    expect(r.stdout).not.toBe('');
    expectAllDeleted();
  });

  it('doctor --collect-nodes: every node (a bounded set), the snapshot’s answer', async () => {
    const offline = await runKnet(['doctor', '-A', '--json', '--snapshot', snapshot]);
    server.requests.length = 0;
    const r = await live(['doctor', '-A', '--json', '--collect-nodes']);
    expect(createdOn()).toEqual(['control-plane', 'node-1', 'node-2']);
    expect(r.stdout).toBe(unprefixed(offline.stdout));
    expectAllDeleted();
  });
});

describe('flags that need a live cluster', () => {
  it.each([
    [
      ['trace', 'pod/shop/web-1', 'svc/shop/cart', '--probe'],
      '--probe needs a live cluster: it makes real connections, which a snapshot cannot',
    ],
    [
      ['trace', 'pod/shop/web-1', 'svc/shop/cart', '--collect-nodes'],
      '--collect-nodes needs a live cluster: a snapshot holds the node files it was captured with',
    ],
    [
      ['proxy', '--node', 'node-1', '--collect-nodes'],
      '--collect-nodes needs a live cluster: a snapshot holds the node files it was captured with',
    ],
    [
      ['dns', 'cart', '--from', 'pod/shop/web-1', '--probe'],
      '--probe needs a live cluster: it makes real connections, which a snapshot cannot',
    ],
  ])('knet %s on a snapshot: exit 2, one line', async (args, message) => {
    const r = await runKnet([...args, '--snapshot', snapshot]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`knet: ${message}\n`);
  });

  it('the bundle of the snapshot is there (the refusals above are not about a missing file)', () => {
    expect(existsSync(snapshot)).toBe(true);
  });
});
