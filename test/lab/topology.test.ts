// The lab itself: builds the scenario's dataplane in network namespaces (host-gw and VXLAN),
// checks with real traffic that it behaves like a Kubernetes node set, and that a captured
// bundle holds what the kernel holds. Needs root; skips with a message otherwise.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipForwarding } from '../../src/analyses/dataplane/sysctls.js';
import { parseIpAddr, parseIpLink, parseIpRoute } from '../../src/parsers/iproute2.js';
import { parseNftJson } from '../../src/parsers/nft.js';
import { parseSysctl } from '../../src/parsers/sysctl.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { captureBundle } from './capture.js';
import { listNamespaces, runPrefix } from './exec.js';
import { labCanRun } from './gate.js';
import { loadScenario, type Overlay } from './scenario.js';
import { buildLab, CNI_CONFLIST, type Lab, reapStaleLabs } from './topology.js';

const SCENARIO = fileURLToPath(new URL('./scenarios/basic.yaml', import.meta.url));

const canRun = labCanRun('lab topology');

describe.skipIf(!canRun).each(['hostgw', 'vxlan'] as Overlay[])('lab topology (%s)', (overlay) => {
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
    // host-local's data directory (a per-run temporary directory) is gone with the lab.
    if (lab) expect(existsSync(lab.cniDir)).toBe(false);
  });

  it('creates one namespace per node and pod, plus the underlay', () => {
    const names = listNamespaces(prefix);
    expect(names).toContain(`${prefix}underlay`);
    for (const n of ['node-1', 'node-2', 'node-3']) expect(names).toContain(`${prefix}${n}`);
    expect(names).toContain(`${prefix}pod-shop-client`);
    // 6 pods with a namespace of their own; agent-3 is hostNetwork (node-3's namespace).
    expect(names).toHaveLength(1 + 3 + 6);
  });

  it('sets pods up with the real CNI plugins (bridge + host-local + portmap)', () => {
    const conflist = JSON.parse(readFileSync(join(bundle, 'nodes', 'node-2', 'cni', CNI_CONFLIST), 'utf8'));
    expect(conflist.plugins.map((p: { type: string }) => p.type)).toEqual(['bridge', 'portmap']);
    expect(conflist.plugins[0].ipam).toMatchObject({
      type: 'host-local',
      ranges: [[{ subnet: '10.244.2.0/24', gateway: '10.244.2.1' }]],
    });
    expect(conflist.plugins[0].ipam.dataDir.startsWith(lab.cniDir)).toBe(true);
    // host-local recorded the scenario's fixed address.
    expect(existsSync(join(lab.cniDir, 'node-2', 'lab', '10.244.2.13'))).toBe(true);
    const links = parseIpLink(
      readFileSync(join(bundle, 'nodes', 'node-2', 'ip-link.json'), 'utf8'),
      'ip-link.json',
    );
    expect(links.find((l) => l.ifname === lab.pod('shop/api-1').hostVeth)?.master).toBe('cni0');
    expect(lab.pod('shop/api-1').hostVeth).toMatch(/^veth[0-9a-f]{8}$/);
    // portmap's chains for edge-1's hostPort.
    expect(readFileSync(join(bundle, 'nodes', 'node-2', 'iptables-save.txt'), 'utf8')).toMatch(
      /^-A CNI-DN-\S+ -p tcp -m tcp --dport 18443 -j DNAT --to-destination 10\.244\.2\.20:8443$/m,
    );
  });

  it("reaches a hostPort (portmap's DNAT) and a hostNetwork pod (a server in the node's namespace)", () => {
    expect(lab.probe('shop/client', '172.18.0.12', 18443)).toMatchObject({
      outcome: 'ok',
      answeredBy: 'shop/edge-1',
    });
    expect(lab.probe('shop/client', '172.18.0.13', 9100)).toMatchObject({
      outcome: 'ok',
      answeredBy: 'shop/agent-3',
    });
    expect(readFileSync(join(bundle, 'nodes', 'node-3', 'ss.txt'), 'utf8')).toMatch(/0\.0\.0\.0:9100\s/);
  });

  it('reaches its own Service through the hairpin (one endpoint: itself)', () => {
    expect(lab.probe('shop/api-1', '10.96.0.11', 80)).toMatchObject({
      outcome: 'ok',
      answeredBy: 'shop/api-1',
    });
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
        'bridge-fdb.json',
        'cni',
        'ip-addr.json',
        'ip-link.json',
        'ip-neigh.json',
        'ip-route.json',
        'ip-rule.json',
        'iptables-save.txt',
        'nft.json',
        'pods',
        'ss.txt',
        'sysctl.txt',
      ]);
    }
    const podDir = join(bundle, 'nodes', 'node-2', 'pods', 'shop_api-1');
    expect(readdirSync(podDir).sort()).toEqual([
      'ip-addr.json',
      'ip-route.json',
      'iptables-save.txt',
      'nft.json',
      'resolv.conf',
      'ss.txt',
    ]);
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
    // The new node files: neighbours and FDB (flannel's VTEP entries on vxlan), nft ruleset.
    const neigh = JSON.parse(read('ip-neigh.json')) as { dst: string; dev: string; lladdr?: string }[];
    const fdb = JSON.parse(read('bridge-fdb.json')) as { mac: string; ifname: string; dst?: string }[];
    if (overlay === 'vxlan') {
      const vtep = lab.node('node-2').vtepMAC;
      expect(neigh).toContainEqual(
        expect.objectContaining({ dst: '10.244.2.0', dev: 'flannel.1', lladdr: vtep }),
      );
      expect(fdb).toContainEqual(
        expect.objectContaining({ mac: vtep, ifname: 'flannel.1', dst: '172.18.0.12' }),
      );
    }
    expect(fdb.some((e) => e.ifname === lab.pod('shop/client').hostVeth)).toBe(true);
    expect(parseNftJson(read('nft.json')).tables.length).toBeGreaterThan(0);
    expect(read('iptables-save.txt')).toMatch(/^-A KUBE-SERVICES .*-d 10\.96\.0\.11\/32 .*-j KUBE-SVC-/m);
  });

  it('is readable by the bundle reader, and its objects carry what the lab built', async () => {
    const b = await readBundle(bundle);
    expect(b.nodeFiles.nodes().sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(b.nodeFiles.list('node-2', 'pods')).toEqual(['shop_api-1', 'shop_edge-1', 'shop_web-2']);
    expect(b.nodeFiles.list('node-3', 'pods')).toEqual(['shop_echo-1']);
    const node1 = [...b.raws].find((r) => r.kind === 'Node' && r.metadata.name === 'node-1');
    expect(node1.metadata.annotations['flannel.alpha.coreos.com/backend-type']).toBe(
      overlay === 'vxlan' ? 'vxlan' : 'host-gw',
    );
  });
});

describe.skipIf(!canRun)('lab topology (hostgw, kube-proxy nftables)', () => {
  const prefix = runPrefix('tn');
  let lab: Lab;
  let bundle: string;

  beforeAll(async () => {
    reapStaleLabs();
    lab = await buildLab(loadScenario(SCENARIO, { overlay: 'hostgw', proxyMode: 'nftables' }), prefix);
    bundle = mkdtempSync(join(tmpdir(), 'knet-lab-'));
    captureBundle(lab, bundle);
  }, 60_000);

  afterAll(() => {
    const failed = lab?.destroy() ?? [];
    if (bundle) rmSync(bundle, { recursive: true, force: true });
    expect(failed).toEqual([]);
    expect(listNamespaces(prefix)).toEqual([]);
  });

  it("loads kube-proxy's nftables table (and no KUBE-* iptables chains), and says so in its ConfigMap", async () => {
    const nft = parseNftJson(readFileSync(join(bundle, 'nodes', 'node-1', 'nft.json'), 'utf8'));
    expect(nft.tables.some((t) => t.family === 'ip' && t.name === 'kube-proxy')).toBe(true);
    expect(readFileSync(join(bundle, 'nodes', 'node-1', 'iptables-save.txt'), 'utf8')).not.toMatch(/KUBE-/);
    const b = await readBundle(bundle);
    const cm = [...b.raws].find((r) => r.kind === 'ConfigMap' && r.metadata.name === 'kube-proxy');
    expect(cm.data['config.conf']).toMatch(/^mode: nftables$/m);
  });

  it('load-balances a ClusterIP service over both endpoints, and rejects one without endpoints', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 16 && seen.size < 2; i++) {
      const r = lab.probe('shop/client', '10.96.0.10', 80, { tries: 1 });
      expect(r.outcome).toBe('ok');
      seen.add(r.answeredBy ?? '');
    }
    expect([...seen].sort()).toEqual(['shop/web-1', 'shop/web-2']);
    expect(lab.probe('shop/client', '10.96.0.13', 80).outcome).toBe('refused');
    expect(lab.probe('shop/client', '10.96.0.12', 53, { protocol: 'udp' })).toMatchObject({ outcome: 'ok' });
  });
});
