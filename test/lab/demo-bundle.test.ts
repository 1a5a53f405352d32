// The demo bundle (examples/demo/, built by examples/build-demo.mjs): in sync with its
// generator, shaped like kubectl output, its node files real and consistent with its objects,
// and its planted breakages in place. No root needed.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ipForwarding } from '../../src/analyses/dataplane/sysctls.js';
import { cidrContains } from '../../src/core/ip.js';
import { buildModel } from '../../src/model/build.js';
import type { Raw } from '../../src/model/normalize.js';
import { parseIpAddr, parseIpLink, parseIpRoute, parseIpRule } from '../../src/parsers/iproute2.js';
import { parseSysctl } from '../../src/parsers/sysctl.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { DEMO_NODES, demoObjects } from './demo-cluster.js';

const DEMO = fileURLToPath(new URL('../../examples/demo/', import.meta.url));
const list = JSON.parse(readFileSync(join(DEMO, 'cluster.json'), 'utf8'));
const items: Raw[] = list.items;
// cluster.json plus what others add in cluster/*.yaml (the lab builds those too).
const bundle = await readBundle(DEMO);
const allPods: Raw[] = [...bundle.raws].filter((o) => o.kind === 'Pod');
const byKind = (kind: string) => items.filter((o) => o.kind === kind);
const named = (kind: string, ns: string, name: string) =>
  items.find((o) => o.kind === kind && o.metadata.namespace === ns && o.metadata.name === name);
const podsOf = (ns: string, app: string) =>
  byKind('Pod').filter((p) => p.metadata.namespace === ns && p.metadata.labels.app === app);
const sliceOf = (ns: string, svc: string) =>
  byKind('EndpointSlice').filter(
    (s) => s.metadata.namespace === ns && s.metadata.labels['kubernetes.io/service-name'] === svc,
  );
const nodeFile = (node: string, file: string) => readFileSync(join(DEMO, 'nodes', node, file), 'utf8');

function sizeOf(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    total += statSync(p).isDirectory() ? sizeOf(p) : statSync(p).size;
  }
  return total;
}

describe('demo bundle: objects', () => {
  it('is what the generator produces (plus the annotations flannel writes on nodes)', () => {
    const stripped = structuredClone(items);
    for (const o of stripped) {
      if (o.kind !== 'Node') continue;
      for (const k of Object.keys(o.metadata.annotations)) {
        if (k.startsWith('flannel.alpha.coreos.com/')) delete o.metadata.annotations[k];
      }
    }
    expect(stripped).toEqual(demoObjects());
    const node = byKind('Node').find((n) => n.metadata.name === 'demo-worker');
    expect(node.metadata.annotations['flannel.alpha.coreos.com/backend-type']).toBe('host-gw');
  });

  it('looks like `kubectl get -o json`: a v1 List of complete objects', () => {
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' } });
    for (const o of items) {
      expect(o.apiVersion, `${o.kind}`).toBeTruthy();
      expect(o.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(o.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    expect(new Set(items.map((o) => o.metadata.uid)).size).toBe(items.length);
    const counts = Object.fromEntries(
      [
        'Namespace',
        'Node',
        'Pod',
        'Service',
        'EndpointSlice',
        'Endpoints',
        'NetworkPolicy',
        'DaemonSet',
        'ConfigMap',
      ].map((k) => [k, byKind(k).length]),
    );
    expect(counts).toEqual({
      Namespace: 7,
      Node: 3,
      Pod: 20,
      Service: 10,
      EndpointSlice: 9,
      Endpoints: 9,
      NetworkPolicy: 3,
      DaemonSet: 2,
      ConfigMap: 2,
    });
  });

  it('has pods owned by ReplicaSets, a StatefulSet and DaemonSets, with full status', () => {
    for (const p of byKind('Pod')) {
      const owner = p.metadata.ownerReferences[0];
      expect(['ReplicaSet', 'StatefulSet', 'DaemonSet']).toContain(owner.kind);
      if (owner.kind === 'ReplicaSet') {
        expect(p.metadata.name.startsWith(`${owner.name}-`)).toBe(true);
        expect(owner.name.endsWith(`-${p.metadata.labels['pod-template-hash']}`)).toBe(true);
      }
      expect(p.status.phase).toBe('Running');
      expect(p.status.podIPs[0].ip).toBe(p.status.podIP);
      expect(p.status.containerStatuses).toHaveLength(p.spec.containers.length);
      const node = DEMO_NODES.find((n) => n.name === p.spec.nodeName)!;
      if (p.spec.hostNetwork) expect(p.status.podIP).toBe(node.ip);
      else expect(cidrContains(node.cidr, p.status.podIP)).toBe(true);
    }
    expect(
      byKind('Pod').filter((p) => p.metadata.namespace === 'kube-system' && !p.spec.hostNetwork),
    ).toHaveLength(2);
  });

  it('builds a model with the services kube-proxy and DNS need', () => {
    const model = buildModel(items);
    expect(model.service('kube-system', 'kube-dns')?.clusterIPs).toEqual(['10.96.0.10']);
    expect(model.service('shop', 'cart-redis')?.headless).toBe(true);
    expect(model.service('payments', 'stripe')?.type).toBe('ExternalName');
    expect(model.service('shop', 'frontend')?.loadBalancerIPs).toEqual(['172.18.255.200']);
    expect(model.service('monitoring', 'prometheus')?.ports[0].nodePort).toBe(30090);
    expect(model.configMap('kube-system', 'kube-proxy')?.data['config.conf']).toContain('mode: iptables');
    expect(model.daemonSets.map((d) => d.name).sort()).toEqual(['canal', 'kube-proxy']);
  });
});

describe('demo bundle: planted breakages', () => {
  it('(a) svc/shop/frontend selects app=fronted; the frontend pods are app=frontend', () => {
    expect(named('Service', 'shop', 'frontend').spec.selector).toEqual({ app: 'fronted' });
    expect(podsOf('shop', 'frontend')).toHaveLength(2);
    expect(podsOf('shop', 'fronted')).toHaveLength(0);
    const [slice] = sliceOf('shop', 'frontend');
    expect(slice.endpoints).toBeNull();
  });

  it('(b) svc/shop/catalog targets the named port http-api, which no catalog pod declares', () => {
    expect(named('Service', 'shop', 'catalog').spec.ports[0].targetPort).toBe('http-api');
    for (const p of podsOf('shop', 'catalog')) {
      expect(p.spec.containers.flatMap((c: Raw) => c.ports.map((cp: Raw) => cp.name))).toEqual([
        'http',
        'metrics',
      ]);
    }
    const [slice] = sliceOf('shop', 'catalog');
    expect(slice.endpoints).toHaveLength(2);
    expect(slice.ports).toBeNull();
  });

  it('(c) one cart pod runs but is not ready, and its slice entry says so', () => {
    const cart = podsOf('shop', 'cart');
    const unready = cart.filter(
      (p) => p.status.conditions.find((c: Raw) => c.type === 'Ready').status === 'False',
    );
    expect(cart).toHaveLength(3);
    expect(unready).toHaveLength(1);
    const entries = sliceOf('shop', 'cart').flatMap((s) => s.endpoints);
    const entry = entries.find((e: Raw) => e.targetRef.name === unready[0].metadata.name);
    expect(entry.conditions).toEqual({ ready: false, serving: false, terminating: false });
    expect(entries.filter((e: Raw) => e.conditions.ready)).toHaveLength(2);
  });

  it('(d) payments-api admits only app=checkout from shop, behind a default deny', () => {
    const allow = named('NetworkPolicy', 'payments', 'payments-api-allow-checkout');
    expect(allow.spec.ingress[0].from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'shop' } },
        podSelector: { matchLabels: { app: 'checkout' } },
      },
    ]);
    expect(named('NetworkPolicy', 'payments', 'default-deny-ingress').spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
    });
    expect(podsOf('shop', 'frontend').every((p) => p.metadata.labels.app !== 'checkout')).toBe(true);
  });
});

describe('demo bundle: node files (real tool output)', () => {
  it('stays small (< 1 MB)', () => {
    expect(sizeOf(DEMO)).toBeLessThan(1024 * 1024);
  });

  it('is read by the bundle reader', () => {
    expect(bundle.nodeFiles.nodes().sort()).toEqual(DEMO_NODES.map((n) => n.name).sort());
    const uids = new Set([...bundle.raws].map((o) => o.metadata?.uid));
    expect(items.every((o) => uids.has(o.metadata.uid))).toBe(true);
    expect(bundle.meta.context).toBe('kind-demo');
  });

  it.each(DEMO_NODES.map((n) => [n.name, n] as const))(
    '%s: every file parses and matches the objects',
    (name, n) => {
      const addrs = parseIpAddr(nodeFile(name, 'ip-addr.json'), 'ip-addr.json');
      const links = parseIpLink(nodeFile(name, 'ip-link.json'), 'ip-link.json');
      const routes = parseIpRoute(nodeFile(name, 'ip-route.json'), 'ip-route.json');
      expect(parseIpRule(nodeFile(name, 'ip-rule.json'), 'ip-rule.json').map((r) => r.table)).toEqual([
        'local',
        'main',
        'default',
      ]);
      expect(ipForwarding(parseSysctl(nodeFile(name, 'sysctl.txt'), 'sysctl.txt'))).toBe(true);
      expect(addrs.find((i) => i.ifname === 'eth0')?.addresses[0].cidr).toBe(`${n.ip}/24`);
      expect(addrs.find((i) => i.ifname === 'cni0')?.addresses[0].cidr).toBe(
        n.cidr.replace('.0/24', '.1/24'),
      );
      for (const other of DEMO_NODES.filter((o) => o !== n)) {
        expect(routes.find((r) => r.dst === other.cidr)).toMatchObject({ gateway: other.ip, dev: 'eth0' });
      }
      // Every pod of the node (not hostNetwork; cluster/*.yaml's too) has its folder, its IP, and a veth on cni0.
      const pods = allPods.filter((p) => p.spec.nodeName === name && !p.spec.hostNetwork);
      const dirs = readdirSync(join(DEMO, 'nodes', name, 'pods')).sort();
      expect(dirs).toEqual(pods.map((p) => `${p.metadata.namespace}_${p.metadata.name}`).sort());
      expect(links.filter((l) => l.master === 'cni0' && l.kind === 'veth' && l.up)).toHaveLength(pods.length);
      for (const p of pods) {
        const dir = `pods/${p.metadata.namespace}_${p.metadata.name}`;
        const eth0 = parseIpAddr(nodeFile(name, `${dir}/ip-addr.json`), 'ip-addr.json').find(
          (i) => i.ifname === 'eth0',
        )!;
        expect(eth0.addresses[0].local).toBe(p.status.podIP);
        expect(links.find((l) => l.ifindex === eth0.linkIndex)?.master).toBe('cni0');
        const ss = nodeFile(name, `${dir}/ss.txt`);
        for (const c of p.spec.containers) {
          for (const cp of c.ports ?? []) {
            const proto = cp.protocol === 'UDP' ? 'udp' : 'tcp';
            expect(ss, `${dir} ${proto}/${cp.containerPort}`).toMatch(
              new RegExp(`^${proto}\\s.*0\\.0\\.0\\.0:${cp.containerPort}\\s`, 'm'),
            );
          }
        }
        const resolv = nodeFile(name, `${dir}/resolv.conf`);
        if (p.spec.dnsPolicy === 'ClusterFirst') {
          expect(resolv).toContain(
            `search ${p.metadata.namespace}.svc.cluster.local svc.cluster.local cluster.local`,
          );
          expect(resolv).toContain('nameserver 10.96.0.10');
        }
      }
    },
  );

  it("has kube-proxy's rules: DNAT to ready endpoints only, REJECT for (a) and (b)", () => {
    const rules = nodeFile('demo-worker', 'iptables-save.txt');
    expect(rules).toMatch(/^# Generated by iptables-save v[\d.]+/);
    const ready = podsOf('shop', 'cart').filter(
      (p) => p.status.conditions.find((c: Raw) => c.type === 'Ready').status === 'True',
    );
    const unready = podsOf('shop', 'cart').find((p) => !ready.includes(p))!;
    for (const p of ready) expect(rules).toContain(`--to-destination ${p.status.podIP}:8080`);
    expect(rules).not.toContain(`--to-destination ${unready.status.podIP}:8080`);
    expect(rules).toMatch(
      /-A KUBE-SERVICES -d 10\.96\.87\.150\/32 .*shop\/frontend:http has no endpoints.* -j REJECT/,
    );
    expect(rules).toMatch(
      /-A KUBE-SERVICES -d 10\.96\.201\.9\/32 .*shop\/catalog:http has no endpoints.* -j REJECT/,
    );
  });
});
