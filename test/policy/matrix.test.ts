// knet policy --matrix: the index-driven matrix must give, cell by cell, the same verdict as
// evaluatePolicy, name the deciding rule of every allowed half and the isolating policies of
// every denied half, and check every declared port when no --port is given.
import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../src/analyses/policy/evaluate.js';
import { type PolicyMatrix, policyMatrix } from '../../src/analyses/policy/matrix.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import type { Raw } from '../../src/model/normalize.js';
import type { Protocol } from '../../src/model/types.js';
import { e2eObjects, egressRules, ingressRules, nsName, policy, policyMatchLabels } from './e2e-helpers.js';

/** Every cell of the matrix against the full evaluation of the same connection. */
function crossCheck(model: ClusterModel, m: PolicyMatrix): string[] {
  const wrong: string[] = [];
  for (const cell of m.cells) {
    if (cell.port === null) continue;
    const [fns, fname] = cell.from.split('/');
    const [tns, tname] = cell.to.split('/');
    const v = evaluatePolicy(model, {
      source: { kind: 'pod', pod: model.pod(fns, fname)! },
      destination: { kind: 'pod', pod: model.pod(tns, tname)! },
      port: cell.port,
      protocol: cell.protocol as Protocol,
    });
    if (v.allowed !== cell.allowed)
      wrong.push(`${cell.from} -> ${cell.to} ${cell.protocol}/${cell.port}: ${cell.allowed} vs ${v.allowed}`);
    const ex = (id: number | null) => (id === null ? undefined : m.explanations[id - 1]);
    for (const [half, id] of [
      [v.egress, cell.egress],
      [v.ingress, cell.ingress],
    ] as const) {
      const e = ex(id);
      if (!half.isolated) {
        if (e) wrong.push(`${cell.from} -> ${cell.to}: an explanation for a half that is not isolated`);
        continue;
      }
      if (!e) {
        wrong.push(`${cell.from} -> ${cell.to}: no explanation for an isolated half`);
        continue;
      }
      if (half.verdict === 'allowed' && half.allowedBy.length > 0) {
        if (e.policy !== half.allowedBy[0].policy || e.rule !== half.allowedBy[0].rule) {
          wrong.push(
            `${cell.from} -> ${cell.to}: decided by ${e.policy}[${e.rule}], full evaluation says ${half.allowedBy[0].policy}[${half.allowedBy[0].rule}]`,
          );
        }
      } else if (half.verdict === 'denied' && e.policies.join() !== half.policies.join()) {
        wrong.push(`${cell.from} -> ${cell.to}: denied by ${e.policies} vs ${half.policies}`);
      }
    }
  }
  return wrong;
}

describe('policyMatrix on the e2e topology', () => {
  it('"should support denying of egress traffic on the client side": matrix of y, and its explanations', () => {
    const model = buildModel([
      ...e2eObjects(),
      policyMatchLabels(
        'x',
        'allow-to-ns-y-pod-a',
        { pod: 'a' },
        egressRules({ to: [{ namespaceSelector: nsName('y'), podSelector: { matchLabels: { pod: 'a' } } }] }),
      ),
      policyMatchLabels(
        'y',
        'allow-from-xa-on-ya',
        { pod: 'a' },
        ingressRules({
          from: [{ namespaceSelector: nsName('x'), podSelector: { matchLabels: { pod: 'a' } } }],
        }),
      ),
      policyMatchLabels(
        'y',
        'allow-from-xa-on-yb',
        { pod: 'b' },
        ingressRules({
          from: [{ namespaceSelector: nsName('x'), podSelector: { matchLabels: { pod: 'a' } } }],
        }),
      ),
    ]);
    const m = policyMatrix(model, 'y', 80, 'TCP');
    expect(m.pods).toEqual(['y/a', 'y/b', 'y/c']);
    expect(m.cells).toHaveLength(9);
    const cell = (from: string, to: string) => m.cells.find((c) => c.from === from && c.to === to)!;
    // Within y: nothing reaches y/a or y/b (only x/a may), y/c is not isolated.
    expect(cell('y/b', 'y/a').allowed).toBe(false);
    expect(cell('y/c', 'y/b').allowed).toBe(false);
    expect(cell('y/a', 'y/c').allowed).toBe(true);
    expect(cell('y/a', 'y/c').ingress).toBeNull();
    const denied = m.explanations[cell('y/b', 'y/a').ingress! - 1];
    expect(denied).toMatchObject({
      direction: 'ingress',
      verdict: 'denied',
      policies: ['y/allow-from-xa-on-ya'],
    });
    expect(crossCheck(model, m)).toEqual([]);
  });

  it('names the deciding rule of allowed halves', () => {
    const model = buildModel([
      ...e2eObjects(),
      policy('x', 'deny-all', {}, ingressRules(), egressRules()),
      policyMatchLabels(
        'x',
        'a-to-b',
        { pod: 'a' },
        egressRules({ to: [{ podSelector: { matchLabels: { pod: 'b' } } }] }),
      ),
      policyMatchLabels(
        'x',
        'b-from-a',
        { pod: 'b' },
        ingressRules(
          { from: [{ podSelector: { matchLabels: { pod: 'c' } } }] },
          { from: [{ podSelector: { matchLabels: { pod: 'a' } } }], ports: [{ port: 'serve-80-tcp' }] },
        ),
      ),
    ]);
    const m = policyMatrix(model, 'x', 80, 'TCP');
    const c = m.cells.find((x) => x.from === 'x/a' && x.to === 'x/b')!;
    expect(c.allowed).toBe(true);
    expect(m.explanations[c.egress! - 1]).toMatchObject({ verdict: 'allowed', policy: 'x/a-to-b', rule: 0 });
    expect(m.explanations[c.ingress! - 1]).toMatchObject({
      verdict: 'allowed',
      policy: 'x/b-from-a',
      rule: 1,
    });
    expect(m.explanations[c.ingress! - 1].text).toBe(
      'allowed by x/b-from-a ingress[1]: from pods pod=a in namespace x, on TCP/serve-80-tcp (named port)',
    );
    expect(m.cells.find((x) => x.from === 'x/a' && x.to === 'x/b' && x.port === 81)).toBeUndefined();
    expect(crossCheck(model, m)).toEqual([]);
    // Without --port: every declared port of each destination (80, 81 × TCP, UDP, SCTP).
    const all = policyMatrix(model, 'x');
    expect(all.port).toBeNull();
    expect(
      all.cells
        .filter((x) => x.from === 'x/a' && x.to === 'x/b')
        .map((x) => `${x.protocol}/${x.port}:${x.allowed}`),
    ).toEqual([
      'SCTP/80:false',
      'TCP/80:true',
      'UDP/80:false',
      'SCTP/81:false',
      'TCP/81:false',
      'UDP/81:false',
    ]);
    expect(crossCheck(model, all)).toEqual([]);
  });
});

// A deterministic pseudo-random namespace: labels, policies with every kind of peer and port,
// and pods the fast path does not model (hostNetwork, no IP yet).
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomCluster(seed: number): Raw[] {
  const rnd = lcg(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const raws: Raw[] = [
    { kind: 'Namespace', metadata: { name: 'app', labels: { team: 'red' } } },
    { kind: 'Namespace', metadata: { name: 'ops', labels: { team: 'blue' } } },
    {
      kind: 'Node',
      metadata: { name: 'n1' },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] },
    },
    {
      kind: 'Node',
      metadata: { name: 'n2' },
      status: { addresses: [{ type: 'InternalIP', address: '172.18.0.3' }] },
    },
  ];
  const apps = ['web', 'api', 'db', 'cache'];
  for (let i = 0; i < 40; i++) {
    const app = pick(apps);
    const hostNetwork = i === 7;
    const pending = i === 11;
    raws.push({
      kind: 'Pod',
      metadata: {
        namespace: i < 32 ? 'app' : 'ops',
        name: `p${String(i).padStart(2, '0')}`,
        labels: { app, tier: pick(['fe', 'be']), ...(rnd() < 0.3 ? { canary: 'yes' } : {}) },
      },
      spec: {
        nodeName: i % 2 ? 'n1' : 'n2',
        hostNetwork,
        containers: [
          {
            name: 'c',
            ports: [
              { name: 'http', containerPort: pick([80, 8080]), protocol: 'TCP' },
              { name: 'dns', containerPort: 53, protocol: 'UDP' },
            ],
          },
        ],
      },
      status: pending
        ? { phase: 'Pending' }
        : {
            phase: 'Running',
            podIP: hostNetwork ? '172.18.0.2' : `10.1.${i >> 4}.${i}`,
            hostIP: '172.18.0.2',
          },
    });
  }
  const peers = (): Raw[] => {
    const out: Raw[] = [];
    const n = rnd() < 0.1 ? 0 : 1 + Math.floor(rnd() * 2);
    for (let k = 0; k < n; k++) {
      const kind = rnd();
      if (kind < 0.3) out.push({ podSelector: { matchLabels: { app: pick(apps) } } });
      else if (kind < 0.5) out.push({ namespaceSelector: { matchLabels: { team: pick(['red', 'blue']) } } });
      else if (kind < 0.7)
        out.push({
          namespaceSelector: {},
          podSelector: { matchExpressions: [{ key: 'canary', operator: pick(['Exists', 'DoesNotExist']) }] },
        });
      else
        out.push({
          ipBlock: { cidr: '10.1.0.0/16', except: [pick(['10.1.0.0/28', '10.1.1.0/24', '10.1.0.16/28'])] },
        });
    }
    return out;
  };
  const ports = (): Raw[] =>
    pick([
      [],
      [{ port: 80 }],
      [{ port: 'http' }],
      [{ port: 'http' }],
      [{ port: 8000, endPort: 8100 }],
      [{ protocol: 'UDP', port: 53 }],
      [{}],
    ]);
  for (let i = 0; i < 25; i++) {
    const types = pick([['Ingress'], ['Egress'], ['Ingress', 'Egress']]);
    const spec: Raw = {
      podSelector: rnd() < 0.2 ? {} : { matchLabels: { app: pick(apps) } },
      policyTypes: types,
    };
    if (types.includes('Ingress'))
      spec.ingress = Array.from({ length: Math.floor(rnd() * 2.5) }, () => ({
        from: peers(),
        ports: ports(),
      }));
    if (types.includes('Egress'))
      spec.egress = Array.from({ length: Math.floor(rnd() * 2.5) }, () => ({ to: peers(), ports: ports() }));
    raws.push({ kind: 'NetworkPolicy', metadata: { namespace: 'app', name: `np${i}` }, spec });
  }
  return raws;
}

describe('policyMatrix agrees with evaluatePolicy on generated namespaces', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: every cell on TCP/80, TCP/8050, UDP/53 and on declared ports`, () => {
      const model = buildModel(randomCluster(seed));
      let cells = 0;
      let denied = 0;
      for (const [port, protocol] of [
        [80, 'TCP'],
        [8050, 'TCP'],
        [53, 'UDP'],
        [undefined, 'TCP'],
      ] as const) {
        const m = policyMatrix(model, 'app', port, protocol);
        expect(crossCheck(model, m)).toEqual([]);
        cells += m.cells.length;
        denied += m.cells.filter((c) => c.allowed === false).length;
      }
      // The generated policies must really isolate: a matrix of all-allowed would prove nothing.
      expect(denied).toBeGreaterThan(cells / 10);
      expect(denied).toBeLessThan(cells);
    });
  }
});
