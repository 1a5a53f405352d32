// Test support: what kube-proxy's IPVS mode sets up on a node, written as its tools would
// print it: the virtual servers (`ipvsadm -Sn` text, in ipvsadm's own sort order), the ipsets
// (`ipset restore` input) and the iptables rules (`iptables-restore` input) of
// pkg/proxy/ipvs/proxier.go writeIptablesRules. The tests load it into a kernel or into a
// bundle and compare knet's reading with it; knet itself never writes these.

import { buildIpvsIpsets, type SetData } from '../../src/analyses/proxy/ipsets.js';
import { buildServiceIndex } from '../../src/analyses/proxy/service-index.js';
import {
  clusterCIDRFromModel,
  nodeIPsOf,
  type ProxyEndpoint,
  type ProxyServicePort,
} from '../../src/analyses/proxy/service-ports.js';
import { normalizeIP, parseIP } from '../../src/core/ip.js';
import type { ClusterModel } from '../../src/model/cluster.js';

export interface IpvsSetupOptions {
  family?: 4 | 6;
  clusterCIDR?: string;
  masqueradeAll?: boolean;
  nodeIPs?: string[];
  scheduler?: string;
}

export interface IpvsSetup {
  ipvsadm: string;
  ipset: string;
  iptables: string;
}

/** The real servers IPVS mode gives a virtual server (syncEndpoint's onlyNodeLocal fallback). */
export function ipvsRealServers(sp: ProxyServicePort, onlyNodeLocal: boolean): ProxyEndpoint[] {
  let usable = sp.endpoints.filter((e) => e.ready);
  if (usable.length === 0) usable = sp.endpoints.filter((e) => e.serving && e.terminating);
  if (!onlyNodeLocal) return usable;
  const local = usable.filter((e) => e.isLocal);
  return local.length > 0 ? local : usable;
}

const PROTO_NUM: Record<string, number> = { tcp: 6, udp: 17, sctp: 132 };
const PROTO_FLAG: Record<string, string> = { tcp: '-t', udp: '-u', sctp: '--sctp-service' };

function addrInt(ip: string): number {
  const b = parseIP(ip).toByteArray();
  return b.length === 4 ? ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0 : 0;
}

/** ipvsadm compares addresses as (int)(ntohl(a) - ntohl(b)): 2^31 apart wraps around. */
function addrCmp(a: string, b: string): number {
  return (addrInt(a) - addrInt(b)) | 0;
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export function kubeProxyIpvsSetup(
  model: ClusterModel,
  nodeName: string,
  options: IpvsSetupOptions = {},
): IpvsSetup {
  const family = options.family ?? 4;
  const index = buildServiceIndex(model, nodeName, [family]);
  const nodeIPs = (options.nodeIPs ?? nodeIPsOf(model, nodeName, family)).map(normalizeIP);
  const clusterCIDR = options.clusterCIDR ?? clusterCIDRFromModel(model, family);
  const scheduler = options.scheduler ?? 'rr';

  interface VS {
    proto: string;
    ip: string;
    port: number;
    persistent?: number;
    rs: ProxyEndpoint[];
  }
  const vss: VS[] = [];
  for (const sp of index.ports) {
    const base = { proto: sp.protocol, persistent: sp.affinityTimeout };
    vss.push({
      ...base,
      ip: sp.clusterIP,
      port: sp.port.port,
      rs: ipvsRealServers(sp, sp.internalPolicyLocal),
    });
    const ext = ipvsRealServers(sp, sp.externalPolicyLocal);
    for (const ip of [...sp.externalIPs, ...sp.loadBalancerIPs])
      vss.push({ ...base, ip, port: sp.port.port, rs: ext });
    if (sp.nodePort) for (const ip of nodeIPs) vss.push({ ...base, ip, port: sp.nodePort, rs: ext });
  }
  vss.sort((a, b) => PROTO_NUM[a.proto] - PROTO_NUM[b.proto] || addrCmp(a.ip, b.ip) || a.port - b.port);
  const lines: string[] = [];
  for (const vs of vss) {
    const svc = `${PROTO_FLAG[vs.proto]} ${hostPort(vs.ip, vs.port)}`;
    lines.push(`-A ${svc} -s ${scheduler}${vs.persistent ? ` -p ${vs.persistent}` : ''}`);
    const rs = [...vs.rs].sort((a, b) => addrCmp(a.ip, b.ip) || a.port - b.port);
    for (const r of rs) lines.push(`-a ${svc} -r ${hostPort(r.ip, r.port)} -m -w 1`);
  }
  const ipvsadm = lines.length ? `${lines.join('\n')}\n` : '';

  const sets = buildIpvsIpsets(
    index,
    {
      file: '',
      services: vss.map((v) => ({
        protocol: 'TCP',
        address: v.ip,
        port: v.port,
        scheduler,
        realServers: [],
        line: 0,
        text: '',
      })),
    },
    nodeIPs,
  );
  const ipset = ipsetRestoreText(sets, family);
  const has = (name: string) =>
    (sets.get(family === 6 ? name.replace(/^KUBE-/, 'KUBE-6-') : name)?.keys.size ?? 0) > 0 ||
    (sets.get(name)?.nets.length ?? 0) > 0;
  const set = (name: string) => (family === 6 ? name.replace(/^KUBE-/, 'KUBE-6-') : name);
  const loopback = family === 4 ? '127.0.0.0/8' : '::1/128';
  const nat: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    `-A KUBE-SERVICES -s ${loopback} -j RETURN`,
  ];
  const filter: string[] = [
    '-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER',
    '-A INPUT -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check rules" -j KUBE-NODE-PORT',
    '-A FORWARD -m comment --comment "kube-proxy firewall rules" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A OUTPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-OUT-FILTER',
  ];
  const c = (text: string) => `-m comment --comment "${text}"`;
  if (has('KUBE-LOOP-BACK')) {
    nat.push(
      `-A KUBE-POSTROUTING ${c('Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose')} -m set --match-set ${set('KUBE-LOOP-BACK')} dst,dst,src -j MASQUERADE`,
    );
  }
  if (has('KUBE-LOAD-BALANCER')) {
    nat.push(
      `-A KUBE-SERVICES ${c('Kubernetes service lb portal')} -m set --match-set ${set('KUBE-LOAD-BALANCER')} dst,dst -j KUBE-LOAD-BALANCER`,
    );
  }
  if (has('KUBE-LOAD-BALANCER-LOCAL')) {
    nat.push(
      `-A KUBE-LOAD-BALANCER ${c('Kubernetes service load balancer ip + port with externalTrafficPolicy=local')} -m set --match-set ${set('KUBE-LOAD-BALANCER-LOCAL')} dst,dst -j RETURN`,
    );
  }
  for (const P of ['TCP', 'UDP']) {
    const p = P.toLowerCase();
    if (has(`KUBE-NODE-PORT-LOCAL-${P}`)) {
      nat.push(
        `-A KUBE-NODE-PORT -p ${p} ${c(`Kubernetes nodeport ${P} port with externalTrafficPolicy=local`)} -m set --match-set ${set(`KUBE-NODE-PORT-LOCAL-${P}`)} dst -j RETURN`,
      );
    }
    if (has(`KUBE-NODE-PORT-${P}`)) {
      nat.push(
        `-A KUBE-NODE-PORT -p ${p} ${c(`Kubernetes nodeport ${P} port for masquerade purpose`)} -m set --match-set ${set(`KUBE-NODE-PORT-${P}`)} dst -j KUBE-MARK-MASQ`,
      );
    }
  }
  if (has('KUBE-LOAD-BALANCER-FW')) {
    filter.push(
      `-A KUBE-PROXY-FIREWALL ${c('Kubernetes service load balancer ip + port for load balancer with sourceRange')} -m set --match-set ${set('KUBE-LOAD-BALANCER-FW')} dst,dst -j KUBE-SOURCE-RANGES-FIREWALL`,
    );
  }
  if (has('KUBE-LOAD-BALANCER-SOURCE-CIDR')) {
    filter.push(
      `-A KUBE-SOURCE-RANGES-FIREWALL ${c('Kubernetes service load balancer ip + port + source cidr for packet filter purpose')} -m set --match-set ${set('KUBE-LOAD-BALANCER-SOURCE-CIDR')} dst,dst,src -j RETURN`,
    );
  }
  if (has('KUBE-LOAD-BALANCER-SOURCE-IP')) {
    filter.push(
      `-A KUBE-SOURCE-RANGES-FIREWALL ${c('Kubernetes service load balancer ip + port + source IP for packet filter purpose')} -m set --match-set ${set('KUBE-LOAD-BALANCER-SOURCE-IP')} dst,dst,src -j RETURN`,
    );
  }
  const cipComment = c('Kubernetes service cluster ip + port for masquerade purpose');
  if (options.masqueradeAll)
    nat.push(
      `-A KUBE-SERVICES ${cipComment} -m set --match-set ${set('KUBE-CLUSTER-IP')} dst,dst -j KUBE-MARK-MASQ`,
    );
  else if (clusterCIDR)
    nat.push(
      `-A KUBE-SERVICES ${cipComment} -m set --match-set ${set('KUBE-CLUSTER-IP')} dst,dst ! -s ${clusterCIDR} -j KUBE-MARK-MASQ`,
    );
  else
    nat.push(
      `-A KUBE-SERVICES ${cipComment} -m set --match-set ${set('KUBE-CLUSTER-IP')} src,dst -j KUBE-MARK-MASQ`,
    );
  if (has('KUBE-EXTERNAL-IP')) {
    const ec = c('Kubernetes service external ip + port for masquerade and filter purpose');
    nat.push(
      `-A KUBE-SERVICES ${ec} -m set --match-set ${set('KUBE-EXTERNAL-IP')} dst,dst -j KUBE-MARK-MASQ`,
      `-A KUBE-SERVICES ${ec} -m set --match-set ${set('KUBE-EXTERNAL-IP')} dst,dst -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`,
      `-A KUBE-SERVICES ${ec} -m set --match-set ${set('KUBE-EXTERNAL-IP')} dst,dst -m addrtype --dst-type LOCAL -j ACCEPT`,
    );
  }
  if (has('KUBE-EXTERNAL-IP-LOCAL')) {
    const ec = c('Kubernetes service external ip + port with externalTrafficPolicy=local');
    nat.push(
      `-A KUBE-SERVICES ${ec} -m set --match-set ${set('KUBE-EXTERNAL-IP-LOCAL')} dst,dst -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`,
      `-A KUBE-SERVICES ${ec} -m set --match-set ${set('KUBE-EXTERNAL-IP-LOCAL')} dst,dst -m addrtype --dst-type LOCAL -j ACCEPT`,
    );
  }
  nat.push(
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
    '-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ',
    `-A KUBE-SERVICES -m set --match-set ${set('KUBE-CLUSTER-IP')} dst,dst -j ACCEPT`,
    `-A KUBE-SERVICES -m set --match-set ${set('KUBE-LOAD-BALANCER')} dst,dst -j ACCEPT`,
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
  );
  filter.push(
    '-A KUBE-SOURCE-RANGES-FIREWALL -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    `-A KUBE-NODE-PORT ${c('Kubernetes health check node port')} -m set --match-set ${set('KUBE-HEALTH-CHECK-NODE-PORT')} dst -j ACCEPT`,
    `-A KUBE-IPVS-FILTER -m set --match-set ${set('KUBE-LOAD-BALANCER')} dst,dst -j RETURN`,
    `-A KUBE-IPVS-FILTER -m set --match-set ${set('KUBE-CLUSTER-IP')} dst,dst -j RETURN`,
    `-A KUBE-IPVS-FILTER -m set --match-set ${set('KUBE-EXTERNAL-IP')} dst,dst -j RETURN`,
    `-A KUBE-IPVS-FILTER -m set --match-set ${set('KUBE-EXTERNAL-IP-LOCAL')} dst,dst -j RETURN`,
    `-A KUBE-IPVS-FILTER -m set --match-set ${set('KUBE-HEALTH-CHECK-NODE-PORT')} dst -j RETURN`,
    `-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set ${set('KUBE-IPVS-IPS')} dst -j REJECT`,
  );
  const iptables = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...['KUBE-SERVICES', 'KUBE-POSTROUTING', 'KUBE-NODE-PORT', 'KUBE-LOAD-BALANCER', 'KUBE-MARK-MASQ'].map(
      (n) => `:${n} - [0:0]`,
    ),
    ...nat,
    'COMMIT',
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ...[
      'KUBE-FORWARD',
      'KUBE-NODE-PORT',
      'KUBE-PROXY-FIREWALL',
      'KUBE-SOURCE-RANGES-FIREWALL',
      'KUBE-IPVS-FILTER',
      'KUBE-IPVS-OUT-FILTER',
    ].map((n) => `:${n} - [0:0]`),
    ...filter,
    'COMMIT',
  ];
  return { ipvsadm, ipset, iptables: `${iptables.join('\n')}\n` };
}

const SET_TYPES: Record<SetData['kind'], string> = {
  ip: 'hash:ip',
  'ip,port': 'hash:ip,port',
  'ip,port,ip': 'hash:ip,port,ip',
  'ip,port,net': 'hash:ip,port,net',
  port: 'bitmap:port',
};

/** Every set kube-proxy's IPVS mode creates (created even when empty), with its kind. */
export const IPVS_SET_KINDS: [string, SetData['kind']][] = [
  ['KUBE-LOOP-BACK', 'ip,port,ip'],
  ['KUBE-CLUSTER-IP', 'ip,port'],
  ['KUBE-EXTERNAL-IP', 'ip,port'],
  ['KUBE-EXTERNAL-IP-LOCAL', 'ip,port'],
  ['KUBE-LOAD-BALANCER', 'ip,port'],
  ['KUBE-LOAD-BALANCER-LOCAL', 'ip,port'],
  ['KUBE-LOAD-BALANCER-FW', 'ip,port'],
  ['KUBE-LOAD-BALANCER-SOURCE-IP', 'ip,port,ip'],
  ['KUBE-LOAD-BALANCER-SOURCE-CIDR', 'ip,port,net'],
  ['KUBE-NODE-PORT-TCP', 'port'],
  ['KUBE-NODE-PORT-LOCAL-TCP', 'port'],
  ['KUBE-NODE-PORT-UDP', 'port'],
  ['KUBE-NODE-PORT-LOCAL-UDP', 'port'],
  ['KUBE-NODE-PORT-SCTP-HASH', 'ip,port'],
  ['KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'ip,port'],
  ['KUBE-HEALTH-CHECK-NODE-PORT', 'port'],
  ['KUBE-IPVS-IPS', 'ip'],
];

/** `ipset restore` input for the sets (family inet or inet6). */
export function ipsetRestoreText(sets: Map<string, SetData>, family: 4 | 6): string {
  const lines: string[] = [];
  for (const [base, kind] of IPVS_SET_KINDS) {
    const name = family === 6 ? base.replace(/^KUBE-/, 'KUBE-6-') : base;
    const type = SET_TYPES[kind];
    lines.push(
      kind === 'port'
        ? `create ${name} ${type} range 0-65535`
        : `create ${name} ${type} family ${family === 4 ? 'inet' : 'inet6'} hashsize 1024 maxelem 65536`,
    );
    const s = sets.get(name);
    if (!s) continue;
    for (const k of [...s.keys].sort()) {
      const p = k.split('|');
      const entry =
        kind === 'ip' || kind === 'port'
          ? k
          : kind === 'ip,port'
            ? `${p[0]},${p[1]}:${p[2]}`
            : `${p[0]},${p[1]}:${p[2]},${p[3]}`;
      lines.push(`add ${name} ${entry}`);
    }
    for (const n of s.nets) {
      const p = n.ipPort.split('|');
      lines.push(`add ${name} ${p[0]},${p[1]}:${p[2]},${n.cidr}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
