// Issue #23, on the built CLI: knet diff on pairs of bundles derived from the demo with one
// change each — the first differing hop and the causing change — and an identical pair.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Diff } from '../../src/analyses/diff/types.js';
import { knet, ROOT } from '../support/cli.js';
import { CHANGES } from './derive.js';

const FRONTEND = 'pod/shop/frontend-9zd29xl7v-27thn';

function diff(after: string, ...args: string[]) {
  const r = knet(['diff', 'demo', after, ...args, '--json']);
  expect(r.stderr).toBe('');
  const doc = JSON.parse(r.stdout) as Diff & { apiVersion: string; kind: string };
  expect(doc.apiVersion).toBe('knet/v1');
  expect(doc.kind).toBe('Diff');
  return { code: r.code, doc };
}

describe('knet diff SRC DST: the first differing hop and the change that caused it', () => {
  it('selector typo: reachable → unreachable at the DNAT hop (now a REJECT); selector, endpoints 2 → 0, kube-proxy on 3 nodes', () => {
    const { code, doc } = diff(CHANGES.selectorTypo(), FRONTEND, 'svc/shop/cart');
    expect(code).toBe(1);
    const t = doc.trace!;
    expect([t.old.verdict, t.new.verdict, t.change]).toEqual(['reachable', 'unreachable', 'broke']);
    expect(t.firstDifferingHop).toMatchObject({ index: 3, kind: 'reject', node: 'demo-worker' });
    expect(t.firstDifferingHop!.old!.kind).toBe('dnat');
    expect(t.causes).toContain('svc/shop/cart changed: selector.app cart → carts');
    expect(t.causes).toContain('svc/shop/cart: ready endpoints 2 → 0 (port 80/TCP)');
    expect(t.causes).toContain(
      'kube-proxy on 3 nodes (demo-control-plane, demo-worker, demo-worker2) now rejects 10.96.112.40:80/TCP (before: DNATs to 2 endpoints)',
    );
  });

  it('targetPort change: the DNAT hop now sends to :9090', () => {
    const { code, doc } = diff(CHANGES.targetPort(), FRONTEND, 'svc/shop/cart');
    expect(code).toBe(1);
    const hop = doc.trace!.firstDifferingHop!;
    expect(hop).toMatchObject({ index: 3, kind: 'dnat' });
    expect(hop.new!.detail).toContain('10.244.1.6:9090');
    expect(doc.trace!.causes).toContain('svc/shop/cart changed: ports[0].targetPort http → 9090');
  });

  it('policy added: the policy hop of the destination node denies', () => {
    const { code, doc } = diff(CHANGES.policyAdded(), FRONTEND, 'svc/shop/cart');
    expect(code).toBe(1);
    expect(doc.trace!.firstDifferingHop).toMatchObject({ kind: 'policy' });
    expect(doc.trace!.firstDifferingHop!.new!.status).toBe('broken');
    expect(doc.trace!.causes).toEqual(['networkpolicy/shop/cart-allow-checkout added']);
  });

  it('node route removed: the path to demo-worker2 breaks at the route hop (partial)', () => {
    const { code, doc } = diff(CHANGES.routeRemoved(), FRONTEND, 'svc/shop/cart');
    expect(code).toBe(1);
    expect(doc.trace!.new.verdict).toBe('partial');
    expect(doc.trace!.firstDifferingHop).toMatchObject({ index: 4, kind: 'route', node: 'demo-worker' });
    expect(doc.trace!.causes).toContain(
      'node demo-worker ip-route.json: lost `10.244.2.0/24 via 172.18.0.4 dev eth0`',
    );
  });

  it('kube-proxy rule deleted: no DNAT on demo-worker', () => {
    const { code, doc } = diff(CHANGES.proxyRuleDeleted(), FRONTEND, 'svc/shop/cart');
    expect(code).toBe(1);
    expect(doc.trace!.firstDifferingHop).toMatchObject({ index: 3, kind: 'dnat', node: 'demo-worker' });
    expect(doc.trace!.firstDifferingHop!.new!.status).toBe('broken');
    expect(doc.trace!.causes.join('\n')).toContain(
      'node demo-worker iptables-save.txt: lost `-A KUBE-SERVICES -d 10.96.112.40/32',
    );
    expect(doc.trace!.causes).toContain(
      'kube-proxy on 1 node (demo-worker) now has no rule for 10.96.112.40:80/TCP (before: DNATs to 2 endpoints)',
    );
  });

  it('CoreDNS answer changed: the dns hop', () => {
    const { code, doc } = diff(CHANGES.corednsChanged(), 'deploy/shop/checkout', 'dns/cart.shop:80');
    expect(code).toBe(1);
    expect(doc.trace!.new).toMatchObject({ verdict: 'not-found', trace: null });
    expect(doc.trace!.new.error).toMatch(/^cart.shop does not resolve from pod shop\/checkout/);
    expect(doc.trace!.firstDifferingHop).toMatchObject({ index: 0, kind: 'dns', new: null });
    expect(doc.trace!.causes).toContain(
      'configmap/kube-system/coredns changed: data.Corefile `+ namespaces kube-system default`',
    );
  });

  it('Ingress backend renamed: the ingress controller hop proxies to svc/shop/carts', () => {
    const { code, doc } = diff(
      CHANGES.ingressRenamed(),
      'ip/203.0.113.7',
      'ing/shop/shop',
      '--path',
      '/cart',
    );
    expect(code).toBe(1);
    const hop = doc.trace!.firstDifferingHop!;
    expect(hop.new!.detail).toContain('svc/shop/carts');
    expect(doc.trace!.causes).toContain(
      'ing/shop/shop changed: rules[0].paths[0].backend.service.name cart → carts',
    );
  });

  it('an identical pair: no change, exit 0', () => {
    const { code, doc } = diff('demo', FRONTEND, 'svc/shop/cart');
    expect(code).toBe(0);
    expect(doc.trace!.change).toBe('same');
    expect(doc.trace!.firstDifferingHop).toBeNull();
    expect(doc.changes).toEqual([]);
  });
});

describe('knet diff without targets: the connectivity diff of the cluster', () => {
  it('an identical pair: nothing, exit 0', () => {
    const { code, doc } = diff('demo');
    expect(code).toBe(0);
    expect(doc.summary).toEqual({ broke: 0, fixed: 0, changed: 0 });
    expect(knet(['diff', 'demo', 'demo']).stdout).toContain('No connectivity change.');
  });

  it('selector typo: backends lost, kube-proxy REJECT on every node, findings appeared', () => {
    const { code, doc } = diff(CHANGES.selectorTypo());
    expect(code).toBe(1);
    expect(doc.changes[0]).toMatchObject({
      class: 'broke',
      kind: 'service-backends',
      subject: 'svc/shop/cart:http',
    });
    expect(doc.changes[0].text).toBe('endpoints 2 → 0; lost 10.244.1.6:8080, 10.244.2.5:8080');
    expect(doc.changes[0].causes).toContain('svc/shop/cart changed: selector.app cart → carts');
    const rejects = doc.changes.filter((c) => c.kind === 'proxy' && c.subject === 'PROXY_REJECT');
    expect(rejects.map((c) => c.finding!.objects.find((o) => o.startsWith('node/')))).toEqual([
      'node/demo-control-plane',
      'node/demo-worker',
      'node/demo-worker2',
    ]);
    expect(doc.changes.some((c) => c.kind === 'finding' && c.subject === 'SVC_LABEL_MISMATCH')).toBe(true);
    // Resolved findings come after what broke.
    const resolved = doc.changes.findIndex((c) => c.text.startsWith('resolved'));
    expect(resolved).toBeGreaterThan(doc.changes.findLastIndex((c) => c.class === 'broke'));
  });

  it('policy added: newly denied pairs with the deciding rule on each side', () => {
    const { code, doc } = diff(CHANGES.policyAdded());
    expect(code).toBe(1);
    const p = doc.changes.filter((c) => c.kind === 'policy');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({
      class: 'broke',
      old: 'allowed (not isolated)',
      new: 'denied: ingress isolated by shop/cart-allow-checkout, no rule admits it',
    });
    expect(p[0].pairs).toContain(`${FRONTEND} -> pod/shop/cart-b5lsxj67p-8rwhn:8080/TCP`);
    expect(p[0].pairs!.some((x) => x.startsWith('pod/shop/checkout'))).toBe(false);
    // -n shop limits it to pairs with an end in shop; --objects lists the object diff.
    const ns = diff(CHANGES.policyAdded(), '-n', 'payments').doc;
    expect(ns.changes.find((c) => c.kind === 'policy')?.pairs?.every((x) => x.includes('payments/'))).toBe(
      true,
    );
    expect(diff(CHANGES.policyAdded(), '--objects').doc.objects).toEqual([
      {
        ref: 'networkpolicy/shop/cart-allow-checkout',
        change: 'added',
        fields: [],
        summary: 'networkpolicy/shop/cart-allow-checkout added',
      },
    ]);
  });

  it('HTTPRoute backendRef port: the object diff compares the route as modelled', () => {
    expect(diff(CHANGES.httpRoutePort(), '--objects').doc.objects).toEqual([
      {
        ref: 'httproute/shop/store',
        change: 'changed',
        fields: [{ path: 'rules[1].backendRefs[0].port', old: 443, new: 8443 }],
        summary: 'httproute/shop/store changed: rules[1].backendRefs[0].port 443 → 8443',
      },
    ]);
  });

  it('route removed, CoreDNS changed, targetPort changed, kube-proxy rule deleted, Ingress renamed: each broke', () => {
    const routeDiff = diff(CHANGES.routeRemoved());
    expect(routeDiff.code).toBe(1);
    const route = routeDiff.doc.changes;
    expect(route).toEqual([
      expect.objectContaining({
        class: 'broke',
        kind: 'route',
        subject: 'node/demo-worker',
        text: 'lost route `10.244.2.0/24 via 172.18.0.4 dev eth0` (ip-route.json)',
      }),
    ]);
    const dnsDiff = diff(CHANGES.corednsChanged());
    expect(dnsDiff.code).toBe(1);
    const dns = dnsDiff.doc.changes.filter((c) => c.kind === 'dns');
    expect(dns.map((c) => c.subject)).toContain('cart.shop.svc.cluster.local A');
    expect(dns.find((c) => c.subject === 'cart.shop.svc.cluster.local A')).toMatchObject({
      class: 'broke',
      text: '10.96.112.40 → NXDOMAIN',
    });
    const port = diff(CHANGES.targetPort());
    expect(port.code).toBe(1);
    expect(port.doc.changes).toContainEqual(
      expect.objectContaining({ kind: 'service-ports', text: 'port 80→http → 80→9090 (TCP)' }),
    );
    // The backends are the same pods, but nothing in them listens on 9090 (their ss.txt): broke.
    expect(port.doc.changes[0]).toMatchObject({
      class: 'broke',
      kind: 'service-backends',
      subject: 'svc/shop/cart:http',
      text: 'endpoints 2 → 2; lost 10.244.1.6:8080, 10.244.2.5:8080; gained 10.244.1.6:9090, 10.244.2.5:9090; nothing listens on 10.244.1.6:9090, 10.244.2.5:9090 (ss.txt)',
    });
    const proxy = diff(CHANGES.proxyRuleDeleted());
    expect(proxy.code).toBe(1);
    expect(proxy.doc.changes).toEqual([
      expect.objectContaining({ class: 'broke', kind: 'proxy', subject: 'PROXY_RULES_MISSING' }),
    ]);
    expect(proxy.doc.changes[0].finding!.objects).toEqual(['svc/shop/cart', 'node/demo-worker']);
    expect(proxy.doc.changes[0].key).toBe(proxy.doc.changes[0].finding!.id);
    const ing = diff(CHANGES.ingressRenamed());
    expect(ing.code).toBe(1);
    expect(ing.doc.changes.map((c) => [c.class, c.kind, c.subject])).toEqual([
      ['broke', 'ingress', 'ing/shop/shop shop.example.com/cart'],
      ['broke', 'finding', 'INGRESS_BACKEND_NOT_FOUND'],
    ]);
    expect(ing.doc.changes[0]).toMatchObject({
      text: 'backend svc/shop/cart:80 (2 endpoints) → svc/shop/carts:80 (no such Service)',
      causes: ['ing/shop/shop changed: rules[0].paths[0].backend.service.name cart → carts'],
    });
  });

  it('arguments it cannot answer: exit 2 with one line', () => {
    expect(knet(['diff', 'live', 'live']).code).toBe(2);
    expect(knet(['diff', 'demo', 'demo', FRONTEND]).stderr).toMatch(/give both SOURCE and DESTINATION/);
    expect(knet(['diff', 'demo', '/nonexistent/bundle']).code).toBe(2);
    expect(knet(['diff', 'demo', 'demo', 'pod/shop/nope', 'svc/shop/cart']).code).toBe(2);
    // The demo's objects without its node files: the new trace is unknown, not "still works".
    const bare = CHANGES.withoutNodeFiles();
    const r = knet(['diff', 'demo', bare, FRONTEND, 'svc/shop/cart', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a trace verdict is unknown on one side/);
    expect((JSON.parse(r.stdout) as Diff).trace).toMatchObject({
      old: { verdict: 'reachable' },
      new: { verdict: 'unknown' },
      change: 'changed',
    });
  });
});

describe('docs/diff.md', () => {
  it('each worked example is what knet prints', () => {
    const doc = readFileSync(path.join(ROOT, 'docs', 'diff.md'), 'utf8');
    const examples = [...doc.matchAll(/```\n\$ knet (diff [^\n]+)\n([\s\S]*?)```/g)];
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const [, command, shown] of examples) {
      const r = knet(command.split(' '));
      expect(r.stdout, command).toBe(shown);
    }
  });
});
