// The trace walks every namespace the packet crosses: each case copies the demo bundle
// (captured from real namespaces), changes the one node file the case is about the way the
// real tool would print it, and checks knet's verdict, the finding and where it bites. The
// kernel's side of the same faults is in the lab (test/lab/fault-matrix.test.ts).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { traceConnection } from '../../src/analyses/trace/trace.js';
import type { TraceResult, TraceTarget } from '../../src/analyses/trace/types.js';
import { buildModel } from '../../src/model/build.js';
import { DEMO_BUNDLE, readBundle } from '../../src/sources/bundle/read.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of the demo bundle with `edit` applied to its files. */
async function demoWith(
  edit: (file: (rel: string) => string) => void,
): Promise<ReturnType<typeof buildModel>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'knet-walk-'));
  dirs.push(dir);
  cpSync(DEMO_BUNDLE, dir, { recursive: true });
  edit((rel) => path.join(dir, rel));
  const b = await readBundle(dir);
  return buildModel(b.raws, b.nodeFiles);
}

const FRONTEND = { kind: 'pod' as const, namespace: 'shop', name: 'frontend-9zd29xl7v-27thn' }; // demo-worker
const CART_SVC = { kind: 'svc' as const, namespace: 'shop', name: 'cart' };
const CART_REMOTE = { kind: 'pod' as const, namespace: 'shop', name: 'cart-b5lsxj67p-kb2pr' }; // demo-worker2, 10.244.2.5
const CART_REMOTE_IP = '10.244.2.5';
const W2 = 'nodes/demo-worker2';

const trace = (model: ReturnType<typeof buildModel>, destination: TraceTarget = CART_SVC, port?: number) =>
  traceConnection(model, { source: FRONTEND, destination, port });
const remotePath = (r: TraceResult) => r.paths.find((p) => p.to?.ip === CART_REMOTE_IP)!;
const codes = (r: TraceResult) => r.findings.map((f) => f.code);

/** Inserts rule lines at the top of a chain's rules in an iptables-save table. */
function insertRules(file: string, table: string, chain: string, lines: string[]): void {
  const text = readFileSync(file, 'utf8').split('\n');
  const start = text.indexOf(`*${table}`);
  let i = text.findIndex((l, j) => j > start && (l.startsWith('-A ') || l === 'COMMIT'));
  if (!text.slice(start).some((l) => l.startsWith(`:${chain} `))) throw new Error(`no chain ${chain}`);
  text.splice(i, 0, ...lines.map((l) => l.replace('CHAIN', chain)));
  i++;
  writeFileSync(file, text.join('\n'));
}

describe('the destination node runs its own netfilter', () => {
  it('a foreign DROP in its FORWARD chain (direct and after DNAT): that path is broken there', async () => {
    const model = await demoWith((f) =>
      insertRules(f(`${W2}/iptables-save.txt`), 'filter', 'FORWARD', [
        `-A CHAIN -d ${CART_REMOTE_IP}/32 -p tcp -m tcp --dport 8080 -j DROP`,
      ]),
    );
    const viaService = trace(model);
    expect(viaService.verdict).toBe('partial');
    const broken = remotePath(viaService);
    expect(broken.verdict).toBe('unreachable');
    const drop = broken.hops.find((h) => h.status === 'broken')!;
    expect(drop).toMatchObject({ kind: 'drop', node: 'demo-worker2' });
    expect(drop.detail).toContain(`-A FORWARD -d ${CART_REMOTE_IP}/32`);
    const f = viaService.findings.find((x) => x.code === 'FILTER_DROP')!;
    expect(f.objects).toEqual(['node/demo-worker2']);
    expect(f.message).toMatch(/filter FORWARD/);

    const direct = trace(model, CART_REMOTE, 8080);
    expect(direct.verdict).toBe('unreachable');
    expect(codes(direct)).toContain('FILTER_DROP');
  });

  it('a drop in a non-kube-proxy nftables table with a forward hook', async () => {
    const model = await demoWith((f) =>
      writeFileSync(
        f(`${W2}/nft.json`),
        JSON.stringify({
          nftables: [
            { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
            { table: { family: 'inet', name: 'filter', handle: 1 } },
            {
              chain: {
                family: 'inet',
                table: 'filter',
                name: 'forward',
                handle: 1,
                type: 'filter',
                hook: 'forward',
                prio: 0,
                policy: 'accept',
              },
            },
            {
              rule: {
                family: 'inet',
                table: 'filter',
                chain: 'forward',
                handle: 2,
                expr: [
                  {
                    match: {
                      op: '==',
                      left: { payload: { protocol: 'ip', field: 'daddr' } },
                      right: CART_REMOTE_IP,
                    },
                  },
                  {
                    match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 8080 },
                  },
                  { drop: null },
                ],
              },
            },
          ],
        }),
      ),
    );
    const r = trace(model);
    expect(r.verdict).toBe('partial');
    const drop = remotePath(r).hops.find((h) => h.status === 'broken')!;
    expect(drop).toMatchObject({ kind: 'drop', node: 'demo-worker2' });
    expect(r.findings.find((x) => x.code === 'FILTER_DROP')?.message).toMatch(/inet filter forward/);
  });

  it("without the destination node's rules, that hop is unknown, not OK", async () => {
    const model = await demoWith((f) => rmSync(f(`${W2}/iptables-save.txt`)));
    const r = trace(model);
    expect(remotePath(r).verdict).toBe('unknown');
    expect(remotePath(r).hops.find((h) => h.status === 'unknown')).toMatchObject({
      kind: 'filter',
      node: 'demo-worker2',
      inferred: true,
    });
    expect(r.verdict).not.toBe('reachable');
  });

  it('rp_filter=1 with the route back to the source on another interface: RP_FILTER_DROP', async () => {
    const model = await demoWith((f) => {
      const sysctl = f(`${W2}/sysctl.txt`);
      writeFileSync(
        sysctl,
        `${readFileSync(sysctl, 'utf8')
          .split('\n')
          .filter((l) => !/^net\.ipv4\.conf\.(all|eth0)\.rp_filter/.test(l))
          .join('\n')}\nnet.ipv4.conf.all.rp_filter = 1\nnet.ipv4.conf.eth0.rp_filter = 1\n`,
      );
      const routes = JSON.parse(readFileSync(f(`${W2}/ip-route.json`), 'utf8')) as Record<string, unknown>[];
      const back = routes.find((r) => r.dst === '10.244.1.0/24')!;
      back.dev = 'cni0';
      delete back.gateway;
      writeFileSync(f(`${W2}/ip-route.json`), JSON.stringify(routes));
    });
    const r = trace(model);
    const hop = remotePath(r).hops.find((h) => h.status === 'broken')!;
    expect(hop).toMatchObject({ kind: 'filter', node: 'demo-worker2', findings: ['RP_FILTER_DROP'] });
  });
});

describe('kube-proxy shares', () => {
  it('a KUBE-SEP chain without its DNAT: that share is its own broken path, the verdict partial', async () => {
    let removed = '';
    const model = await demoWith((f) => {
      const file = f('nodes/demo-worker/iptables-save.txt');
      const lines = readFileSync(file, 'utf8').split('\n');
      // The SVC chain's last endpoint (no statistic match) is the one whose share falls through.
      const svcJumps = lines.filter((l) => /^-A KUBE-SVC-\S+ .*shop\/cart.*-j KUBE-SEP-/.test(l));
      const lastSep = /-j (KUBE-SEP-\S+)/.exec(svcJumps.at(-1)!)![1];
      const i = lines.findIndex((l) => l.startsWith(`-A ${lastSep} `) && l.includes('-j DNAT'));
      removed = lines[i];
      lines.splice(i, 1);
      writeFileSync(file, lines.join('\n'));
    });
    expect(removed).toContain('DNAT');
    const r = trace(model);
    expect(r.verdict).toBe('partial');
    const lost = r.paths.find((p) => p.hops.some((h) => h.findings?.includes('PROXY_DNAT_MISSING')))!;
    expect(lost.probability).toBe(0.5);
    expect(lost.verdict).toBe('unreachable');
    expect(r.paths.filter((p) => p.verdict === 'reachable')).toHaveLength(1);
  });
});

describe("the destination pod's own namespace and socket", () => {
  const podDir = `${W2}/pods/shop_cart-b5lsxj67p-kb2pr`;

  it('a DROP in the pod’s own INPUT chain', async () => {
    const model = await demoWith((f) =>
      writeFileSync(
        f(`${podDir}/iptables-save.txt`),
        [
          '# Generated by iptables-save v1.8.9 (nf_tables) on Sat Dec  5 12:00:00 2026',
          '*filter',
          ':INPUT ACCEPT [0:0]',
          ':FORWARD ACCEPT [0:0]',
          ':OUTPUT ACCEPT [0:0]',
          '-A INPUT -p tcp -m tcp --dport 8080 -j DROP',
          'COMMIT',
          '# Completed on Sat Dec  5 12:00:00 2026',
          '',
        ].join('\n'),
      ),
    );
    const r = trace(model, CART_REMOTE, 8080);
    expect(r.verdict).toBe('unreachable');
    const f = r.findings.find((x) => x.code === 'FILTER_DROP')!;
    expect(f.objects).toEqual(['pod/shop/cart-b5lsxj67p-kb2pr']);
  });

  it('a pod whose main table was flushed: the SYN arrives, the reply cannot leave', async () => {
    const model = await demoWith((f) => writeFileSync(f(`${podDir}/ip-route.json`), '[]\n'));
    const r = trace(model, CART_REMOTE, 8080);
    expect(r.verdict).toBe('unreachable');
    expect(codes(r)).toContain('REPLY_ROUTE_MISSING');
  });

  it('a port nobody declares, without socket data: unknown, naming ss.txt', async () => {
    const model = await demoWith((f) => rmSync(f(`${podDir}/ss.txt`)));
    const r = trace(model, CART_REMOTE, 9999);
    expect(r.verdict).toBe('unknown');
    const f = r.findings.find((x) => x.code === 'NO_NODE_DATA')!;
    expect(f.evidence?.join()).toMatch(/shop_cart-b5lsxj67p-kb2pr\/ss\.txt/);
    // A declared port without socket data is inferred from the spec.
    const declared = trace(model, CART_REMOTE, 8080);
    expect(declared.verdict).toBe('reachable');
    expect(declared.paths[0].hops.at(-1)).toMatchObject({ kind: 'pod', inferred: true });
  });

  it('with socket data and no listener: POD_PORT_NOT_LISTENING', async () => {
    const model = await demoWith(() => undefined);
    const r = trace(model, CART_REMOTE, 9999);
    expect(r.verdict).toBe('unreachable');
    expect(codes(r)).toContain('POD_PORT_NOT_LISTENING');
  });
});

describe('missing data is unknown', () => {
  it('no node files and no EndpointSlices: the backend hop is unknown, not "none ready"', async () => {
    const model = await demoWith((f) => {
      rmSync(f('nodes'), { recursive: true });
      rmSync(f('cluster'), { recursive: true }); // the edges' objects carry slices of their own
      const list = JSON.parse(readFileSync(f('cluster.json'), 'utf8')) as { items: { kind: string }[] };
      list.items = list.items.filter((o) => o.kind !== 'EndpointSlice' && o.kind !== 'Endpoints');
      writeFileSync(f('cluster.json'), JSON.stringify(list));
    });
    const r = trace(model);
    expect(r.verdict).toBe('unknown');
    expect(codes(r)).not.toContain('SVC_NO_READY_ENDPOINTS');
    expect(r.notes.join(' ')).toMatch(/no EndpointSlices/);
  });
});
