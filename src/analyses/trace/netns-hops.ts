// The hops a namespace's kernel decides: netfilter (every hook, every table) on each node and
// pod namespace the packet crosses, rp_filter, the overlay's forwarding entries, hairpin on
// the bridge, the reply's route, and the listening socket at the end.

import { ipFamily } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import type { ClusterModel } from '../../model/cluster.js';
import { type ListeningSocket, type NodeState, nodeState } from '../../model/node-state.js';
import type { Pod, Protocol } from '../../model/types.js';
import type { IpLink } from '../../parsers/iproute2.js';
import { TUNNEL_KINDS } from '../dataplane/encap.js';
import type { KPacket } from '../dataplane/netfilter.js';
import { newPacket } from '../dataplane/netfilter.js';
import type { Netns } from '../dataplane/netns.js';
import { nodeNetns } from '../dataplane/netns.js';
import { nodeOwningPodIP, nodeWithAddress } from '../dataplane/owners.js';
import {
  formatRoute,
  interfaceWithAddress,
  isBlockingRoute,
  linkByName,
  resolveRoute,
  routeDevice,
  routeGateway,
} from '../dataplane/routing.js';
import { ipForwarding } from '../dataplane/sysctls.js';
import {
  describeBlock,
  type Entry,
  isLocalTo,
  type NodeBranch,
  reversePathFails,
  walkNetns,
} from '../dataplane/walk.js';
import type { TraceContext } from './context.js';
import type { Hop } from './types.js';

export interface Crossing {
  /** A hop when the namespace decided something worth showing (a block, or missing rules). */
  hop?: Hop;
  /** The packets that come out (delivered or sent on), with their shares. */
  passed: NodeBranch[];
  /** The packets stopped here (a rule, rp_filter), with their shares. */
  blocked: NodeBranch[];
  /** All of the traffic was stopped here. */
  stopped: boolean;
}

/**
 * Walks the packet through a namespace it crosses. `required`: without the namespace's rules
 * the hop is unknown (a node must have its dumps); a pod's rules are assumed empty (rare, and
 * most bundles lack them), which the trace notes.
 */
export function crossNetns(
  ctx: TraceContext,
  ns: Netns,
  pkt: KPacket,
  entry: Entry,
  required: boolean,
): Crossing {
  const branches = walkNetns(ns, pkt, entry);
  const blocked = branches.filter((b) => b.fate.kind === 'blocked' || b.fate.kind === 'rp-filter');
  const passed = branches.filter((b) => b.fate.kind !== 'blocked' && b.fate.kind !== 'rp-filter');
  const total = branches.reduce((n, b) => n + b.pkt.weight, 0);
  const blockedShare = blocked.reduce((n, b) => n + b.pkt.weight, 0);
  if (blocked.length > 0 && blockedShare >= total - 1e-9) {
    const b = blocked[0];
    return { hop: blockedHop(ctx, ns, b, pkt), passed: [], blocked, stopped: true };
  }
  // A pod's rules that the evaluators cannot follow (a sidecar's REDIRECT to its proxy):
  // where the packet really goes is unknown.
  const undecided =
    ns.kind === 'pod' && ns.rules ? passed.find((b) => b.pkt.unknown)?.pkt.unknown : undefined;
  if (undecided) {
    return {
      hop: {
        kind: 'filter',
        node: ns.node,
        detail: `${ns.label}: its own rules take the packet where knet cannot follow (${undecided})`,
        status: 'unknown',
        evidence: ns.ruleFiles.join(', '),
      },
      passed,
      blocked,
      stopped: false,
    };
  }
  if (!ns.rules) {
    if (!required) {
      ctx.assumeNoRules(ns.object.slice('pod/'.length));
      return { passed, blocked, stopped: false };
    }
    const code = ctx.add(
      finding('NO_NODE_DATA', {
        message: `The netfilter rules of ${ns.label} are not in the bundle: whether it forwards ${pkt.src} → ${pkt.dst}:${pkt.dport} is unknown.`,
        objects: [ns.object],
        evidence: ns.ruleFiles,
      }),
    );
    return {
      hop: {
        kind: 'filter',
        node: ns.node,
        detail: `${ns.label}: netfilter rules unknown`,
        status: 'unknown',
        inferred: true,
        findings: [code],
      },
      passed,
      blocked,
      stopped: false,
    };
  }
  return { passed, blocked, stopped: false };
}

export function blockedHop(ctx: TraceContext, ns: Netns, b: NodeBranch, pkt: KPacket): Hop {
  const fate = b.fate;
  if (fate.kind === 'rp-filter') {
    const back = fate.back ? formatRoute(fate.back) : 'no route';
    const evidence = [
      ...fate.keys.map((k) => `${ns.describe('sysctl.txt')}: ${k}`),
      `${ns.describe('ip-route.json')}: the way back to ${pkt.src}: ${back}`,
    ];
    const code = ctx.add(
      finding('RP_FILTER_DROP', {
        message: `${cap(ns.label)} drops ${pkt.src} → ${pkt.dst} arriving on ${fate.iif}: rp_filter=${fate.value} and its route back to ${pkt.src} (${back}) ${fate.back ? `leaves by another interface` : 'does not exist'}.`,
        objects: [ns.object],
        evidence,
      }),
    );
    return {
      kind: 'filter',
      node: ns.node,
      detail: `rp_filter=${fate.value} on ${fate.iif}: the reply to ${pkt.src} would leave by ${fate.back?.dev ?? 'no interface'}`,
      status: 'broken',
      evidence: evidence.join('\n'),
      findings: [code],
    };
  }
  if (fate.kind !== 'blocked') throw new Error('unreachable');
  const rule = fate.rule;
  const kube = rule?.kube ?? false;
  const where = describeBlock(ns, fate);
  // Calico enforces NetworkPolicy in its cali-* chains: a drop there is a policy verdict.
  const calico = b.pkt.evidence.filter((r) => r.chain.startsWith('cali-'));
  if (rule?.chain.startsWith('cali-') || (calico.length && !kube && rule?.policy !== true)) {
    // The policy chains the packet went through (cali-pi-/cali-po-): named in the chain, or in
    // the "Policy NAME ingress" comments of their rules.
    const dump = ns.rules?.iptables;
    const policyChains = calico
      .flatMap((r) => [r.chain, r.target ?? ''])
      .filter((c) => /^cali-p[io]-/.test(c));
    const policies = [
      ...new Set(
        policyChains.flatMap((chain) => {
          const named = /^cali-p[io]-(?!_)(.+)$/.exec(chain)?.[1];
          const rules = dump?.tables.get('filter')?.chains.get(chain)?.rules ?? [];
          const commented = rules.map((x) => /Policy ([^\s"]+)/.exec(x.text)?.[1]);
          return [named, ...commented].filter((x): x is string => Boolean(x));
        }),
      ),
    ];
    const chains = [...new Set(calico.map((r) => r.chain))];
    const code = ctx.add(
      finding('CNI_POLICY_DROP', {
        message: `Calico's policy enforcement in ${ns.label} ${fate.verdict === 'reject' ? 'rejects' : 'drops'} ${pkt.src} → ${pkt.dst}:${pkt.dport} in chain ${rule?.chain ?? fate.hook}${policies.length ? ` (policies: ${policies.join(', ')})` : ''}${chains.length > 1 ? `, after ${chains.filter((c) => c !== rule?.chain).join(', ')}` : ''}.`,
        objects: [ns.object],
        evidence: [where],
      }),
    );
    return {
      kind: fate.verdict,
      node: ns.node,
      detail: `Calico policy: ${rule?.text ?? fate.hook}`,
      status: 'broken',
      evidence: [...b.pkt.evidence.map((r) => r.text), ...(rule ? [rule.text] : [])]
        .filter((t, i, a) => a.indexOf(t) === i)
        .join('\n'),
      findings: [code],
    };
  }
  const code = ctx.add(
    finding(kube ? 'PROXY_REJECT' : 'FILTER_DROP', {
      message: kube
        ? `kube-proxy's rules in ${ns.label} ${fate.verdict === 'reject' ? 'reject' : 'drop'} ${pkt.src} → ${pkt.dst}:${pkt.dport} (${rule?.chain}).`
        : `A firewall rule in ${ns.label} ${fate.verdict === 'reject' ? 'rejects' : 'drops'} ${pkt.src} → ${pkt.dst}:${pkt.dport}: ${rule?.policy ? `the policy of` : 'chain'} ${rule ? `${rule.table} ${rule.chain}` : fate.hook} at ${fate.hook}.`,
      objects: [ns.object],
      evidence: [where],
    }),
  );
  return {
    kind: fate.verdict,
    node: ns.node,
    detail: rule?.text ?? `${fate.verdict} at ${fate.hook}`,
    status: 'broken',
    evidence: [
      ...b.pkt.evidence.map((r) => r.text),
      ...(rule && !b.pkt.evidence.includes(rule) ? [rule.text] : []),
    ]
      .filter((t, i, a) => a.indexOf(t) === i)
      .join('\n'),
    findings: [code],
  };
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The interface a packet from another node arrives on: the overlay device of that kind, else the uplink. */
export function arrivalInterface(
  model: ClusterModel,
  node: string,
  overlayKind?: string,
): string | undefined {
  const state = nodeState(model, node);
  if (overlayKind) {
    const dev = state.links?.find((l) => l.kind === overlayKind);
    if (dev) return dev.ifname;
  }
  const ip = model.node(node)?.internalIPs[0];
  return ip && state.addrs ? interfaceWithAddress(state.addrs, ip)?.ifname : undefined;
}

/** The destination cannot send its answer: no route back to the packet's source. */
export function replyRouteHop(ctx: TraceContext, ns: Netns, replyTo: string): Hop | undefined {
  if (!ns.routes) return undefined;
  const { route } = resolveRoute(ns.routes, ns.ipRules, { dst: replyTo });
  if (route && !isBlockingRoute(route)) return undefined;
  const evidence = `${ns.describe('ip-route.json')}: ${route ? formatRoute(route) : `no route matches ${replyTo}`}`;
  const code = ctx.add(
    finding('REPLY_ROUTE_MISSING', {
      message: `${cap(ns.label)} receives the packet but has no route for its reply to ${replyTo}.`,
      objects: [ns.object],
      evidence: [evidence],
    }),
  );
  return {
    kind: 'route',
    node: ns.node,
    detail: `reply to ${replyTo}: ${route ? formatRoute(route) : 'no route'}`,
    status: 'broken',
    evidence,
    findings: [code],
  };
}

/**
 * A pod reaching its own Service and picked as the backend: the frame must leave the bridge
 * port it came in on, which needs hairpin mode on that port (or a promiscuous bridge).
 */
export function hairpinHop(
  ctx: TraceContext,
  pod: Pod,
  veth: IpLink | undefined,
  file: string,
): Hop | undefined {
  const node = pod.nodeName!;
  if (!veth?.master) return undefined;
  const links = nodeState(ctx.model, node).links ?? [];
  const bridge = linkByName(links, veth.master);
  if (bridge?.kind !== 'bridge') return undefined;
  const promisc = bridge.flags.includes('PROMISC');
  const hairpin = veth.bridgePort?.hairpin;
  if (hairpin === true || promisc) return undefined;
  if (hairpin === undefined) {
    return {
      kind: 'bridge',
      node,
      detail: `${veth.ifname} on ${bridge.ifname}: hairpin mode not shown (${file} lacks linkinfo; capture it with ip -j -d link show)`,
      status: 'unknown',
      inferred: true,
    };
  }
  const code = ctx.add(
    finding('HAIRPIN_DISABLED', {
      message: `Pod ${pod.namespace}/${pod.name} reaches its own Service and is picked as the backend, but its bridge port ${veth.ifname} on ${bridge.ifname} has hairpin off: the bridge does not send the frame back out of the port it came in on.`,
      objects: [`pod/${pod.namespace}/${pod.name}`, `node/${node}`],
      evidence: [`${file}: ${veth.ifname} master ${bridge.ifname} hairpin false`],
    }),
  );
  return {
    kind: 'bridge',
    node,
    detail: `${bridge.ifname}: hairpin off on ${veth.ifname}, the frame cannot go back to the pod it came from`,
    status: 'broken',
    evidence: `${file}: ${veth.ifname} hairpin false`,
    findings: [code],
  };
}

/** Whether a socket of the list takes ip:port (a wildcard address or ip itself; SCTP as TCP). */
export function listensOn(
  listening: readonly ListeningSocket[],
  ip: string,
  port: number,
  protocol: Protocol,
): boolean {
  const proto = protocol === 'UDP' ? 'UDP' : 'TCP';
  const any = ipFamily(ip) === 6 ? ['::', '*'] : ['0.0.0.0', '::', '*'];
  return listening.some((s) => s.port === port && s.protocol === proto && [...any, ip].includes(s.address));
}

/**
 * The listener at the end of the path. With the namespace's socket list: a listener or
 * `*_PORT_NOT_LISTENING`; without it: a container that declares the port is taken as
 * evidence (inferred), and nothing at all is unknown.
 */
export function socketCheck(
  ctx: TraceContext,
  ns: Netns,
  ip: string,
  port: number,
  protocol: Protocol,
  declared: boolean,
): { status: Hop['status']; evidence?: string; inferred?: boolean; findings?: string[] } {
  const proto = protocol === 'UDP' ? 'UDP' : 'TCP';
  const ssFile = ns.describe('ss.txt');
  if (ns.listening) {
    if (listensOn(ns.listening, ip, port, protocol))
      return { status: 'ok', evidence: `${ssFile}: listening on ${proto.toLowerCase()} ${port}` };
    const code = ctx.add(
      finding(ns.kind === 'pod' ? 'POD_PORT_NOT_LISTENING' : 'NODE_PORT_NOT_LISTENING', {
        message: `Nothing in ${ns.label} listens on ${protocol} port ${port}.`,
        objects: [ns.object],
        evidence: [`${ssFile}: no ${proto.toLowerCase()} socket on port ${port}`],
      }),
    );
    return { status: 'broken', findings: [code] };
  }
  if (declared) return { status: 'ok', inferred: true };
  const code = ctx.add(
    finding('NO_NODE_DATA', {
      message: `Whether anything in ${ns.label} listens on ${protocol} port ${port} is unknown: no container declares it and ${ssFile} is not in the bundle.`,
      objects: [ns.object],
      evidence: [ssFile],
    }),
  );
  return { status: 'unknown', inferred: true, findings: [code] };
}

/**
 * A VXLAN device with static peers (flannel's `nolearning`): the neighbour entry for the next
 * hop gives the remote VTEP's MAC, the FDB entry for that MAC the remote node's underlay
 * address. Either one missing black-holes the traffic although the route is there.
 */
export function vxlanEntries(
  ctx: TraceContext,
  state: NodeState,
  link: IpLink,
  gw: string | undefined,
  remoteNode: string | undefined,
): { finding?: string; unknown?: boolean; evidence: string[] } | undefined {
  if (link.kind !== 'vxlan' || !gw || link.vxlan?.remote || link.vxlan?.group) return undefined;
  const neighFile = state.describe('ip-neigh.json');
  const fdbFile = state.describe('bridge-fdb.json');
  const neigh = state.neigh;
  if (!neigh)
    return { unknown: true, evidence: [`${neighFile}: not in the bundle (the VTEP neighbour is unchecked)`] };
  const entry = neigh.find(
    (n) =>
      n.dst === gw &&
      n.dev === link.ifname &&
      n.lladdr &&
      !n.state.some((x) => x === 'FAILED' || x === 'INCOMPLETE'),
  );
  if (!entry) {
    if (link.vxlan?.learning) return undefined;
    const code = ctx.add(
      finding('OVERLAY_NEIGH_MISSING', {
        message: `Node ${state.node} has no neighbour entry for ${gw} on ${link.ifname}${remoteNode ? ` (node ${remoteNode}'s VTEP)` : ''}: the route through the overlay leads nowhere.`,
        objects: [`node/${state.node}`, ...(remoteNode ? [`node/${remoteNode}`] : [])],
        evidence: [`${neighFile}: no entry for ${gw} dev ${link.ifname}`],
      }),
    );
    return { finding: code, evidence: [`${neighFile}: no entry for ${gw} dev ${link.ifname}`] };
  }
  const neighLine = `${neighFile}: ${entry.dst} dev ${link.ifname} lladdr ${entry.lladdr} ${entry.state.join(',')}`;
  const fdb = state.fdb;
  if (!fdb)
    return {
      unknown: true,
      evidence: [neighLine, `${fdbFile}: not in the bundle (the VTEP's underlay address is unchecked)`],
    };
  const remoteIP = remoteNode ? ctx.model.node(remoteNode)?.internalIPs[0] : undefined;
  const fwd =
    fdb.find((f) => f.ifname === link.ifname && f.mac === entry.lladdr && f.dst) ??
    fdb.find((f) => f.ifname === link.ifname && f.mac === '00:00:00:00:00:00' && f.dst);
  if (!fwd) {
    const code = ctx.add(
      finding('OVERLAY_FDB_MISSING', {
        message: `Node ${state.node}'s ${link.ifname} has no forwarding entry for ${entry.lladdr}${remoteNode ? ` (node ${remoteNode}'s VTEP)` : ''}: encapsulated packets have no underlay destination${remoteIP ? ` (expected dst ${remoteIP})` : ''}.`,
        objects: [`node/${state.node}`, ...(remoteNode ? [`node/${remoteNode}`] : [])],
        evidence: [neighLine, `${fdbFile}: no entry for ${entry.lladdr} dev ${link.ifname}`],
      }),
    );
    return {
      finding: code,
      evidence: [neighLine, `${fdbFile}: no entry for ${entry.lladdr} dev ${link.ifname}`],
    };
  }
  return { evidence: [neighLine, `${fdbFile}: ${fwd.mac} dev ${link.ifname} dst ${fwd.dst}`] };
}

/**
 * A UDP tunnel's own packet (VXLAN, Geneve): the sending node sends it (OUTPUT, POSTROUTING),
 * the receiving node takes it in (PREROUTING, INPUT); a rule on either that drops the tunnel's
 * port black-holes every pod packet between them. A hop only when that happens.
 */
export function encapsulationHop(ctx: TraceContext, from: string, to: string, link: IpLink): Hop | undefined {
  if (link.kind !== 'vxlan' && link.kind !== 'geneve') return undefined;
  const model = ctx.model;
  const src = link.vxlan?.local ?? model.node(from)?.internalIPs[0];
  const dst = model.node(to)?.internalIPs[0];
  if (!src || !dst) return undefined;
  const port = link.vxlan?.port ?? (link.kind === 'geneve' ? 6081 : 8472);
  const pkt = newPacket({ src, dst, dport: port, proto: 'udp' });
  const out = crossNetns(ctx, nodeNetns(model, from), pkt, { kind: 'originate' }, false);
  if (out.stopped && out.hop)
    return { ...out.hop, detail: `${link.kind} packet ${src} → ${dst}:${port}/udp: ${out.hop.detail}` };
  const iif = arrivalInterface(model, to);
  const inn = crossNetns(ctx, nodeNetns(model, to), pkt, { kind: 'arrive', iif, from: 'external' }, false);
  if (inn.stopped && inn.hop)
    return { ...inn.hop, detail: `${link.kind} packet ${src} → ${dst}:${port}/udp: ${inn.hop.detail}` };
  return undefined;
}

/**
 * The answer's way back from the destination's node to the source's: its route there (a table,
 * a tunnel whose peer entries are missing, forwarding off on the interface it comes in by), the
 * tunnel's own packet, and reverse-path filtering where it arrives. Conntrack lets an answer
 * through the filter rules, so those are not re-run. A hop only when the way back is broken.
 */
export function replyHops(
  ctx: TraceContext,
  r: { destNode: string; srcNode: string; replyFrom: string; replyTo: string; iif?: string },
): Hop | undefined {
  const model = ctx.model;
  const state = nodeState(model, r.destNode);
  if (!state.routes) return undefined;
  const { route } = resolveRoute(state.routes, state.ipRules, {
    dst: r.replyTo,
    src: r.replyFrom,
    iif: r.iif,
  });
  const label = `reply ${r.replyFrom} → ${r.replyTo}`;
  if (!route || isBlockingRoute(route)) {
    const evidence = `${state.describe('ip-route.json')}: ${route ? formatRoute(route) : `no route matches ${r.replyTo}`}`;
    const code = ctx.add(
      finding('REPLY_ROUTE_MISSING', {
        message: `Node ${r.destNode} has no route for the reply of ${r.replyFrom} to ${r.replyTo}: the packet arrives, the answer cannot go back.`,
        objects: [`node/${r.destNode}`],
        evidence: [evidence],
      }),
    );
    return {
      kind: 'route',
      node: r.destNode,
      detail: `${label}: no route`,
      status: 'broken',
      evidence,
      findings: [code],
    };
  }
  // The way back must lead to the source's node: not the default route, not another node.
  const gw = routeGateway(route);
  const towards = gw ? (nodeWithAddress(model, gw) ?? nodeOwningPodIP(model, gw)) : undefined;
  const dev0 = routeDevice(route);
  const tunnel = dev0 ? TUNNEL_KINDS.has(linkByName(state.links ?? [], dev0)?.kind ?? '') : false;
  const toPod = !nodeWithAddress(model, r.replyTo);
  const astray =
    route.dst === 'default'
      ? 'only the default route matches'
      : towards && towards !== r.srcNode
        ? `it leads to node ${towards}`
        : !gw && !tunnel && toPod
          ? `it goes out of ${dev0} directly, where nothing answers for ${r.replyTo}`
          : undefined;
  if (astray) {
    const evidence = `${state.describe('ip-route.json')}: ${formatRoute(route)}`;
    const code = ctx.add(
      finding('REPLY_ROUTE_MISSING', {
        message: `Node ${r.destNode} has no route for the reply of ${r.replyFrom} back to ${r.replyTo} on node ${r.srcNode}: ${astray}.`,
        objects: [`node/${r.destNode}`, `node/${r.srcNode}`],
        evidence: [evidence],
      }),
    );
    return {
      kind: 'route',
      node: r.destNode,
      detail: `${label}: ${formatRoute(route)}`,
      status: 'broken',
      evidence,
      findings: [code],
    };
  }
  const fwd = forwardingHop(ctx, state, r.replyTo, r.iif);
  if (fwd) return { ...fwd, detail: `${label}: ${fwd.detail}` };
  const dev = routeDevice(route);
  const link = dev && state.links ? linkByName(state.links, dev) : undefined;
  let overlay: string | undefined;
  if (link && TUNNEL_KINDS.has(link.kind ?? '')) {
    overlay = link.kind;
    const entries = vxlanEntries(ctx, state, link, routeGateway(route), r.srcNode);
    if (entries?.finding)
      return {
        kind: 'overlay',
        node: r.destNode,
        detail: `${label} through ${link.ifname}: the peer entries for node ${r.srcNode} are missing`,
        status: 'broken',
        evidence: entries.evidence.join('\n'),
        findings: [entries.finding],
      };
    const encap = encapsulationHop(ctx, r.destNode, r.srcNode, link);
    if (encap) return { ...encap, detail: `${label}: ${encap.detail}` };
  }
  // Arriving back on the source's node: reverse-path filtering on that interface.
  const srcNs = nodeNetns(model, r.srcNode);
  const iif = arrivalInterface(model, r.srcNode, overlay);
  if (iif) {
    const pkt = newPacket({ src: r.replyFrom, dst: r.replyTo, dport: 0, proto: 'tcp' });
    const rp = reversePathFails(srcNs, pkt, iif);
    if (rp) {
      const hop = blockedHop(ctx, srcNs, { pkt, fate: rp }, pkt);
      return { ...hop, detail: `${label}: ${hop.detail}` };
    }
    const back = forwardingHop(ctx, nodeState(model, r.srcNode), r.replyTo, iif);
    if (back && !isLocalTo(srcNs, r.replyTo)) return { ...back, detail: `${label}: ${back.detail}` };
  }
  return undefined;
}

/**
 * Forwarding on a node that must forward the packet: the `forwarding` sysctl of the interface
 * it arrived on decides (net.ipv4.ip_forward sets them all), else ip_forward itself.
 */
export function forwardingHop(
  ctx: TraceContext,
  state: NodeState,
  dstIP: string,
  iif?: string,
): Hop | undefined {
  const family = ipFamily(dstIP);
  const sysctl = state.sysctl;
  if (!sysctl) return undefined;
  const ifKey = iif && family === 4 ? `net.ipv4.conf.${iif.replace(/\./g, '/')}.forwarding` : undefined;
  const perIface = ifKey ? sysctl.get(ifKey) : undefined;
  let key: string;
  if (perIface !== undefined) {
    if (perIface.trim() !== '0') return undefined;
    key = ifKey!;
  } else {
    if (ipForwarding(sysctl, family) !== false) return undefined;
    key = family === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
  }
  return {
    kind: 'filter',
    node: state.node,
    detail: `${key} = 0: the node does not forward packets${perIface !== undefined ? ` arriving on ${iif}` : ''}`,
    status: 'broken',
    evidence: `${state.describe('sysctl.txt')}: ${key} = 0`,
    findings: [
      ctx.add(
        finding('IP_FORWARD_DISABLED', {
          message: `Node ${state.node} has ${key} = 0, so it drops packets it must forward${perIface !== undefined ? ` that arrive on ${iif}` : ''}.`,
          objects: [`node/${state.node}`],
          evidence: [`${state.describe('sysctl.txt')}: ${key} = 0`],
          hint: `sysctl -w ${key}=1 on node ${state.node} (and persist it).`,
        }),
      ),
    ],
  };
}
