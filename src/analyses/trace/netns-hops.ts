// The hops a namespace's kernel decides: netfilter (every hook, every table) on each node and
// pod namespace the packet crosses, rp_filter, the overlay's forwarding entries, hairpin on
// the bridge, the reply's route, and the listening socket at the end.
import { finding } from '../../findings/catalog.js';
import type { ClusterModel } from '../../model/cluster.js';
import { ipFamily } from '../../model/ip.js';
import { nodeState } from '../../model/node-state.js';
import type { Pod, Protocol } from '../../model/types.js';
import type { IpLink } from '../../parsers/iproute2.js';
import type { KPacket } from '../dataplane/netfilter.js';
import type { Netns } from '../dataplane/netns.js';
import { formatRoute, interfaceWithAddress, linkByName, resolveRoute } from '../dataplane/routing.js';
import { describeBlock, type Entry, type NodeBranch, walkNetns } from '../dataplane/walk.js';
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
  if (route && !['blackhole', 'unreachable', 'prohibit'].includes(route.type)) return undefined;
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
    const any = ipFamily(ip) === 6 ? ['::', '*'] : ['0.0.0.0', '::', '*'];
    const ok = ns.listening.some(
      (s) => s.port === port && s.protocol === proto && [...any, ip].includes(s.address),
    );
    if (ok) return { status: 'ok', evidence: `${ssFile}: listening on ${proto.toLowerCase()} ${port}` };
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
