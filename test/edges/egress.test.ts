// Egress from a pod to an outside address, on node files captured from the egress lab
// (test/fixtures/edges/egress/): the masquerade rule that applies, or its absence, the filter,
// the route, and the egress NetworkPolicy on the way.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { egressPlan } from '../../src/analyses/node-health/egress.js';
import { egressModel, FIXTURES, type NodeFileMap, readNodeFiles } from './models.js';

const files = (variant: string) => readNodeFiles(path.join(FIXTURES, 'egress', variant));
const plan = (f: NodeFileMap, destination = '203.0.113.10', extra: unknown[] = []) => {
  const model = egressModel(f, extra);
  return egressPlan(model, model.pod('shop', 'web')!, { destination, port: 8080 });
};
const hops = (p: ReturnType<typeof plan>) => p.hops.map((h) => `${h.kind}:${h.status}`);

describe('egress from a pod', () => {
  it('names the masquerade rule, the address replies come back to, and the default route', () => {
    const p = plan(files('masquerade'));
    expect(p.masquerade).toBe(true);
    expect(p.masqueradeRule).toBe(
      '-A FLANNEL-POSTRTG -s 10.244.0.0/16 ! -d 224.0.0.0/4 -m comment --comment "flanneld masq" -j MASQUERADE --random-fully',
    );
    expect(p.translatedSource).toBe('172.18.0.2');
    expect(p.route).toBe('default via 172.18.0.1 dev eth0');
    expect(hops(p)).toEqual(['policy:ok', 'masquerade:ok', 'route:ok', 'external:ok']);
    expect(p.findings).toEqual([]);
  });

  it('says so when no rule masquerades: EGRESS_NOT_MASQUERADED, verdict unknown', () => {
    const p = plan(files('no-masquerade'));
    expect(p.masquerade).toBe(false);
    expect(p.findings.map((f) => f.code)).toEqual(['EGRESS_NOT_MASQUERADED']);
    expect(p.findings[0].evidence).toEqual([
      'nodes/node-1/iptables-save.txt: no MASQUERADE/SNAT rule in POSTROUTING matches 10.244.1.5 → 203.0.113.10',
    ]);
    expect(hops(p)).toEqual(['policy:ok', 'snat:unknown', 'route:ok', 'external:unknown']);
  });

  it('stops at a firewall drop with the rule that decided', () => {
    const p = plan(files('forward-drop'));
    expect(p.findings.map((f) => f.code)).toEqual(['FILTER_DROP']);
    expect(p.hops.at(-1)).toMatchObject({
      kind: 'drop',
      status: 'broken',
      detail: '-P FORWARD DROP (policy of filter FORWARD)',
    });
    // The same node lets the pod reach the private network its ACCEPT rule names.
    const inside = plan(files('forward-drop'), '10.1.2.3');
    expect(inside.findings.map((f) => f.code)).toEqual([]);
    expect(inside.masquerade).toBe(true);
  });

  it('does not ask for masquerade toward cluster addresses', () => {
    const p = plan(files('no-masquerade'), '10.244.1.9');
    expect(p.findings).toEqual([]);
    expect(p.notes[0]).toContain('belongs to the cluster');
  });

  it('reports a missing route (no default route on the node)', () => {
    const f = files('masquerade');
    const routes = JSON.parse(f['node-1']['ip-route.json']).filter(
      (r: { dst: string }) => r.dst !== 'default',
    );
    f['node-1']['ip-route.json'] = JSON.stringify(routes);
    const p = plan(f);
    expect(p.findings.map((x) => x.code)).toEqual(['ROUTE_MISSING']);
    expect(p.findings[0].message).toContain('no default route');
  });

  it('applies egress NetworkPolicy on the way', () => {
    const deny = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'egress-internal-only', namespace: 'shop' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
      },
    };
    const p = plan(files('masquerade'), '203.0.113.10', [deny]);
    expect(p.findings.map((f) => f.code)).toContain('POLICY_DENIED_EGRESS');
    expect(p.hops[0]).toMatchObject({ kind: 'policy', status: 'broken' });
    expect(p.hops[0].detail).toContain('isolated by');
    const allowed = plan(files('masquerade'), '10.1.2.3', [deny]);
    expect(allowed.hops[0]).toMatchObject({ kind: 'policy', status: 'ok' });
  });

  it('is unknown, not OK, without the node files', () => {
    const p = plan({});
    expect(p.masquerade).toBeNull();
    expect(p.findings.map((f) => f.code)).toEqual(['NO_NODE_DATA']);
    expect(hops(p)).toEqual(['policy:ok', 'masquerade:unknown', 'route:unknown', 'external:unknown']);
  });
});

describe('egress: what counts as inside the cluster', () => {
  it("includes kube-proxy's clusterCIDR, not only the nodes' pod CIDRs", () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-proxy', namespace: 'kube-system' },
      data: {
        'config.conf':
          'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nclusterCIDR: 10.244.0.0/16\nmode: iptables\n',
      },
    };
    expect(plan(files('no-masquerade'), '10.244.7.7').findings.map((f) => f.code)).toEqual([
      'EGRESS_NOT_MASQUERADED',
    ]);
    expect(plan(files('no-masquerade'), '10.244.7.7', [cm]).findings).toEqual([]);
  });
});
