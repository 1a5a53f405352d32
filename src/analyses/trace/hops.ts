// The node-side hops of a path: leaving a pod (container → veth → bridge), a node's routing
// decision (local bridge, host-gw next hop, overlay device, or none), and arriving at a pod
// (node → bridge → veth → pod). Each hop is decided from the node files when they are there,
// and marked `inferred` with status `unknown` when they are not.

import { cidrContains, ipFamily } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import type { ClusterModel } from '../../model/cluster.js';
import { type NodeState, nodeState, type PodNetState } from '../../model/node-state.js';
import type { Pod, Protocol } from '../../model/types.js';
import type { IpAddrInterface, IpLink, IpRoute } from '../../parsers/iproute2.js';
import { encapOverhead, TUNNEL_KINDS } from '../dataplane/encap.js';
import { newPacket } from '../dataplane/netfilter.js';
import { type Netns, nodeNetns, podNetns } from '../dataplane/netns.js';
import { nodeOwningPodIP, nodeWithAddress } from '../dataplane/owners.js';
import {
  formatRoute,
  formatRule,
  interfaceWithAddress,
  isBlockingRoute,
  linkByIndex,
  linkByName,
  linkIsUp,
  linkState,
  lookupRoute,
  resolveRoute,
  routeDevice,
  routeGateway,
} from '../dataplane/routing.js';
import { lowerProtocol } from '../proxy/packet.js';
import type { TraceContext } from './context.js';
import {
  arrivalInterface,
  crossNetns,
  encapsulationHop,
  forwardingHop,
  hairpinHop,
  replyRouteHop,
  socketCheck,
  vxlanEntries,
} from './netns-hops.js';
import type { Hop } from './types.js';

const podRef = (p: Pod) => `pod/${p.namespace}/${p.name}`;

/** The pod's eth0 (the interface holding its IP) as seen inside its network namespace. */
function podInterface(net: PodNetState, ip: string): IpAddrInterface | undefined {
  return net.addrs ? interfaceWithAddress(net.addrs, ip) : undefined;
}

/** The host side of the pod's veth pair: the peer ifindex the pod's eth0 names. */
function hostVeth(state: NodeState, net: PodNetState, podIP: string): { link?: IpLink; how: string } {
  const links = state.links;
  if (!links) return { how: 'no ip-link.json' };
  const eth0 = podInterface(net, podIP);
  if (eth0?.linkIndex !== undefined) {
    const link = linkByIndex(links, eth0.linkIndex);
    if (link) return { link, how: `peer ifindex ${eth0.linkIndex} of the pod's ${eth0.ifname}` };
  }
  // Routed CNIs (Calico, Cilium) write a host route per pod pointing at its veth.
  const route = state.routes?.find(
    (r) => r.dst === podIP || r.dst === `${podIP}/${ipFamily(podIP) === 4 ? 32 : 128}`,
  );
  const dev = route ? routeDevice(route) : undefined;
  const link = dev ? linkByName(links, dev) : undefined;
  if (link) return { link, how: `host route ${formatRoute(route!)}` };
  return { how: eth0 ? `peer ifindex of ${eth0.ifname} not found on the node` : 'no pod network files' };
}

/** The interface a pod's packets enter its node by: the bridge its veth is on, else the veth. */
export function podHostInterface(model: ClusterModel, pod: Pod, podIP: string): string | undefined {
  const state = nodeState(model, pod.nodeName!);
  const veth = hostVeth(state, state.pod(pod), podIP).link;
  return veth?.master ?? veth?.ifname;
}

/**
 * The node's bridge for pods: the interface that holds an address in the node's pod CIDR. A veth
 * holding one is no bridge: it is a routed CNI's host side (the ptp plugin gives every pod's
 * host veth the gateway address, as a /32).
 */
function podBridge(model: ClusterModel, state: NodeState): IpAddrInterface | undefined {
  const cidrs = model.node(state.node)?.podCIDRs ?? [];
  return state.addrs?.find(
    (i) =>
      i.addresses.some((a) => cidrs.some((c) => cidrContains(c, a.local))) &&
      !(state.links && linkByName(state.links, i.ifname)?.kind === 'veth'),
  );
}

function noData(ctx: TraceContext, node: string, files: string[], what: string): string {
  return ctx.add(
    finding('NO_NODE_DATA', {
      message: `${what} on node ${node} was inferred: the bundle lacks ${files.join(', ')}.`,
      objects: [`node/${node}`],
      evidence: files,
    }),
  );
}

function ifaceDown(
  ctx: TraceContext,
  node: string,
  name: string,
  role: string,
  link: { operstate: string; up: boolean; lowerUp: boolean; flags: string[] },
  file: string,
): string {
  return ctx.add(
    finding('IFACE_DOWN', {
      message: `The ${role} ${name} on node ${node} is down (${linkState(link)}).`,
      objects: [`node/${node}`],
      evidence: [`${file}: ${name} flags ${link.flags.join(',')}`],
      hint: `Bring it up: ip link set ${name} up — and find out why it went down.`,
    }),
  );
}

/** container → veth → bridge: the packet leaving a (non-hostNetwork) pod. */
export function leavePodHops(
  ctx: TraceContext,
  pod: Pod,
  podIP: string,
  dstIP: string,
): { hops: Hop[]; bridge?: string; inIface?: string; mtu?: number } {
  const node = pod.nodeName!;
  const state = nodeState(ctx.model, node);
  const net = state.pod(pod);
  const hops: Hop[] = [];

  // 1. The pod's own namespace: eth0 and the route it takes toward the destination.
  const eth0 = podInterface(net, podIP);
  if (net.addrs && eth0) {
    const route = net.routes ? lookupRoute(net.routes, dstIP) : undefined;
    const up = linkIsUp(eth0);
    const hop: Hop = {
      kind: 'container',
      node,
      detail: `${pod.name} ${eth0.ifname} ${podIP}${route ? `, ${formatRoute(route)}` : ''}`,
      status: up ? (net.routes && !route ? 'broken' : 'ok') : 'broken',
      evidence: `${net.files['ip-addr.json']}: ${eth0.ifname} ${linkState(eth0)}`,
    };
    if (!up) hop.findings = [podIfaceDown(ctx, pod, eth0, net)];
    else if (net.routes && !route) {
      hop.findings = [
        ctx.add(
          finding('ROUTE_MISSING', {
            message: `Pod ${pod.namespace}/${pod.name} has no route toward ${dstIP}.`,
            objects: [podRef(pod)],
            evidence: [net.files['ip-route.json']],
          }),
        ),
      ];
    }
    hops.push(hop);
  } else {
    hops.push({
      kind: 'container',
      node,
      detail: `${pod.name} eth0 ${podIP}`,
      status: 'unknown',
      inferred: true,
      findings: [
        noData(
          ctx,
          node,
          [`pods/${pod.namespace}_${pod.name}/ip-addr.json`],
          `The network namespace of pod ${pod.namespace}/${pod.name}`,
        ),
      ],
    });
  }

  // 2. The host side of the veth pair, and the bridge it is enslaved to.
  const veth = hostVeth(state, net, podIP);
  const vethStep = vethHop(ctx, state, pod, veth);
  hops.push(vethStep);
  const arp = proxyArpProblem(ctx, state, pod, net, veth.link, dstIP);
  if (arp) {
    vethStep.status = 'broken';
    vethStep.findings = [...(vethStep.findings ?? []), arp];
  }
  const bridgeHop = veth.link && !veth.link.master ? undefined : bridgeHopFor(ctx, state, veth.link?.master);
  if (bridgeHop) hops.push(bridgeHop.hop);
  return { hops, bridge: bridgeHop?.name, inIface: veth.link?.ifname, mtu: eth0?.mtu };
}

/** The host side of a pod's veth pair: up, and enslaved to the pod bridge where there is one. */
function vethHop(ctx: TraceContext, state: NodeState, pod: Pod, veth: { link?: IpLink; how: string }): Hop {
  const node = state.node;
  const link = veth.link;
  if (!link) {
    return {
      kind: 'veth',
      node,
      detail: `host side of ${pod.name}'s veth pair (${veth.how})`,
      status: 'unknown',
      inferred: true,
      findings: state.links ? undefined : [noData(ctx, node, ['ip-link.json'], "The pod's host veth")],
    };
  }
  const codes: string[] = [];
  if (!linkIsUp(link)) {
    codes.push(ifaceDown(ctx, node, link.ifname, "pod's host veth", link, state.describe('ip-link.json')));
  }
  const bridge = podBridge(ctx.model, state);
  // A routed CNI's veth has no master by design: its pods have host routes to it.
  const routed = state.routes?.some(
    (r) => routeDevice(r) === link.ifname && pod.ips.some((ip) => r.dst === ip || r.dst.startsWith(`${ip}/`)),
  );
  if (!link.master && bridge && link.kind === 'veth' && !routed) {
    codes.push(
      ctx.add(
        finding('VETH_NOT_ON_BRIDGE', {
          message: `The host veth ${link.ifname} of pod ${pod.namespace}/${pod.name} is not enslaved to the bridge ${bridge.ifname}.`,
          objects: [podRef(pod), `node/${node}`],
          evidence: [`${state.describe('ip-link.json')}: ${link.ifname} has no master`],
          hint: `ip link set ${link.ifname} master ${bridge.ifname} (or recreate the pod).`,
        }),
      ),
    );
  }
  return {
    kind: 'veth',
    node,
    detail: `${link.ifname} (${veth.how})${link.master ? `, on ${link.master}` : ''}`,
    status: codes.length ? 'broken' : 'ok',
    evidence: `${state.describe('ip-link.json')}: ${link.ifname} ${linkState(link)}${link.master ? ` master ${link.master}` : ' no master'}`,
    findings: codes.length ? codes : undefined,
  };
}

/**
 * A routed pod whose gateway is no address of the node (Calico's 169.254.1.1) reaches it only
 * because its host veth answers ARP for it: proxy_arp on that veth. (Cilium's lxc devices
 * answer from eBPF, and the ptp plugin gives the host side the gateway address itself.)
 */
function proxyArpProblem(
  ctx: TraceContext,
  state: NodeState,
  pod: Pod,
  net: PodNetState,
  link: IpLink | undefined,
  dstIP: string,
): string | undefined {
  if (!link || link.master || !link.ifname.startsWith('cali') || !net.routes || !state.sysctl)
    return undefined;
  const gw = lookupRoute(net.routes, dstIP);
  const via = gw ? routeGateway(gw) : undefined;
  if (!via || state.addrs?.some((i) => i.addresses.some((a) => a.local === via))) return undefined;
  const key = `net.ipv4.conf.${link.ifname.replace(/\./g, '/')}.proxy_arp`;
  const value = state.sysctl.get(key);
  if (value === undefined || value.trim() !== '0') return undefined;
  return ctx.add(
    finding('PROXY_ARP_DISABLED', {
      message: `Pod ${pod.namespace}/${pod.name} sends to its gateway ${via} through ${link.ifname}, which has proxy_arp off: nothing answers ARP for ${via}.`,
      objects: [podRef(pod), `node/${state.node}`],
      evidence: [
        `${state.describe('sysctl.txt')}: ${key} = 0`,
        `${net.files['ip-route.json']}: ${formatRoute(gw!)}`,
      ],
    }),
  );
}

/** IFACE_DOWN for the pod's own eth0. */
function podIfaceDown(ctx: TraceContext, pod: Pod, eth0: IpAddrInterface, net: PodNetState): string {
  return ifaceDown(
    ctx,
    pod.nodeName!,
    `${eth0.ifname} of pod ${pod.namespace}/${pod.name}`,
    'pod interface',
    eth0,
    net.files['ip-addr.json'],
  );
}

/** The bridge hop: the named bridge (or the node's pod-CIDR interface), its state and address. */
function bridgeHopFor(
  ctx: TraceContext,
  state: NodeState,
  name: string | undefined,
): { hop: Hop; name?: string } | undefined {
  const node = state.node;
  const links = state.links;
  const addrIface = name ? state.addrs?.find((i) => i.ifname === name) : podBridge(ctx.model, state);
  const link =
    links && (name ?? addrIface?.ifname) ? linkByName(links, (name ?? addrIface?.ifname)!) : undefined;
  if (!links || !state.addrs) {
    const cidr = ctx.model.node(node)?.podCIDRs[0];
    return {
      hop: {
        kind: 'bridge',
        node,
        detail: `the node's pod bridge${cidr ? ` (gateway of ${cidr})` : ''}`,
        status: 'unknown',
        inferred: true,
        findings: [noData(ctx, node, ['ip-addr.json', 'ip-link.json'], 'The pod bridge')],
      },
    };
  }
  if (!link) {
    // Routed CNIs have no bridge: the veth is the gateway. Nothing to show.
    return undefined;
  }
  const addr = addrIface?.addresses.find((a) => a.family === 'inet') ?? addrIface?.addresses[0];
  const hop: Hop = {
    kind: 'bridge',
    node,
    detail: `${link.ifname}${addr ? ` ${addr.cidr}` : ''}`,
    status: 'ok',
    evidence: `${state.describe('ip-link.json')}: ${link.ifname} ${linkState(link)}`,
  };
  // A bridge with no carrier is "up" with NO-CARRIER only when it has no ports; its admin
  // state is what stops forwarding.
  if (!link.up) {
    hop.status = 'broken';
    hop.findings = [ifaceDown(ctx, node, link.ifname, 'bridge', link, state.describe('ip-link.json'))];
  }
  return { hop, name: link.ifname };
}

export interface RouteResult {
  hops: Hop[];
  /** 'local': delivered on this node; a node name: sent there; undefined: nowhere (broken/unknown). */
  next?: 'local' | string;
  broken: boolean;
  /** The tunnel kind the packet leaves through (it arrives on the same kind of device). */
  via?: string;
}

/**
 * The node's routing decision for `dstIP` (a pod IP after any DNAT). `expectedNode` is the
 * node that owns the destination (by pod placement, else pod CIDR).
 */
export function routeHops(
  ctx: TraceContext,
  node: string,
  dstIP: string,
  expectedNode: string | undefined,
  forwarded: boolean,
  packet: {
    podMtu?: number;
    /** The packet's source: policy routing (`ip rule from …`, VPC CNIs) chooses the table by it. */
    src?: string;
    /** The interface it arrived on (`ip rule iif …`, that interface's `forwarding` sysctl). */
    iif?: string;
    /** The destination is a pod of this node behind this interface (its veth or its bridge). */
    podIface?: string;
  } = {},
): RouteResult {
  const { podMtu, src, iif, podIface } = packet;
  const state = nodeState(ctx.model, node);
  const hops: Hop[] = [];
  const routes = state.routes;
  if (forwarded) {
    const fwdHop = forwardingHop(ctx, state, dstIP, iif);
    if (fwdHop) {
      hops.push(fwdHop);
      if (fwdHop.status === 'broken') return { hops, broken: true };
    }
  }
  if (!routes) {
    const next = expectedNode === node ? 'local' : expectedNode;
    hops.push({
      kind: 'route',
      node,
      detail: `toward ${dstIP}${next && next !== 'local' ? ` (node ${next})` : ''}`,
      status: 'unknown',
      inferred: true,
      findings: [noData(ctx, node, ['ip-route.json'], 'The route')],
    });
    return { hops, next, broken: false };
  }
  // The destination is on this node: with its pod bridge down, the kernel has dropped the
  // connected route, so the bridge (not the route) is what is broken.
  if (expectedNode === node) {
    const bridge = podBridge(ctx.model, state);
    const bridgeLink = bridge && state.links ? linkByName(state.links, bridge.ifname) : undefined;
    if (bridgeLink && !bridgeLink.up) {
      hops.push({
        kind: 'bridge',
        node,
        detail: `${bridgeLink.ifname} (the pod bridge toward ${dstIP})`,
        status: 'broken',
        evidence: `${state.describe('ip-link.json')}: ${bridgeLink.ifname} ${linkState(bridgeLink)}`,
        findings: [
          ifaceDown(ctx, node, bridgeLink.ifname, 'bridge', bridgeLink, state.describe('ip-link.json')),
        ],
      });
      return { hops, broken: true };
    }
  }
  const decision = resolveRoute(routes, state.ipRules, { dst: dstIP, src, iif });
  const route = decision.route;
  // A policy rule that sent the lookup to another table than main is part of the evidence.
  const viaRule =
    decision.rule && decision.rule.table !== 'main' && decision.rule.table !== '254'
      ? `; ${state.describe('ip-rule.json')}: ${formatRule(decision.rule)}`
      : '';
  const evidence = route
    ? `${state.describe('ip-route.json')}: ${formatRoute(route)}${viaRule}`
    : `${state.describe('ip-route.json')}: no route matches ${dstIP}${viaRule}`;
  const gw = route ? routeGateway(route) : undefined;
  const dev = route ? routeDevice(route) : undefined;

  const missing = (why: string) => {
    // A down overlay device takes its routes with it: name the device, not the route.
    const downOverlay = state.links?.find((l) => TUNNEL_KINDS.has(l.kind ?? '') && !l.up);
    if (downOverlay && expectedNode && expectedNode !== node) {
      hops.push({
        kind: 'overlay',
        node,
        detail: `${downOverlay.ifname} (${downOverlay.kind}) is down: no route to ${dstIP} through it`,
        status: 'broken',
        evidence: `${state.describe('ip-link.json')}: ${downOverlay.ifname} ${linkState(downOverlay)}; ${evidence}`,
        findings: [
          ifaceDown(
            ctx,
            node,
            downOverlay.ifname,
            `${downOverlay.kind} device`,
            downOverlay,
            state.describe('ip-link.json'),
          ),
        ],
      });
      return { hops, broken: true };
    }
    hops.push({
      kind: 'route',
      node,
      detail: route ? formatRoute(route) : `no route to ${dstIP}`,
      status: 'broken',
      evidence,
      findings: [
        ctx.add(
          finding('ROUTE_MISSING', {
            message: `Node ${node} has no route to ${dstIP}${expectedNode ? ` (pod CIDR of node ${expectedNode})` : ''}: ${why}.`,
            objects: [`node/${node}`],
            evidence: [evidence],
          }),
        ),
      ],
    });
    return { hops, broken: true };
  };

  if (!route) return missing('no matching route');
  if (isBlockingRoute(route)) return missing(`the route is of type ${route.type}`);
  if (route.type === 'local') {
    hops.push({
      kind: 'route',
      node,
      detail: `${dstIP} is an address of node ${node}`,
      status: 'ok',
      evidence,
    });
    return { hops, next: 'local', broken: false };
  }
  // A pod address of another node that only matches the default route goes to the default
  // gateway, which does not own it.
  if (route.dst === 'default' && expectedNode && expectedNode !== node)
    return missing('only the default route matches');
  // A pod of this node reached by the default route: a routed CNI lost its per-pod route.
  if (podIface && expectedNode === node && route.dst === 'default')
    return missing(`only the default route matches: no route to the pod's ${podIface}`);

  const link = dev && state.links ? linkByName(state.links, dev) : undefined;
  const devDown = link && !linkIsUp(link) && !(link.kind === 'bridge' && link.up);
  const deviceFinding = () =>
    link && devDown
      ? [ifaceDown(ctx, node, link.ifname, link.kind ?? 'interface', link, state.describe('ip-link.json'))]
      : undefined;

  // Directly connected to the node that owns the address (a node IP on the shared link).
  if (!gw && expectedNode && expectedNode !== node && nodeWithAddress(ctx.model, dstIP) === expectedNode) {
    const findings = deviceFinding();
    hops.push({
      kind: 'route',
      node,
      detail: `${formatRoute(route)} (node ${expectedNode})`,
      status: findings ? 'broken' : 'ok',
      evidence,
      findings,
    });
    return { hops, next: findings ? undefined : expectedNode, broken: Boolean(findings) };
  }
  // Directly connected (the pod bridge, or a routed CNI's veth): delivered on this node. A
  // connected route for another node's pods (not through a tunnel) is no delivery: nothing on
  // that link answers for those addresses — the host-gw check below names the owner.
  if (!gw && (expectedNode === node || expectedNode === undefined)) {
    const findings = deviceFinding() ?? [];
    // A pod of this node: the route must lead to its own interface (its veth, or its bridge).
    // A route to the pod bridge while the pod's veth is on no bridge is the veth's fault
    // (VETH_NOT_ON_BRIDGE, at the veth hop), not the route's.
    const podLink = podIface && state.links ? linkByName(state.links, podIface) : undefined;
    const detached = link?.kind === 'bridge' && podLink?.kind === 'veth' && !podLink.master;
    if (podIface && dev && dev !== podIface && !detached && findings.length === 0)
      findings.push(
        ctx.add(
          finding('ROUTE_WRONG_NEXT_HOP', {
            message: `Node ${node} routes ${dstIP} to ${dev}, but the pod that has ${dstIP} is behind ${podIface}.`,
            objects: [`node/${node}`],
            evidence: [evidence],
          }),
        ),
      );
    if (findings.length === 0) {
      hops.push({ kind: 'route', node, detail: formatRoute(route), status: 'ok', evidence });
      return { hops, next: 'local', broken: false };
    }
    hops.push({ kind: 'route', node, detail: formatRoute(route), status: 'broken', evidence, findings });
    return { hops, broken: true };
  }

  // Overlay: the route leaves through a VXLAN/IPIP/Geneve device.
  if (link && TUNNEL_KINDS.has(link.kind ?? '')) {
    const remoteNode =
      (gw && (nodeOwningPodIP(ctx.model, gw) ?? nodeWithAddress(ctx.model, gw))) ?? expectedNode;
    const underlay =
      link.vxlan?.remote ?? (remoteNode ? ctx.model.node(remoteNode)?.internalIPs[0] : undefined);
    const findings: string[] = [...(deviceFinding() ?? [])];
    if (remoteNode && expectedNode && remoteNode !== expectedNode)
      findings.push(wrongNextHop(ctx, node, route, evidence, remoteNode, expectedNode, dstIP));
    // Both ends of the tunnel: the encapsulated packet must fit the sender's and the receiver's uplink.
    const remoteState = remoteNode ? nodeState(ctx.model, remoteNode) : undefined;
    const mtu =
      overlayMtuProblem(ctx, state, link, podMtu, underlayDevice(ctx, state)) ??
      (remoteState
        ? overlayMtuProblem(ctx, remoteState, link, undefined, underlayDevice(ctx, remoteState))
        : undefined);
    const entries = findings.length ? undefined : vxlanEntries(ctx, state, link, gw, remoteNode);
    if (entries?.finding) findings.push(entries.finding);
    // The encapsulated packet itself: a UDP datagram between the two nodes' underlay addresses.
    const encap = findings.length || !remoteNode ? undefined : encapsulationHop(ctx, node, remoteNode, link);
    const codes = mtu ? [...findings, mtu] : findings;
    const detail = `${link.ifname} (${link.kind}${link.vxlan ? ` vni ${link.vxlan.id}` : ''})${gw ? ` via ${gw}` : ''}${underlay ? ` → underlay ${underlay}` : ''}${remoteNode ? ` (node ${remoteNode})` : ''}`;
    hops.push({ kind: 'route', node, detail: formatRoute(route), status: 'ok', evidence });
    const hop: Hop = {
      kind: 'overlay',
      node,
      detail,
      status: findings.length ? 'broken' : entries?.unknown ? 'unknown' : 'ok',
      evidence: [
        `${state.describe('ip-link.json')}: ${link.ifname} ${linkState(link)} mtu ${link.mtu}`,
        ...(entries?.evidence ?? []),
      ].join('\n'),
      findings: codes.length ? codes : undefined,
    };
    if (entries?.unknown) hop.inferred = true;
    hops.push(hop);
    if (encap) hops.push(encap);
    const broken = findings.length > 0 || encap !== undefined;
    return { hops, next: broken ? undefined : remoteNode, broken, via: link.kind };
  }

  // host-gw: a route via another node's address.
  const viaNode = gw ? nodeWithAddress(ctx.model, gw) : undefined;
  const findings: string[] = [...(deviceFinding() ?? [])];
  if (expectedNode && viaNode !== expectedNode)
    findings.push(wrongNextHop(ctx, node, route, evidence, viaNode, expectedNode, dstIP));
  hops.push({
    kind: 'route',
    node,
    detail: `${formatRoute(route)}${viaNode ? ` (node ${viaNode})` : ''}`,
    status: findings.length ? 'broken' : 'ok',
    evidence,
    findings: findings.length ? findings : undefined,
  });
  return { hops, next: findings.length ? undefined : viaNode, broken: findings.length > 0 };
}

/**
 * MTU_MISMATCH (a warning: small packets pass, full-size ones are dropped): the pod sends
 * packets larger than the overlay device carries, or the overlay's packets plus their
 * encapsulation no longer fit the underlay device.
 */
function overlayMtuProblem(
  ctx: TraceContext,
  state: NodeState,
  overlay: IpLink,
  podMtu: number | undefined,
  underlay: IpLink | undefined,
): string | undefined {
  const overhead = encapOverhead(overlay.kind ?? 'vxlan');
  const problems: string[] = [];
  if (podMtu !== undefined && podMtu > overlay.mtu) {
    problems.push(`the pod's eth0 MTU ${podMtu} is larger than ${overlay.ifname}'s MTU ${overlay.mtu}`);
  }
  if (underlay && overlay.mtu + overhead > underlay.mtu) {
    problems.push(
      `${overlay.ifname} MTU ${overlay.mtu} + ${overhead} bytes of ${overlay.kind} header exceed ${underlay.ifname}'s MTU ${underlay.mtu}`,
    );
  }
  if (problems.length === 0) return undefined;
  return ctx.add(
    finding('MTU_MISMATCH', {
      message: `On node ${state.node}, ${problems.join(', and ')}: full-size packets are dropped while small ones pass.`,
      objects: [`node/${state.node}`],
      evidence: [
        `${state.describe('ip-link.json')}: ${overlay.ifname} mtu ${overlay.mtu}${underlay ? `, ${underlay.ifname} mtu ${underlay.mtu}` : ''}`,
      ],
    }),
  );
}

/** The node's uplink: the device that holds its InternalIP. */
function underlayDevice(ctx: TraceContext, state: NodeState): IpLink | undefined {
  const ip = ctx.model.node(state.node)?.internalIPs[0];
  const iface = ip && state.addrs ? interfaceWithAddress(state.addrs, ip) : undefined;
  return iface && state.links ? linkByName(state.links, iface.ifname) : undefined;
}

function wrongNextHop(
  ctx: TraceContext,
  node: string,
  route: IpRoute,
  evidence: string,
  via: string | undefined,
  expected: string,
  dstIP: string,
): string {
  const to = via
    ? `node ${via}`
    : routeGateway(route)
      ? 'an address that is no node'
      : `directly out of ${routeDevice(route) ?? 'a device'} with no gateway and no tunnel, where nothing answers for it`;
  return ctx.add(
    finding('ROUTE_WRONG_NEXT_HOP', {
      message: `Node ${node} routes ${dstIP} (${route.dst}) ${to}, but node ${expected} owns it.`,
      objects: [`node/${node}`, `node/${expected}`, ...(via ? [`node/${via}`] : [])],
      evidence: [evidence],
    }),
  );
}

/** net.ipv4.ip_forward on a node that must forward the packet. */
/** How the packet reaches the destination node: its source there, and the tunnel it came through. */
export interface Arrival {
  /** The packet's source as the destination sees it (the node's address when masqueraded). */
  src: string;
  /** The tunnel kind of the last route (the packet arrives on that kind of device). */
  overlay?: string;
  /** The pod that sent it (a pod reaching itself through a Service needs hairpin). */
  sourcePod?: Pod;
}

/**
 * Arriving at the destination pod: (node → its netfilter →) bridge → veth → the pod's own
 * netfilter → the pod, whether its reply can leave, and whether the port is served.
 */
export function arrivePodHops(
  ctx: TraceContext,
  pod: Pod,
  podIP: string,
  port: number | undefined,
  protocol: Protocol,
  fromNode: string | undefined,
  bridgeShown: boolean,
  arrival: Arrival,
): Hop[] {
  const node = pod.nodeName!;
  const state = nodeState(ctx.model, node);
  const hops: Hop[] = [];
  const proto = lowerProtocol(protocol);
  const pkt = newPacket({ src: arrival.src, dst: podIP, dport: port ?? 0, proto });
  if (fromNode && fromNode !== node) {
    const internal = ctx.model.node(node)?.internalIPs[0];
    const iface = internal && state.addrs ? interfaceWithAddress(state.addrs, internal) : undefined;
    hops.push({
      kind: 'node',
      node,
      detail: `${iface ? `${iface.ifname} ` : ''}${internal ?? node}`,
      status: 'ok',
      ...(iface
        ? { evidence: `${state.describe('ip-addr.json')}: ${iface.ifname} ${linkState(iface)}` }
        : { inferred: true }),
    });
    const iif = arrivalInterface(ctx.model, node, arrival.overlay);
    const crossing = crossNetns(
      ctx,
      nodeNetns(ctx.model, node),
      pkt,
      { kind: 'arrive', iif, from: 'external' },
      true,
    );
    if (crossing.hop) hops.push(crossing.hop);
    if (crossing.stopped) return hops;
    // A DNAT on this node sends the packet elsewhere than the pod it was addressed to.
    const moved = crossing.passed.find(
      (b) => b.pkt.dnat && (b.pkt.dnat.ip !== pkt.dst || b.pkt.dnat.port !== pkt.dport),
    );
    if (moved?.pkt.dnat) return [...hops, ...redirected(ctx, node, pkt, moved.pkt.dnat, protocol, arrival)];
    const podIface = podHostInterface(ctx.model, pod, podIP);
    const routed = routeHops(ctx, node, podIP, node, true, { src: arrival.src, iif, podIface });
    hops.push(...routed.hops);
    if (routed.broken) return hops;
  }
  const net = state.pod(pod);
  const veth = hostVeth(state, net, podIP);
  const bridge = veth.link && !veth.link.master ? undefined : bridgeHopFor(ctx, state, veth.link?.master);
  if (bridge && !bridgeShown) hops.push(bridge.hop);
  if (arrival.sourcePod === pod) {
    const hairpin = hairpinHop(ctx, pod, veth.link, state.describe('ip-link.json'));
    if (hairpin) {
      hops.push(hairpin);
      if (hairpin.status === 'broken') return hops;
    }
  }
  hops.push(vethHop(ctx, state, pod, veth));
  // The pod's own namespace: its INPUT rules, then the route its reply takes.
  const ns = podNetns(ctx.model, pod);
  const eth0 = podInterface(net, podIP);
  const own = crossNetns(
    ctx,
    ns,
    pkt,
    { kind: 'arrive', iif: eth0?.ifname ?? 'eth0', from: 'external' },
    false,
  );
  if (own.hop) hops.push(own.hop);
  if (own.stopped) return hops;
  const reply = replyRouteHop(ctx, ns, arrival.src);
  if (reply) {
    hops.push(reply);
    return hops;
  }
  hops.push(podHop(ctx, pod, podIP, port, protocol, net, ns));
  return hops;
}

/**
 * The destination's node rewrote the destination. To another pod of the same node the answer
 * still comes back through it (conntrack undoes the NAT): follow it there. Elsewhere the answer
 * leaves from the new destination straight to the client, which drops it: broken.
 */
function redirected(
  ctx: TraceContext,
  node: string,
  pkt: { dst: string; dport: number },
  dnat: { ip: string; port: number; rule: string },
  protocol: Protocol,
  arrival: Arrival,
): Hop[] {
  const to = ctx.model.podsByIP(dnat.ip)[0];
  const hop: Hop = {
    kind: 'dnat',
    node,
    detail: `${pkt.dst}:${pkt.dport} -> ${dnat.ip}:${dnat.port} on the destination's node`,
    status: 'ok',
    evidence: `node ${node}: ${dnat.rule}`,
  };
  if (to && !to.hostNetwork && to.nodeName === node)
    return [hop, ...arrivePodHops(ctx, to, dnat.ip, dnat.port, protocol, node, false, arrival)];
  hop.status = 'broken';
  hop.findings = [
    ctx.add(
      finding('NAT_ASYMMETRIC', {
        message: `Node ${node} rewrites ${pkt.dst}:${pkt.dport} to ${dnat.ip}:${dnat.port} (${to ? `pod ${to.namespace}/${to.name}${to.nodeName ? ` on node ${to.nodeName}` : ''}` : 'no pod of this node'}): its answer goes straight back to ${arrival.src} without passing the node that did the NAT, and the client drops it.`,
        objects: [`node/${node}`],
        evidence: [`node ${node}: ${dnat.rule}`],
      }),
    ),
  ];
  return [hop];
}

/** The destination pod itself: its eth0, its state, and a listener on the port. */
function podHop(
  ctx: TraceContext,
  pod: Pod,
  podIP: string,
  port: number | undefined,
  protocol: Protocol,
  net: PodNetState,
  ns: Netns,
): Hop {
  const node = pod.nodeName!;
  const eth0 = podInterface(net, podIP);
  const hop: Hop = {
    kind: 'pod',
    node,
    detail: `${pod.name} ${eth0?.ifname ?? 'eth0'} ${podIP}${port !== undefined ? `:${port}` : ''}`,
    status: 'ok',
  };
  const codes: string[] = [];
  if (pod.phase !== 'Running') {
    codes.push(
      ctx.add(
        finding('POD_NOT_RUNNING', {
          message: `Pod ${pod.namespace}/${pod.name} is ${pod.phase}.`,
          objects: [podRef(pod)],
          evidence: [`status.phase: ${pod.phase}`],
        }),
      ),
    );
  }
  if (eth0 && !linkIsUp(eth0)) codes.push(podIfaceDown(ctx, pod, eth0, net));
  let unknown = false;
  if (port !== undefined) {
    const declared = pod.containers.some((c) =>
      c.ports.some((p) => p.containerPort === port && p.protocol === protocol),
    );
    const socket = socketCheck(ctx, ns, podIP, port, protocol, declared);
    if (socket.evidence) hop.evidence = socket.evidence;
    if (socket.inferred) hop.inferred = true;
    if (socket.status === 'broken') codes.push(...(socket.findings ?? []));
    if (socket.status === 'unknown') {
      unknown = true;
      hop.findings = socket.findings;
    }
  } else if (!net.addrs) {
    hop.inferred = true;
  }
  if (codes.length) {
    hop.status = 'broken';
    hop.findings = codes;
  } else if (unknown) hop.status = 'unknown';
  return hop;
}
