// IPVS mode matches ipsets kube-proxy fills (KUBE-CLUSTER-IP, …). `ipset list` is not part
// of a bundle, so the contents are rebuilt from the API exactly as kube-proxy's IPVS proxier
// fills them (reference: kube-proxy-ipvs.md §2); flows that used them say so in a note.
import { cidrContains, normalizeIP } from '../../core/ip.js';
import type { IpvsDump } from '../../parsers/ipvsadm.js';
import type { IpsetResolver } from './iptables-eval.js';
import type { ServiceIndex } from './service-index.js';

export interface SetData {
  kind: 'ip' | 'ip,port' | 'ip,port,ip' | 'ip,port,net' | 'port';
  keys: Set<string>;
  nets: { ipPort: string; cidr: string }[];
}

export function buildIpvsIpsets(
  index: ServiceIndex,
  ipvs: IpvsDump | undefined,
  nodeIPs: string[],
): Map<string, SetData> {
  const sets = new Map<string, SetData>();
  const get = (family: 4 | 6, name: string, kind: SetData['kind']) => {
    const full = family === 6 ? name.replace(/^KUBE-/, 'KUBE-6-') : name;
    let s = sets.get(full);
    if (!s) {
      s = { kind, keys: new Set(), nets: [] };
      sets.set(full, s);
    }
    return s;
  };
  const nodeIP = (fam: 4 | 6) => nodeIPs.find((ip) => (ip.includes(':') ? 6 : 4) === fam);
  for (const sp of index.ports) {
    const f = sp.family;
    const P = sp.protocol;
    const port = sp.port.port;
    get(f, 'KUBE-CLUSTER-IP', 'ip,port').keys.add(`${sp.clusterIP}|${P}|${port}`);
    for (const ip of sp.externalIPs) {
      get(f, sp.externalPolicyLocal ? 'KUBE-EXTERNAL-IP-LOCAL' : 'KUBE-EXTERNAL-IP', 'ip,port').keys.add(
        `${ip}|${P}|${port}`,
      );
    }
    for (const ip of sp.loadBalancerIPs) {
      const k = `${ip}|${P}|${port}`;
      get(f, 'KUBE-LOAD-BALANCER', 'ip,port').keys.add(k);
      if (sp.externalPolicyLocal) get(f, 'KUBE-LOAD-BALANCER-LOCAL', 'ip,port').keys.add(k);
      if (sp.sourceRanges.length > 0) {
        get(f, 'KUBE-LOAD-BALANCER-FW', 'ip,port').keys.add(k);
        for (const cidr of sp.sourceRanges)
          get(f, 'KUBE-LOAD-BALANCER-SOURCE-CIDR', 'ip,port,net').nets.push({ ipPort: k, cidr });
        const n = nodeIP(f);
        if (n && sp.sourceRanges.some((c) => cidrContains(c, n))) {
          get(f, 'KUBE-LOAD-BALANCER-SOURCE-IP', 'ip,port,ip').keys.add(`${k}|${ip}`);
        }
      }
    }
    if (sp.nodePort) {
      if (P === 'sctp') {
        for (const n of nodeIPs) {
          get(f, 'KUBE-NODE-PORT-SCTP-HASH', 'ip,port').keys.add(`${n}|sctp|${sp.nodePort}`);
          if (sp.externalPolicyLocal)
            get(f, 'KUBE-NODE-PORT-LOCAL-SCTP-HASH', 'ip,port').keys.add(`${n}|sctp|${sp.nodePort}`);
        }
      } else {
        const suffix = P.toUpperCase();
        get(f, `KUBE-NODE-PORT-${suffix}`, 'port').keys.add(String(sp.nodePort));
        if (sp.externalPolicyLocal)
          get(f, `KUBE-NODE-PORT-LOCAL-${suffix}`, 'port').keys.add(String(sp.nodePort));
      }
    }
    if (sp.healthCheckNodePort)
      get(f, 'KUBE-HEALTH-CHECK-NODE-PORT', 'port').keys.add(String(sp.healthCheckNodePort));
    for (const ep of sp.allReachable) {
      if (ep.isLocal) get(f, 'KUBE-LOOP-BACK', 'ip,port,ip').keys.add(`${ep.ip}|${P}|${ep.port}|${ep.ip}`);
    }
  }
  const nodeSet = new Set(nodeIPs.map(normalizeIP));
  for (const vs of ipvs?.services ?? []) {
    if (!vs.address || nodeSet.has(normalizeIP(vs.address))) continue;
    get(vs.address.includes(':') ? 6 : 4, 'KUBE-IPVS-IPS', 'ip').keys.add(normalizeIP(vs.address));
  }
  return sets;
}

export function ipsetResolver(sets: Map<string, SetData>, used: Set<string>): IpsetResolver {
  return {
    test(name, flags, st) {
      const s = sets.get(name);
      if (!s) {
        // A kube-proxy set we would fill but that has no entries is simply empty.
        if (/^KUBE-(6-)?/.test(name)) {
          used.add(name);
          return false;
        }
        return undefined;
      }
      used.add(name);
      const pick = (i: number) => (flags[i] === 'src' ? st.src : st.dst);
      const port = String(st.dport);
      switch (s.kind) {
        case 'ip':
          return s.keys.has(normalizeIP(pick(0)));
        case 'port':
          return flags[0] === 'dst' ? s.keys.has(port) : undefined;
        case 'ip,port':
          return s.keys.has(`${normalizeIP(pick(0))}|${st.proto}|${port}`);
        case 'ip,port,ip':
          return s.keys.has(`${normalizeIP(pick(0))}|${st.proto}|${port}|${normalizeIP(pick(2))}`);
        case 'ip,port,net': {
          const k = `${normalizeIP(pick(0))}|${st.proto}|${port}`;
          return s.nets.some((n) => n.ipPort === k && cidrContains(n.cidr, pick(2)));
        }
      }
    },
  };
}
