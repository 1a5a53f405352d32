// Every analysis gives the same answer live (through the API) and from a snapshot of the same
// cluster: the CLI's JSON documents and exit codes are compared byte for byte, for the fixture
// cluster and for the demo cluster (examples/demo) when it is there.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildObjects } from '../../src/model/build.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { ALL_KINDS, readLiveCluster } from '../../src/sources/kube/read.js';
import {
  cleanupTemp,
  DEMO_BUNDLE,
  FIXTURE_BUNDLE,
  runKnet,
  serveBundle,
  tempDir,
  writes,
} from './helpers.js';
import type { TestApiServer } from './server/apiserver.js';

interface Case {
  name: string;
  bundleDir: string;
  /** CLI invocations whose JSON must match (cluster flags are added). */
  commands: string[][];
}

const FIXTURE_COMMANDS = [
  ['pods', '-A', '--json'],
  ['nodes', '--json'],
  ['doctor', '-A', '--json'],
  ['endpoints', 'svc/shop/cart', '-n', 'shop', '--json'],
  ['endpoints', 'svc/monitoring/prom', '-n', 'monitoring', '--json'],
  ['policy', 'pod/shop/cart-1', 'pod/shop/db-0', '--port', '5432', '-n', 'shop', '--json'],
  ['trace', 'pod/shop/web-1', 'svc/shop/cart', '-n', 'shop', '--json'],
];

const cases: Case[] = [
  { name: 'the fixture cluster', bundleDir: FIXTURE_BUNDLE, commands: FIXTURE_COMMANDS },
];
const demo =
  existsSync(path.join(DEMO_BUNDLE, 'cluster.json')) || existsSync(path.join(DEMO_BUNDLE, 'cluster'));
if (demo) {
  cases.push({
    name: 'the demo cluster (examples/demo)',
    bundleDir: DEMO_BUNDLE,
    commands: [
      ['pods', '-A', '--json'],
      ['nodes', '--json'],
      ['doctor', '-A', '--json'],
      ['endpoints', 'svc/shop/cart', '-n', 'shop', '--json'],
      ['endpoints', 'svc/shop/checkout', '-n', 'shop', '--json'],
      [
        'policy',
        'pod/shop/checkout-ghjktxjlh-sr94d',
        'pod/payments/payments-api-gdl8tdvf4-hzw65',
        '--port',
        '8443',
        '-n',
        'shop',
        '--json',
      ],
      ['trace', 'pod/shop/frontend-9zd29xl7v-27thn', 'svc/shop/cart', '-n', 'shop', '--json'],
    ],
  });
} else {
  console.warn('equivalence.test.ts: examples/demo is not there yet; only the fixture cluster is compared');
}

describe.each(cases)('live == snapshot: $name', ({ bundleDir, commands }) => {
  let server: TestApiServer;
  let kubeconfig: string;
  let snapshot: string;

  beforeAll(async () => {
    ({ server } = await serveBundle(bundleDir));
    kubeconfig = server.kubeconfig();
    snapshot = path.join(tempDir('knet9-eq-'), 'snap.tar.gz');
    const r = await runKnet(['snapshot', '-A', '-o', snapshot, '--kubeconfig', kubeconfig]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    cleanupTemp();
  });

  it('the snapshot holds the model of the live read', async () => {
    const live = await readLiveCluster({ kubeconfig, allNamespaces: true, kinds: [...ALL_KINDS] });
    const back = await readBundle(snapshot);
    expect(buildObjects(back.raws)).toEqual(buildObjects(live.raws));
  });

  it.for(commands.map((c) => [c.join(' '), c] as const))('knet %s', async ([, args]) => {
    const fromSnapshot = await runKnet([...args, '--snapshot', snapshot]);
    // A crash is a failure, never a skip (issue #20): the comparison below would prove nothing.
    expect(fromSnapshot.stderr).not.toMatch(/^knet: internal error/);
    server.requests.length = 0;
    const fromLive = await runKnet([...args, '--kubeconfig', kubeconfig]);
    expect(writes(server)).toEqual([]);
    expect(server.requests.length).toBeGreaterThan(0);
    // Evidence names where a node file would be: in a bundle, prefixed with the bundle's path.
    const unprefixed = (text: string) => text.split(`${snapshot}:`).join('');
    expect(fromLive.stderr).toBe(unprefixed(fromSnapshot.stderr));
    expect(fromLive.stdout).toBe(unprefixed(fromSnapshot.stdout));
    expect(fromLive.code).toBe(fromSnapshot.code);
    // An answer (exit 2 is trace's "unknown" verdict: it still prints its document).
    expect(JSON.parse(fromLive.stdout).apiVersion).toBe('knet/v1');
  });
});
