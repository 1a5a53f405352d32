// Bundles derived from the demo with one change each (meta.json "base": "demo"): only the
// files a change touches are written.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, writeBundle } from '../support/cli.js';

const DEMO = path.join(ROOT, 'examples', 'demo');
const NODES = ['demo-control-plane', 'demo-worker', 'demo-worker2'];
// biome-ignore lint/suspicious/noExplicitAny: raw Kubernetes objects
type Raw = any;

const demoObjects = (): Raw[] => JSON.parse(readFileSync(path.join(DEMO, 'cluster.json'), 'utf8')).items;
const demoFile = (rel: string) => readFileSync(path.join(DEMO, rel), 'utf8');
const isCart = (o: Raw, kind: string) =>
  o.kind === kind &&
  o.metadata.namespace === 'shop' &&
  (o.metadata.name === 'cart' || o.metadata.labels?.['kubernetes.io/service-name'] === 'cart');

/** A derived bundle: the demo's objects after `edit`, plus `files` (rel path → text). */
function derived(edit: (items: Raw[]) => Raw[] | undefined, files: Record<string, string> = {}): string {
  const items = edit(demoObjects()) ?? demoObjects();
  return writeBundle(items, { 'meta.json': JSON.stringify({ base: 'demo' }), ...files });
}

const iptables = (node: string) => `nodes/${node}/iptables-save.txt`;

export const CHANGES = {
  /** svc/shop/cart selects app: carts; the controller empties its slices; kube-proxy REJECTs. */
  selectorTypo: () =>
    derived(
      (items) => {
        for (const o of items) {
          if (isCart(o, 'Service')) o.spec.selector = { app: 'carts' };
          if (isCart(o, 'EndpointSlice')) o.endpoints = [];
          if (isCart(o, 'Endpoints')) o.subsets = [];
        }
        return items;
      },
      Object.fromEntries(
        NODES.map((n) => {
          const lines = demoFile(iptables(n)).split('\n');
          const chains = new Set(
            lines
              .filter((l) => l.includes('"shop/cart:http'))
              .map((l) => l.split(' ')[1])
              .filter((c) => /^KUBE-(SVC|SEP)-/.test(c)),
          );
          const kept = lines.filter(
            (l) =>
              !l.includes('"shop/cart:http') && !(l.startsWith(':') && chains.has(l.slice(1).split(' ')[0])),
          );
          const at = kept.indexOf('COMMIT');
          kept.splice(
            at,
            0,
            '-A KUBE-SERVICES -d 10.96.112.40/32 -p tcp -m comment --comment "shop/cart:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
          );
          return [iptables(n), kept.join('\n')];
        }),
      ),
    ),
  /** svc/shop/cart targets port 9090, where the cart pods do not listen. */
  targetPort: () =>
    derived(
      (items) => {
        for (const o of items) {
          if (isCart(o, 'Service')) o.spec.ports[0].targetPort = 9090;
          if (isCart(o, 'EndpointSlice')) for (const p of o.ports) p.port = 9090;
          if (isCart(o, 'Endpoints')) for (const s of o.subsets ?? []) for (const p of s.ports) p.port = 9090;
        }
        return items;
      },
      Object.fromEntries(
        NODES.map((n) => [
          iptables(n),
          demoFile(iptables(n))
            .split('\n')
            .map((l) => (l.includes('"shop/cart:http') ? l.replace(/:8080\b/g, ':9090') : l))
            .join('\n'),
        ]),
      ),
    ),
  /** A NetworkPolicy admits only checkout to the cart pods (= examples/demo-after). */
  policyAdded: () => path.join(ROOT, 'examples', 'demo-after'),
  /** demo-worker lost its route to demo-worker2's pod CIDR. */
  routeRemoved: () =>
    derived(() => undefined, {
      'nodes/demo-worker/ip-route.json': JSON.stringify(
        JSON.parse(demoFile('nodes/demo-worker/ip-route.json')).filter((r: Raw) => r.dst !== '10.244.2.0/24'),
      ),
    }),
  /** kube-proxy's jump to svc/shop/cart's chain is gone from demo-worker. */
  proxyRuleDeleted: () =>
    derived(() => undefined, {
      [iptables('demo-worker')]: demoFile(iptables('demo-worker'))
        .split('\n')
        .filter((l) => !(l.startsWith('-A KUBE-SERVICES -d 10.96.112.40/32') && l.includes('KUBE-SVC-')))
        .join('\n'),
    }),
  /** CoreDNS serves only kube-system and default: names in shop get NXDOMAIN. */
  corednsChanged: () =>
    derived((items) => {
      for (const o of items)
        if (o.kind === 'ConfigMap' && o.metadata.name === 'coredns')
          o.data.Corefile = o.data.Corefile.replace(
            'pods insecure\n',
            'pods insecure\n       namespaces kube-system default\n',
          );
      return items;
    }),
  /** The demo's objects alone (no base, no node files): a trace cannot tell. */
  withoutNodeFiles: () =>
    writeBundle(demoObjects(), { 'cluster/edges.json': demoFile('cluster/edges.json') }),
  /** ing/shop/shop sends /cart to a Service named carts (there is none). */
  ingressRenamed: () =>
    derived(() => undefined, {
      'cluster/edges.json': renameCartBackend(demoFile('cluster/edges.json')),
    }),
  /** httproute/shop/store sends /pay to port 8443 of payments-api (it was 443). */
  httpRoutePort: () =>
    derived(() => undefined, {
      'cluster/edges.json': editEdges((items) => {
        const route = items.find((o) => o.kind === 'HTTPRoute' && o.metadata.name === 'store');
        for (const rule of route.spec.rules)
          for (const b of rule.backendRefs ?? []) if (b.namespace === 'payments') b.port = 8443;
      }),
    }),
};

/** The demo's cluster/edges.json after `edit`. */
function editEdges(edit: (items: Raw[]) => void): string {
  const list = JSON.parse(demoFile('cluster/edges.json'));
  edit(list.items);
  return `${JSON.stringify(list, null, 1)}\n`;
}

/** The Ingress shop/shop's /cart path pointed at a Service named carts (there is none). */
function renameCartBackend(text: string): string {
  const list = JSON.parse(text) as { items: { kind: string; metadata: { name: string }; spec?: unknown }[] };
  const ing = list.items.find((o) => o.kind === 'Ingress' && o.metadata.name === 'shop') as {
    spec: { rules: { http: { paths: { path: string; backend: { service: { name: string } } }[] } }[] };
  };
  for (const rule of ing.spec.rules)
    for (const p of rule.http.paths) if (p.path === '/cart') p.backend.service.name = 'carts';
  return `${JSON.stringify(list, null, 1)}\n`;
}
