// One packet through one network namespace, in the kernel's order:
//   arriving:   raw/mangle/nat PREROUTING → routing decision (local table, ip rules,
//               rp_filter, ip_forward) → mangle/filter INPUT (→ IPVS) or mangle/filter FORWARD
//               → mangle/nat POSTROUTING
//   originated: raw/mangle/nat/filter OUTPUT (→ IPVS) → routing → mangle/nat POSTROUTING, or
//               INPUT when the destination is the namespace itself
// The answer is one branch per way the packet can go (statistic/numgen and IPVS split it), each
// with the packet as it leaves and what decided its fate. The trace calls this for every
// namespace the packet crosses: the source pod's, each node's, the destination pod's.
import { ipFamily } from '../../core/ip.js';
import type { IpRoute, IpRule } from '../../parsers/iproute2.js';
import { ipvsStep } from '../proxy/simulate.js';
import { type Hook, type HookBranch, type KPacket, type RuleRef, runHook } from './netfilter.js';
import type { Netns } from './netns.js';
import { isBlockingRoute, resolveRoute, routeDevice } from './routing.js';
import { ipForwarding, rpFilter } from './sysctls.js';

export type Entry =
  /** Sent by a process of the namespace (a pod's application, a host-network process). */
  | { kind: 'originate' }
  /** Received on an interface (`iif`: a pod's host veth, the uplink, an overlay device). */
  | { kind: 'arrive'; iif?: string; from: 'pod' | 'external' };

export type Fate =
  /** Delivered to the namespace's own sockets. */
  | { kind: 'local' }
  /** Sent out by this route (undefined: the namespace's routes are not in the bundle). */
  | { kind: 'out'; route?: IpRoute; rule?: IpRule }
  /** A netfilter rule (or chain policy) dropped or rejected it. */
  | { kind: 'blocked'; verdict: 'drop' | 'reject'; hook: Hook; rule?: RuleRef }
  /** No route, or a blackhole/unreachable/prohibit one. */
  | { kind: 'no-route'; route?: IpRoute; rule?: IpRule }
  /** Reverse-path filtering: the way back to the source does not leave by `iif`. */
  | { kind: 'rp-filter'; iif: string; value: number; keys: string[]; back?: IpRoute }
  /** The namespace must forward but forwarding is off. */
  | { kind: 'no-forward'; key: string };

export interface NodeBranch {
  pkt: KPacket;
  fate: Fate;
  /** The namespace's netfilter rules are not in the bundle: the hooks were not evaluated. */
  rulesUnknown?: boolean;
}

function hook(ns: Netns, name: Hook, pkt: KPacket, entry: Entry): HookBranch[] {
  if (!ns.rules) return [{ pkt, verdict: 'accept' }];
  const io =
    entry.kind === 'arrive' ? { inInterface: entry.iif, from: entry.from } : { from: 'local' as const };
  return runHook(ns.rules, name, pkt, io);
}

/** A branch a rule (or the chain's policy) stopped at `hook`. */
function blocked(b: HookBranch, hook: Hook): NodeBranch {
  return {
    pkt: b.pkt,
    fate: { kind: 'blocked', verdict: b.verdict as 'drop' | 'reject', hook, rule: b.decided },
  };
}

/** Runs `name` on every live branch; blocked ones become final. */
function stage(ns: Netns, name: Hook, live: KPacket[], entry: Entry, finals: NodeBranch[]): KPacket[] {
  const next: KPacket[] = [];
  for (const p of live) {
    for (const b of hook(ns, name, p, entry)) {
      if (b.verdict === 'accept') next.push(b.pkt);
      else finals.push(blocked(b, name));
    }
  }
  return next;
}

/** The namespace owns `ip`: by its rules' view of local addresses, else by its interfaces. */
export function isLocalTo(ns: Netns, ip: string): boolean {
  return ns.rules?.isLocal(ip) ?? ns.addrs?.some((i) => i.addresses.some((a) => a.local === ip)) ?? false;
}

/** The routing decision: local delivery, a route out, or none. */
function decide(ns: Netns, pkt: KPacket, iif: string | undefined): Fate {
  if (!ns.routes) return isLocalTo(ns, pkt.dst) ? { kind: 'local' } : { kind: 'out' };
  // Pods' files hold the main table only: their own addresses are local.
  if (ns.kind === 'pod' && isLocalTo(ns, pkt.dst)) return { kind: 'local' };
  const { route, rule } = resolveRoute(ns.routes, ns.ipRules, {
    dst: pkt.dst,
    src: pkt.src,
    iif,
    mark: pkt.mark,
  });
  if (!route) return isLocalTo(ns, pkt.dst) ? { kind: 'local' } : { kind: 'no-route', rule };
  if (route.type === 'local') return { kind: 'local' };
  if (isBlockingRoute(route)) return { kind: 'no-route', route, rule };
  return { kind: 'out', route, rule };
}

/** rp_filter on the interface the packet arrived on: 1 needs the way back out of it, 2 any way back. */
export function reversePathFails(
  ns: Netns,
  pkt: KPacket,
  iif: string,
): Extract<Fate, { kind: 'rp-filter' }> | undefined {
  if (!ns.sysctl || !ns.routes || ipFamily(pkt.src) !== 4) return undefined;
  const rp = rpFilter(ns.sysctl, iif);
  if (!rp || rp.value === 0) return undefined;
  const { route } = resolveRoute(ns.routes, ns.ipRules, { dst: pkt.src, src: pkt.dst });
  const usable = route && !isBlockingRoute(route);
  const fits = usable && (rp.value === 2 || routeDevice(route) === iif || route.type === 'local');
  if (fits) return undefined;
  return { kind: 'rp-filter', iif, value: rp.value, keys: rp.keys, back: route };
}

/** After INPUT: IPVS takes packets for its virtual servers and sends them on (LOCAL_IN). */
function ipvsOrLocal(ns: Netns, pkt: KPacket): HookBranch[] | undefined {
  const proxy = ns.proxy;
  if (proxy?.mode !== 'ipvs' || pkt.dnat) return undefined;
  const out = ipvsStep(proxy, pkt);
  return out.length === 1 && out[0].pkt === pkt ? undefined : out;
}

export function walkNetns(ns: Netns, pkt: KPacket, entry: Entry): NodeBranch[] {
  const finals: NodeBranch[] = [];
  const iif = entry.kind === 'arrive' ? entry.iif : undefined;
  // IPVS sent the packet on from LOCAL_IN: routed again for its new destination, then out.
  const leave = (p: KPacket) => {
    const decided = decide(ns, p, iif);
    const fate: Fate = decided.kind === 'local' ? { kind: 'out' } : decided;
    for (const q of stage(ns, 'postrouting', [p], entry, finals)) finals.push({ pkt: q, fate });
  };
  const deliver = (live: KPacket[]) => {
    for (const p of stage(ns, 'input', live, entry, finals)) {
      const ipvs = ipvsOrLocal(ns, p);
      if (!ipvs) {
        finals.push({ pkt: p, fate: { kind: 'local' } });
        continue;
      }
      for (const b of ipvs) {
        if (b.verdict === 'accept') leave(b.pkt);
        else finals.push(blocked(b, 'input'));
      }
    }
  };

  if (entry.kind === 'originate') {
    let live = stage(ns, 'output', [pkt], entry, finals);
    // IPVS answers locally sent packets to its virtual servers too.
    live = live.flatMap((p) => {
      const ipvs = ipvsOrLocal(ns, p);
      if (!ipvs) return [p];
      for (const b of ipvs) if (b.verdict !== 'accept') finals.push(blocked(b, 'output'));
      return ipvs.filter((b) => b.verdict === 'accept').map((b) => b.pkt);
    });
    for (const p of live) {
      const fate = decide(ns, p, undefined);
      if (fate.kind === 'local') deliver([p]);
      else if (fate.kind !== 'out') finals.push({ pkt: p, fate });
      else {
        for (const q of stage(ns, 'postrouting', [p], entry, finals)) finals.push({ pkt: q, fate });
      }
    }
  } else {
    for (const p of stage(ns, 'prerouting', [pkt], entry, finals)) {
      const fate = decide(ns, p, iif);
      const rp = iif ? reversePathFails(ns, p, iif) : undefined;
      if (rp) {
        finals.push({ pkt: p, fate: rp });
        continue;
      }
      if (fate.kind === 'local') {
        deliver([p]);
        continue;
      }
      if (fate.kind !== 'out') {
        finals.push({ pkt: p, fate });
        continue;
      }
      const forwarding = ns.sysctl ? ipForwarding(ns.sysctl, ipFamily(p.dst)) : undefined;
      if (forwarding === false && ns.kind === 'node') {
        const key = ipFamily(p.dst) === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding';
        finals.push({ pkt: p, fate: { kind: 'no-forward', key } });
        continue;
      }
      for (const q of stage(ns, 'forward', [p], entry, finals)) {
        for (const r of stage(ns, 'postrouting', [q], entry, finals)) finals.push({ pkt: r, fate });
      }
    }
  }
  if (!ns.rules) for (const f of finals) f.rulesUnknown = true;
  return finals;
}

/** Text for a blocked fate: node, hook, table, chain and the rule. */
export function describeBlock(ns: Netns, fate: Extract<Fate, { kind: 'blocked' }>): string {
  const where = fate.rule ? `${fate.rule.table} ${fate.rule.chain}` : fate.hook;
  return `${ns.label}: ${where}: ${fate.rule?.text ?? `${fate.verdict} at ${fate.hook}`}`;
}
