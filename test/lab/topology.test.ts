// The lab itself: builds the scenario's dataplane in network namespaces (host-gw and VXLAN),
// checks with real traffic that it behaves like a Kubernetes node set, and that a captured
// bundle holds what the kernel holds. Needs root; skips with a message otherwise.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIpAddr, parseIpLink, parseIpRoute } from '../../src/parsers/iproute2.js';
import { ipForwarding, parseSysctl } from '../../src/parsers/sysctl.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { captureBundle } from './capture.js';
import { isRoot, listNamespaces, runPrefix } from './exec.js';
import { loadScenario, type Overlay } from './scenario.js';
import { buildLab, type Lab, reapStaleLabs } from './topology.js';

const SCENARIO = fileURLToPath(new URL('./scenarios/basic.yaml', import.meta.url));

if (!isRoot) console.warn('[knet lab] not root: the lab tests are skipped (they need network namespaces)');

describe.skipIf(!isRoot).each(['hostgw', 'vxlan'] as Overlay[])('lab topology (%s)', (overlay) => {
  const prefix = runPrefix(`t${overlay === 'vxlan' ? 'v' : 'h'}`);
  let lab: Lab;
  let bundle: string;

  beforeAll(async () => {
    reapStaleLabs();
    lab = await buildLab(loadScenario(SCENARIO, { overlay }), prefix);
    bundle = mkdtempSync(join(tmpdir(), 'knet-lab-'));
    captureBundle(lab, bundle);
  }, 60_000);

  afterAll(() => {
    const failed = lab?.destroy() ?? [];
    if (bundle) rmSync(bundle, { recursive: true, force: true });
    expect(failed).toEqual([]);
    expect(listNamespaces(prefix)).toEqual([]);
  });

  it('creates one namespace per node and pod, plus the underlay', () => {
    const names = listNamespaces(prefix);
    expect(names).toContain(`${prefix}underlay`);
    for (const n of ['node-1', 'node-2', 'node-3']) expect(names).toContain(`${prefix}${n}`);
    expect(names).toContain(`${prefix}pod-shop-client`);
    expect(names).toHaveLength(1 + 3 + 5);
  });

  it('connects pods on the same node through the bridge', () => {
    const r = lab.probe('shop/client', '10.244.1.11', 8080);
    expect(r.outcome).toBe('ok');
    expect(r.answeredBy).toBe('shop/web-1');
  });

  it('connects pods across nodes', () => {
    expect(lab.probe('shop/client', '10.244.2.13', 9090)).toMatchObject({
      outcome: 'ok',
      answeredBy: 'shop/api-1',
    });
    expect(lab.probe('shop/web-2', '10.244.1.11', 8080)).toMatchObject({
      outcome: 'ok',
      answeredBy: 'shop/web-1',
    });
  });

  it('load-balances a ClusterIP service over both endpoints (kube-proxy iptables rules)', () => {
    const seen = new Set<string>();
    // Each endpoint has probability 1/2: 16 connections miss one with probability 2^-15.
    for (let i = 0; i < 16 && seen.size < 2; i++) {
      const r = lab.probe('shop/client', '10.96.0.10', 80, { tries: 1 });
      expect(r.outcome).toBe('ok');
      seen.add(r.answeredBy ?? '');
    }
    expect([...seen].sort()).toEqual(['shop/web-1', 'shop/web-2']);
  });

  it('reaches a UDP service on another node', () => {
    expect(lab.probe('shop/client', '10.96.0.12', 53, { protocol: 'udp' })).toMatchObject({
      outcome: 'ok',
      answeredBy: 'shop/echo-1',
    });
  });

  it('rejects a service without endpoints, as kube-proxy does', () => {
    expect(lab.probe('shop/client', '10.96.0.13', 80).outcome).toBe('refused');
  });

  it('refuses a port nobody listens on, and drops traffic to no pod', () => {
    expect(lab.probe('shop/client', '10.244.2.13', 9999).outcome).toBe('refused');
    expect(lab.probe('shop/client', '10.200.0.1', 80, { tries: 1, timeout: 300 }).outcome).toBe('timeout');
  });

  it('carries large transfers (MTU consistent)', () => {
    expect(lab.probe('shop/client', '10.96.0.11', 80, { big: true }).outcome).toBe('ok');
  });

  it('captures a bundle with the files of snapshot.md, taken from the live namespaces', () => {
    for (const node of ['node-1', 'node-2', 'node-3']) {
      const files = readdirSync(join(bundle, 'nodes', node)).sort();
      expect(files).toEqual([
        'cni',
        'ip-addr.json',
        'ip-link.json',
        'ip-route.json',
        'ip-rule.json',
        'iptables-save.txt',
        'pods',
        'sysctl.txt',
      ]);
    }
    const podDir = join(bundle, 'nodes', 'node-2', 'pods', 'shop_api-1');
    expect(readdirSync(podDir).sort()).toEqual(['ip-addr.json', 'ip-route.json', 'resolv.conf', 'ss.txt']);
    expect(readFileSync(join(podDir, 'ss.txt'), 'utf8')).toMatch(/^tcp\s+LISTEN\s.*0\.0\.0\.0:9090\s/m);
    expect(existsSync(join(bundle, 'nodes', 'node-1', 'pods', 'shop_client'))).toBe(true);
  });

  it('holds node state the parsers read back: addresses, bridge ports, routes, forwarding', () => {
    const dir = join(bundle, 'nodes', 'node-1');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    const addrs = parseIpAddr(read('ip-addr.json'), 'ip-addr.json');
    expect(addrs.find((i) => i.ifname === 'cni0')?.addresses[0].cidr).toBe('10.244.1.1/24');
    expect(addrs.find((i) => i.ifname === 'eth0')?.addresses[0].cidr).toBe('172.18.0.11/24');
    const links = parseIpLink(read('ip-link.json'), 'ip-link.json');
    const ports = links.filter((l) => l.master === 'cni0');
    expect(ports).toHaveLength(2);
    expect(ports.every((p) => p.kind === 'veth' && p.up && p.linkNetnsid !== undefined)).toBe(true);
    // The client pod's eth0 names its host-side veth by ifindex.
    const podAddrs = parseIpAddr(
      readFileSync(join(dir, 'pods', 'shop_client', 'ip-addr.json'), 'utf8'),
      'pods/shop_client/ip-addr.json',
    );
    const eth0 = podAddrs.find((i) => i.ifname === 'eth0')!;
    expect(links.find((l) => l.ifindex === eth0.linkIndex)?.ifname).toBe(lab.pod('shop/client').hostVeth);
    const routes = parseIpRoute(read('ip-route.json'), 'ip-route.json');
    const toNode2 = routes.find((r) => r.dst === '10.244.2.0/24' && r.table === 'main');
    if (overlay === 'vxlan') {
      expect(toNode2).toMatchObject({ gateway: '10.244.2.0', dev: 'flannel.1', flags: ['onlink'] });
      expect(links.find((l) => l.ifname === 'flannel.1')?.vxlan).toMatchObject({
        id: 1,
        local: '172.18.0.11',
        port: 8472,
      });
    } else {
      expect(toNode2).toMatchObject({ gateway: '172.18.0.12', dev: 'eth0' });
    }
    expect(ipForwarding(parseSysctl(read('sysctl.txt'), 'sysctl.txt'))).toBe(true);
    expect(read('iptables-save.txt')).toMatch(/^-A KUBE-SERVICES .*-d 10\.96\.0\.11\/32 .*-j KUBE-SVC-/m);
  });

  it('is readable by the bundle reader, and its objects carry what the lab built', async () => {
    const b = await readBundle(bundle);
    expect(b.nodeFiles.nodes().sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(b.nodeFiles.list('node-2', 'pods')).toEqual(['shop_api-1', 'shop_web-2']);
    const node1 = [...b.raws].find((r) => r.kind === 'Node' && r.metadata.name === 'node-1');
    expect(node1.metadata.annotations['flannel.alpha.coreos.com/backend-type']).toBe(
      overlay === 'vxlan' ? 'vxlan' : 'host-gw',
    );
  });
});
