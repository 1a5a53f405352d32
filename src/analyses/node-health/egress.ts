// Egress from a pod to an address outside the cluster: the egress NetworkPolicy on the way, the
// node's filter and NAT rules (which masquerade/SNAT rule rewrites the source, or that none
// does), and the route the node sends it by. Hops are in the trace's Hop shape so that
// `knet trace pod/… ip/ADDR:PORT` can splice them in (docs/outside-in.md).

import { cidrContains, ipFamily, ipOrNull, normalizeIP } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { nodeState } from '../../model/node-state.js';
import type { Pod, Protocol } from '../../model/types.js';
import {
  formatRoute,
  isBlockingRoute,
  resolveRoute,
  routeDevice,
  routeGateway,
} from '../dataplane/routing.js';
import { evaluatePolicy } from '../policy/evaluate.js';
import type { PacketFlow } from '../proxy/packet.js';
import { clusterCIDRFromModel } from '../proxy/service-ports.js';
import { classifyFlowDecision, loadNodeProxy, simulatePacket } from '../proxy/simulate.js';
import type { Hop } from '../trace/types.js';

export interface EgressQuery {
  destination: string;
  port: number;
  protocol?: Protocol;
}

export interface EgressPlan {
  node: string | null;
  source: string | null;
  destination: string;
  port: number;
  protocol: Protocol;
  /** true: the source is rewritten to a node address; false: it leaves as the pod IP; null: unknown. */
  masquerade: boolean | null;
  /** The rule that rewrites the source (iptables-save / nft line), when one does. */
  masqueradeRule: string | null;
  /** The address replies come back to (the node's address on the outgoing interface), when masqueraded. */
  translatedSource: string | null;
  /** The node's route toward the destination (`ip route` text). */
  route: string | null;
  hops: Hop[];
  findings: Finding[];
  notes: string[];
}

const podRef = (p: Pod) => `pod/${p.namespace}/${p.name}`;

/** The rule line in a flow's evidence that rewrote the source address. */
function natRule(flow: PacketFlow): string | null {
  const lines = flow.evidence.filter((l) => /(-j (MASQUERADE|SNAT)\b)|\b(masquerade|snat to)\b/.test(l));
  return lines.at(-1) ?? null;
}

/** An address the cluster itself owns: pod CIDRs, kube-proxy's clusterCIDR, node and service addresses. */
function insideCluster(model: ClusterModel, ip: string): boolean {
  if (model.nodes.some((n) => n.podCIDRs.some((c) => cidrContains(c, ip)))) return true;
  const clusterCIDR = clusterCIDRFromModel(model, ipFamily(ip));
  if (clusterCIDR && cidrContains(clusterCIDR, ip)) return true;
  if (model.nodeByIP(ip)) return true;
  const k = normalizeIP(ip);
  return model.services.some((s) =>
    [...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIPs].some((a) => normalizeIP(a) === k),
  );
}

/** Pod → outside address, as the pod's node handles it. */
export function egressPlan(model: ClusterModel, pod: Pod, query: EgressQuery): EgressPlan {
  const protocol = query.protocol ?? 'TCP';
  const node = pod.nodeName ?? null;
  const family = ipFamily(query.destination);
  const source = pod.ips.find((ip) => ipFamily(ip) === family) ?? null;
  const plan: EgressPlan = {
    node,
    source,
    destination: query.destination,
    port: query.port,
    protocol,
    masquerade: null,
    masqueradeRule: null,
    translatedSource: null,
    route: null,
    hops: [],
    findings: [],
    notes: [],
  };
  const add = (f: Finding) => {
    plan.findings.push(f);
    return f.code;
  };
  if (!node || !source) {
    const f = add(
      finding(node ? 'POD_NO_IP' : 'POD_NOT_RUNNING', {
        message: `Pod ${pod.namespace}/${pod.name} ${node ? `has no IPv${family} address` : 'is not scheduled to a node'}: it cannot send to ${query.destination}.`,
        objects: [podRef(pod)],
      }),
    );
    plan.hops.push({ kind: 'drop', detail: 'the pod cannot send', status: 'broken', findings: [f] });
    return plan;
  }
  if (insideCluster(model, query.destination)) {
    plan.notes.push(
      `${query.destination} belongs to the cluster (a pod CIDR, node or service address): use the ordinary trace for it.`,
    );
  }

  // 1. Egress NetworkPolicy at the source pod.
  if (!pod.hostNetwork) {
    const verdict = evaluatePolicy(model, {
      source: { kind: 'pod', pod },
      destination: { kind: 'ip', ip: query.destination },
      port: query.port,
      protocol,
    });
    const e = verdict.egress;
    const codes = verdict.findings.filter((f) => f.code === 'POLICY_DENIED_EGRESS').map(add);
    plan.hops.push({
      kind: 'policy',
      node,
      detail: `egress ${e.verdict}${e.allowedBy.length ? ` by ${e.allowedBy.map((r) => `${r.policy}#${r.rule}`).join(', ')}` : e.isolated ? ` (isolated by ${e.policies.join(', ')})` : ' (not isolated)'}`,
      status: e.allowed === true ? 'ok' : e.allowed === false ? 'broken' : 'unknown',
      evidence: [e.reason, ...e.evidence].join('\n'),
      ...(codes.length ? { findings: codes } : {}),
    });
    plan.notes.push(...verdict.notes);
  }

  // 2. The node's filter and NAT rules (FORWARD and POSTROUTING included).
  const rules = loadNodeProxy(model, node);
  if (!rules) {
    const f = add(
      finding('NO_NODE_DATA', {
        message: `Node ${node}'s packet filter and NAT rules are not in the bundle: whether ${query.destination} is reached with the pod IP or a node address is unknown.`,
        objects: [`node/${node}`],
        evidence: ['iptables-save.txt', 'nft.json'].map((f) => model.nodeFiles.describe(node, f)),
      }),
    );
    plan.hops.push({
      kind: 'masquerade',
      node,
      detail: 'source NAT unknown (no rules captured)',
      status: 'unknown',
      inferred: true,
      findings: [f],
    });
  } else {
    const flow = simulatePacket(rules, {
      source,
      destination: query.destination,
      port: query.port,
      protocol,
      from: pod.hostNetwork ? 'local' : 'pod',
    });
    const evidence = flow.evidence.join('\n');
    if (flow.outcome === 'drop' || flow.outcome === 'reject') {
      const rule = flow.decidingRule ?? flow.evidence.at(-1) ?? '';
      const code = classifyFlowDecision(flow) ?? 'FILTER_DROP';
      const f = add(
        finding(code === 'PROXY_REJECT' ? 'FILTER_DROP' : code, {
          message: `A firewall rule on node ${node} ${flow.outcome === 'reject' ? 'rejects' : 'drops'} ${source} → ${query.destination}:${query.port}.`,
          objects: [`node/${node}`, podRef(pod)],
          evidence: [rule],
        }),
      );
      plan.hops.push({ kind: flow.outcome, node, detail: rule, status: 'broken', evidence, findings: [f] });
      return plan;
    }
    if (flow.outcome === 'dnat') {
      plan.notes.push(
        `kube-proxy on ${node} translates ${query.destination}:${query.port}: it is a service address; use the ordinary trace.`,
      );
    }
    plan.masquerade = flow.unknown && !flow.masquerade ? null : flow.masquerade;
    plan.masqueradeRule = flow.masquerade ? natRule(flow) : null;
    if (flow.unknown) plan.notes.push(`the rules could not be fully evaluated: ${flow.unknown}`);
  }

  // 3. The route out of the node.
  const state = nodeState(model, node);
  const routes = state.routes;
  let outDev: string | undefined;
  if (!routes) {
    plan.hops.push({
      kind: 'route',
      node,
      detail: `route to ${query.destination} unknown (no ${state.describe('ip-route.json')})`,
      status: 'unknown',
      inferred: true,
    });
  } else {
    // The pod's packet is routed with its own source: VPC CNIs send it through a per-ENI table.
    const route = resolveRoute(routes, state.ipRules, { dst: query.destination, src: source }).route;
    if (!route || isBlockingRoute(route)) {
      const f = add(
        finding('ROUTE_MISSING', {
          message: `Node ${node} has no route to ${query.destination}${route ? ` (${route.type} route)` : ' (no default route)'}.`,
          objects: [`node/${node}`],
          evidence: [
            route
              ? `${state.describe('ip-route.json')}: ${formatRoute(route)}`
              : `${state.describe('ip-route.json')}: no route matches ${query.destination}`,
          ],
        }),
      );
      plan.hops.push({
        kind: 'drop',
        node,
        detail: `no route to ${query.destination}`,
        status: 'broken',
        findings: [f],
      });
      return plan;
    }
    plan.route = formatRoute(route);
    outDev = routeDevice(route);
    const gw = routeGateway(route);
    plan.hops.push({
      kind: 'route',
      node,
      detail: `${query.destination} ${gw ? `via ${gw} ` : ''}dev ${outDev ?? '?'}`,
      status: 'ok',
      evidence: `${state.describe('ip-route.json')}: ${plan.route}`,
    });
    if (plan.masquerade) {
      const iface = state.addrs?.find((i) => i.ifname === outDev);
      plan.translatedSource =
        route.prefsrc ??
        iface?.addresses.find((a) => a.scope === 'global' && ipFamily(a.local) === family)?.local ??
        null;
    }
  }

  // 4. Source NAT: the rule that applies, or its absence.
  if (rules) {
    if (plan.masquerade) {
      plan.hops.splice(plan.hops.length - (routes ? 1 : 0), 0, {
        kind: 'masquerade',
        node,
        detail: `source ${source} rewritten to ${plan.translatedSource ?? `node ${node}'s address`}${outDev ? ` on ${outDev}` : ''}`,
        status: 'ok',
        ...(plan.masqueradeRule ? { evidence: plan.masqueradeRule } : {}),
      });
    } else if (plan.masquerade === false && !insideCluster(model, query.destination)) {
      const f = add(
        finding('EGRESS_NOT_MASQUERADED', {
          message: `Pod ${pod.namespace}/${pod.name}'s packets to ${query.destination} leave node ${node} with the pod IP ${source} as their source: no masquerade or SNAT rule applies.`,
          objects: [podRef(pod), `node/${node}`],
          evidence: [
            `${rules.files.iptables ?? rules.files.nft ?? 'rules'}: no MASQUERADE/SNAT rule in POSTROUTING matches ${source} → ${query.destination}`,
          ],
        }),
      );
      // A private source address on the public internet gets no answer: certainly broken.
      // Toward another private network, routes outside the cluster may still bring replies back.
      const lost =
        ipOrNull(source)?.range() === 'private' && ipOrNull(query.destination)?.range() === 'unicast';
      plan.hops.splice(plan.hops.length - (routes ? 1 : 0), 0, {
        kind: 'snat',
        node,
        detail: `no source NAT: leaves as ${source}${lost ? `, a private address no public network routes back` : ''}`,
        status: lost ? 'broken' : 'unknown',
        findings: [f],
      });
    }
  }
  plan.hops.push({
    kind: 'external',
    detail: `${query.destination}:${query.port} outside the cluster${plan.masquerade ? ` (replies to ${plan.translatedSource ?? 'the node'})` : ''}`,
    status: plan.masquerade === false ? 'unknown' : plan.masquerade === null ? 'unknown' : 'ok',
  });
  return plan;
}
