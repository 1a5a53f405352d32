// Issue #23: knet diff with the live cluster (the test API server serving the demo's objects)
// on one side and a bundle on the other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Diff } from '../../src/analyses/diff/types.js';
import { CHANGES } from '../diff/derive.js';
import { cleanupTemp, DEMO_BUNDLE, runKnet, serveBundle, writes } from './helpers.js';
import type { TestApiServer } from './server/apiserver.js';

let server: TestApiServer;
let kubeconfig: string;

beforeAll(async () => {
  ({ server } = await serveBundle(DEMO_BUNDLE));
  kubeconfig = server.kubeconfig();
}, 60_000);
afterAll(async () => {
  await server.close();
  cleanupTemp();
});

const parse = (stdout: string) => JSON.parse(stdout) as Diff;

describe('knet diff with live on one side', () => {
  it('the demo bundle against the same objects live: no change, exit 0, node files not compared', async () => {
    const r = await runKnet(['diff', 'demo', 'live', '--kubeconfig', kubeconfig, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = parse(r.stdout);
    expect(doc.changes).toEqual([]);
    expect(doc.new.origin).toMatch(/^context /);
    expect(doc.notes.join('\n')).toContain('only the old side has node files');
    expect(writes(server)).toEqual([]);
  });

  it('a known-good bundle with a selector typo against live: the backends came back (fixed, exit 0), and the reverse broke (exit 1)', async () => {
    const typo = CHANGES.selectorTypo();
    const fixed = await runKnet(['diff', typo, 'live', '--kubeconfig', kubeconfig, '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(parse(fixed.stdout).changes[0]).toMatchObject({
      class: 'fixed',
      kind: 'service-backends',
      subject: 'svc/shop/cart:http',
    });
    const broke = await runKnet(['diff', 'live', typo, '--kubeconfig', kubeconfig, '--json']);
    expect(broke.code, broke.stderr).toBe(1);
    const doc = parse(broke.stdout);
    expect(doc.changes[0]).toMatchObject({
      class: 'broke',
      text: 'endpoints 2 → 0; lost 10.244.1.6:8080, 10.244.2.5:8080',
    });
    expect(doc.changes[0].causes).toContain('svc/shop/cart changed: selector.app cart → carts');
  });
});
