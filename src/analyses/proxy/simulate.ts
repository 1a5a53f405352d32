// loadNodeProxy: a node's kube-proxy dataplane from its bundle files (parsed once, cached per
// model and node). simulatePacket: one packet through it, as the kernel would run it, giving
// the PacketFlow. Pure: the only input is the model (and its node files).

import { ipFamily, isCanonicalIPv4, isIP, normalizeIP } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import { type NodeState, nodeState } from '../../model/node-state.js';
import { chainRuleTexts } from '../../model/rule-lines.js';
import type { IptablesDump } from '../../parsers/iptables-save.js';
import type { IpvsDump, IpvsVirtualServer } from '../../parsers/ipvsadm.js';
import type { NftRuleset } from '../../parsers/nft.js';
import {
  type HookBranch,
  type KPacket,
  type NetfilterRules,
  newPacket,
  type RuleRef,
  runHook,
} from '../dataplane/netfilter.js';
import { classifyKubeChain } from './chain-names.js';
import { buildIpvsIpsets, ipsetResolver } from './ipsets.js';
import type { IpsetResolver } from './iptables-eval.js';
import {
  type Dataplane,
  type FlowEndpoint,
  type FlowOutcome,
  lowerProtocol,
  type Packet,
  type PacketFlow,
} from './packet.js';
import { buildServiceIndex, type ServiceIndex, serviceForDestination } from './service-index.js';
import { nodeIPsOf, type ProxyServicePort, proxyModeFromModel } from './service-ports.js';

export interface NodeProxyRules {
  node: string;
  mode: Dataplane;
  /** How the mode was decided. */
  modeReason: string;
  iptables?: IptablesDump;
  ip6tables?: IptablesDump;
  ipvs?: IpvsDump;
  nft?: NftRuleset;
  /** Addresses the node owns (node IPs, ip-addr.json, kube-ipvs0 VIPs in IPVS mode). */
  localAddresses: Set<string>;
  /** The node's own addresses (without IPVS virtual-server addresses). */
  nodeAddresses: string[];
  index: ServiceIndex;
  /** Bundle paths of the files read, for messages. */
  files: { iptables?: string; ip6tables?: string; ipvs?: string; nft?: string };
}

export const PROXY_FILES = {
  iptables: 'iptables-save.txt',
  ip6tables: 'ip6tables-save.txt',
  ipvs: 'ipvsadm.txt',
  nft: 'nft.json',
} as const;

const cache = new WeakMap<ClusterModel, Map<string, NodeProxyRules | undefined>>();

/** The nodes whose bundle files hold kube-proxy dumps. */
export function nodesWithProxyRules(model: ClusterModel): string[] {
  return model.nodeFiles.nodes().filter((n) => loadNodeProxy(model, n));
}

/** Where a packet from `source` enters the node: a node address is local, a pod IP a pod's, else the uplink. */
export function packetEntry(model: ClusterModel, rules: NodeProxyRules, source: string): Packet['from'] {
  if (isLocalAddress(rules, source)) return 'local';
  return model.podsByIP(source).length > 0 ? 'pod' : 'external';
}

/**
 * Forgets a node's proxy rules and its parsed dumps (read again when next asked for): doctor,
 * done with a node, keeps one node's dumps in memory at a time.
 */
export function releaseNodeProxy(model: ClusterModel, nodeName: string): void {
  cache.get(model)?.delete(nodeName);
  nodeState(model, nodeName).forget(Object.values(PROXY_FILES));
}

/** The node's proxy rules, or undefined when the bundle has none of the dataplane files. */
export function loadNodeProxy(model: ClusterModel, nodeName: string): NodeProxyRules | undefined {
  let perModel = cache.get(model);
  if (!perModel) {
    perModel = new Map();
    cache.set(model, perModel);
  }
  if (perModel.has(nodeName)) return perModel.get(nodeName);
  // Built on first use: a node the trace only crosses never needs the Service index.
  const rules = readNodeProxy(model, nodeName, () => buildServiceIndex(model, nodeName));
  perModel.set(nodeName, rules);
  return rules;
}

/**
 * The node's proxy rules with its dumps read again and their parsed chains dropped, keeping
 * the Service index: a pass over every service port of a node (proxy at 10,000 Services)
 * holds only the chains read since the last reload, not the whole parsed dump.
 */
export function reloadNodeProxy(model: ClusterModel, rules: NodeProxyRules): NodeProxyRules {
  releaseNodeProxy(model, rules.node);
  const fresh = readNodeProxy(model, rules.node, rules.index) ?? rules;
  cache.get(model)?.set(rules.node, fresh);
  return fresh;
}

function readNodeProxy(
  model: ClusterModel,
  nodeName: string,
  index: NodeProxyInput['index'],
): NodeProxyRules | undefined {
  const state = nodeState(model, nodeName);
  const dumps = { iptables: state.iptables, ip6tables: state.ip6tables, ipvs: state.ipvs, nft: state.nft };
  const files: NodeProxyRules['files'] = {};
  for (const k of Object.keys(PROXY_FILES) as (keyof typeof PROXY_FILES)[])
    if (dumps[k] !== undefined) files[k] = state.describe(PROXY_FILES[k]);
  if (Object.keys(files).length === 0) return undefined;
  return buildNodeProxy({
    node: nodeName,
    index,
    ...dumps,
    nodeAddresses: [
      ...nodeIPsOf(model, nodeName, 4),
      ...nodeIPsOf(model, nodeName, 6),
      ...interfaceAddresses(state),
    ],
    configuredMode: proxyModeFromModel(model),
    files,
  });
}

/** The node's interface addresses; a malformed ip-addr.json only costs them (node health reports it). */
function interfaceAddresses(state: NodeState): string[] {
  try {
    return (state.addrs ?? []).flatMap((i) => i.addresses.map((a) => a.local)).filter(isIP);
  } catch {
    return [];
  }
}

export interface NodeProxyInput {
  node: string;
  /** The Service index, or how to build it when first needed. */
  index: ServiceIndex | (() => ServiceIndex);
  iptables?: IptablesDump;
  ip6tables?: IptablesDump;
  ipvs?: IpvsDump;
  nft?: NftRuleset;
  nodeAddresses: string[];
  configuredMode?: string;
  files?: NodeProxyRules['files'];
}

/** Assembles NodeProxyRules from parsed dumps (tests and the bench call this directly). */
export function buildNodeProxy(input: NodeProxyInput): NodeProxyRules {
  const { mode, reason } = detectProxyMode(input);
  const localAddresses = new Set(input.nodeAddresses.filter(isIP).map(normalizeIP));
  if (mode === 'ipvs')
    for (const vs of input.ipvs?.services ?? []) if (vs.address) localAddresses.add(normalizeIP(vs.address));
  const source = input.index;
  let index = typeof source === 'function' ? undefined : source;
  return {
    node: input.node,
    mode,
    modeReason: reason,
    iptables: input.iptables,
    ip6tables: input.ip6tables,
    ipvs: input.ipvs,
    nft: input.nft,
    localAddresses,
    nodeAddresses: input.nodeAddresses.filter(isIP).map(normalizeIP),
    get index(): ServiceIndex {
      index ??= (source as () => ServiceIndex)();
      return index;
    },
    files: input.files ?? {},
  };
}

function hasChainWithRules(
  dump: IptablesDump | undefined,
  table: string,
  pred: (name: string) => boolean,
): boolean {
  const t = dump?.tables.get(table);
  if (!t) return false;
  // Counted by their lines: whether rules exist needs none tokenized (KUBE-SERVICES is 13,000).
  for (const c of t.chains.values()) if (pred(c.name) && chainRuleTexts(c).length > 0) return true;
  return false;
}

/** Which dataplane the node's files show kube-proxy using. */
export function detectProxyMode(
  input: Pick<NodeProxyInput, 'iptables' | 'ip6tables' | 'ipvs' | 'nft' | 'configuredMode'>,
): {
  mode: Dataplane;
  reason: string;
} {
  const ipt = input.iptables ?? input.ip6tables;
  if ((input.ipvs?.services.length ?? 0) > 0)
    return { mode: 'ipvs', reason: 'ipvsadm lists virtual services' };
  if (
    ipt?.tables.get('nat')?.chains.has('KUBE-LOAD-BALANCER') ||
    ipt?.tables.get('filter')?.chains.has('KUBE-IPVS-FILTER')
  ) {
    return {
      mode: 'ipvs',
      reason: 'iptables has the IPVS-mode chains (KUBE-LOAD-BALANCER/KUBE-IPVS-FILTER)',
    };
  }
  if (hasChainWithRules(ipt, 'nat', (n) => /^KUBE-(SVC|SVL|EXT|SEP)-/.test(n) || n === 'KUBE-SERVICES')) {
    return { mode: 'iptables', reason: 'iptables nat table has KUBE-SERVICES / per-service chains' };
  }
  if (input.nft?.tables.some((t) => t.name === 'kube-proxy' && (t.family === 'ip' || t.family === 'ip6'))) {
    return { mode: 'nftables', reason: 'nft ruleset has table ip kube-proxy' };
  }
  const configured = input.configuredMode;
  if (configured === 'ipvs' || configured === 'nftables' || configured === 'iptables') {
    return { mode: configured, reason: `kube-proxy ConfigMap says mode: ${configured}` };
  }
  if (ipt) return { mode: 'iptables', reason: 'iptables-save present (no kube-proxy rules found)' };
  if (input.nft) return { mode: 'nftables', reason: 'nft.json present (no kube-proxy table found)' };
  return { mode: 'ipvs', reason: 'ipvsadm.txt present' };
}

export function isLocalAddress(rules: NodeProxyRules, ip: string): boolean {
  // Canonical IPv4 text is in 127.0.0.0/8 exactly when it starts with "127.".
  if (isCanonicalIPv4(ip)) return rules.localAddresses.has(ip) || ip.startsWith('127.');
  if (!isIP(ip)) return false;
  const n = normalizeIP(ip);
  if (rules.localAddresses.has(n)) return true;
  return ipFamily(n) === 4 ? n.startsWith('127.') : n === '::1';
}

/**
 * The finding a drop/reject flow turns into: kube-proxy's own REJECT/DROP (no endpoints,
 * source ranges, Local policy) → PROXY_REJECT; anyone else's rule → FILTER_DROP.
 */
export function classifyFlowDecision(flow: PacketFlow): 'PROXY_REJECT' | 'FILTER_DROP' | undefined {
  if (flow.outcome !== 'drop' && flow.outcome !== 'reject') return undefined;
  return flow.decidedBy === 'kube-proxy' ? 'PROXY_REJECT' : 'FILTER_DROP';
}

// ---------------------------------------------------------------------------------------

interface Outcome {
  verdict: 'accept' | 'drop' | 'reject';
  weight: number;
  dnat?: { ip: string; port: number };
  masquerade: boolean;
  decidingRule?: { text: string; kube: boolean };
  acceptedByKube?: string;
  evidence: string[];
  unknown?: string;
  service?: ProxyServicePort;
}

/** Runs `packet` through the node's dataplane. */
export function simulatePacket(rules: NodeProxyRules, packet: Packet): PacketFlow {
  const family = isIP(packet.destination) ? ipFamily(packet.destination) : 4;
  const base: PacketFlow = {
    node: rules.node,
    dataplane: rules.mode,
    packet: {
      source: packet.source,
      destination: packet.destination,
      port: packet.port,
      protocol: packet.protocol,
    },
    outcome: 'pass',
    endpoints: [],
    masquerade: false,
    service: null,
    evidence: [],
  };
  const notes: string[] = [];
  let outcomes: Outcome[];
  if (rules.mode === 'nftables') {
    if (!rules.nft) return { ...base, unknown: 'no nft.json for this node' };
    outcomes = runRules(rules, packet);
  } else {
    const dump = family === 6 ? rules.ip6tables : rules.iptables;
    if (!dump) {
      return {
        ...base,
        unknown: `no ${family === 6 ? PROXY_FILES.ip6tables : PROXY_FILES.iptables} for this node`,
      };
    }
    let ipsets: IpsetResolver | undefined;
    const used = new Set<string>();
    if (rules.mode === 'ipvs') {
      let sets = ipsetCache.get(rules);
      if (!sets) {
        sets = buildIpvsIpsets(rules.index, rules.ipvs, rules.nodeAddresses);
        ipsetCache.set(rules, sets);
      }
      ipsets = ipsetResolver(sets, used);
    }
    outcomes = runRules(rules, packet, ipsets);
    if (used.size > 0)
      notes.push(
        `ipset contents (${[...used].sort().join(', ')}) derived from the API; ipset list not captured`,
      );
  }
  return summarize(rules, packet, base, outcomes, notes);
}

function serviceFromRules(index: ServiceIndex, rs: readonly RuleRef[]): ProxyServicePort | undefined {
  for (const r of rs) {
    if (r.table.includes(' ')) {
      // nftables: kube-proxy's chains are named for the service port.
      if (!r.kube) continue;
      const m = /^(service|local|external|firewall|endpoint)-(.+)$/.exec(r.chain);
      if (!m) continue;
      const sp = m[1] === 'endpoint' ? index.byNftEndpointBase.get(m[2])?.sp : index.byNftBase.get(m[2]);
      if (sp) return sp;
      continue;
    }
    for (const name of [r.chain, r.target]) {
      if (!name) continue;
      const k = classifyKubeChain(name);
      if (!k) continue;
      if (k.kind === 'SEP') {
        const hit = index.bySepChain.get(name);
        if (hit) return hit.sp;
      } else {
        const sp = index.hash(k.hash, commentedService(r.text));
        if (sp) return sp;
      }
    }
  }
  return undefined;
}

/** The Service a kube-proxy rule's comment names ("ns/name:port …"): a hint, never evidence. */
function commentedService(text: string): { namespace: string; name: string } | undefined {
  const m = /--comment "?([^/"\s]+)\/([^:"\s]+)/.exec(text);
  return m ? { namespace: m[1], name: m[2] } : undefined;
}

/** The node's kube-proxy rules (the mode's own ruleset) hook by hook, as the kernel runs them. */
function runRules(rules: NodeProxyRules, packet: Packet, ipsets?: IpsetResolver): Outcome[] {
  const isLocal = (ip: string) => isLocalAddress(rules, ip);
  const nf: NetfilterRules =
    rules.mode === 'nftables'
      ? { nft: rules.nft, isLocal }
      : { iptables: rules.iptables, ip6tables: rules.ip6tables, isLocal, ipsets };
  const io = { inInterface: packet.inInterface, from: packet.from };
  const finals: HookBranch[] = [];
  const afterIpvs = (b: HookBranch): HookBranch[] => {
    if (rules.mode !== 'ipvs' || !isLocal(b.pkt.dst) || b.pkt.dnat) return [b];
    return ipvsStep(rules, b.pkt);
  };
  const toPost = (bs: HookBranch[]) => {
    for (const b of bs) {
      if (b.verdict !== 'accept') finals.push(b);
      else for (const p of runHook(nf, 'postrouting', b.pkt, io)) finals.push(p);
    }
  };
  const st0 = newPacket({
    src: packet.source,
    dst: packet.destination,
    dport: packet.port,
    proto: lowerProtocol(packet.protocol),
  });
  if (packet.from === 'local') {
    for (const b of runHook(nf, 'output', st0, io)) {
      if (b.verdict !== 'accept') finals.push(b);
      else toPost(afterIpvs(b));
    }
  } else {
    for (const b of runHook(nf, 'prerouting', st0, io)) {
      if (b.verdict !== 'accept') finals.push(b);
      else if (isLocal(b.pkt.dst)) {
        for (const c of runHook(nf, 'input', b.pkt, io)) {
          if (c.verdict !== 'accept') finals.push(c);
          else {
            const after = afterIpvs(c);
            if (after.length === 1 && after[0] === c) finals.push(c);
            else toPost(after);
          }
        }
      } else toPost(runHook(nf, 'forward', b.pkt, io));
    }
  }
  return finals.map((b) => ({
    verdict: b.verdict,
    weight: b.pkt.weight,
    dnat: b.pkt.dnat ? { ip: b.pkt.dnat.ip, port: b.pkt.dnat.port } : undefined,
    masquerade: b.pkt.masquerade,
    decidingRule:
      b.verdict !== 'accept' && b.decided ? { text: b.decided.text, kube: b.decided.kube } : undefined,
    acceptedByKube: b.pkt.acceptedByKube,
    evidence: b.pkt.evidence.map((r) => r.text),
    unknown: b.pkt.unknown,
    service: serviceFromRules(rules.index, b.pkt.evidence),
  }));
}

/** IPVS: the virtual server for (proto, dst, port) picks a real server. */
export function ipvsStep(rules: NodeProxyRules, pkt: KPacket): HookBranch[] {
  const proto = pkt.proto.toUpperCase();
  const vs: IpvsVirtualServer | undefined = rules.ipvs?.services.find(
    (s) =>
      s.protocol === proto && s.port === pkt.dport && isIP(s.address) && normalizeIP(s.address) === pkt.dst,
  );
  if (!vs) return [{ pkt, verdict: 'accept' }];
  const vsRef: RuleRef = { text: vs.text, table: 'ipvs', chain: 'KUBE-IPVS', kube: true };
  const live = vs.realServers.filter((r) => r.weight > 0);
  const total = live.reduce((n, r) => n + r.weight, 0);
  if (live.length === 0)
    return [{ pkt: { ...pkt, evidence: [...pkt.evidence, vsRef] }, verdict: 'reject', decided: vsRef }];
  return live.map((r) => {
    const ip = normalizeIP(r.address);
    const rsRef: RuleRef = { ...vsRef, text: `${vs.text} -> ${r.address}:${r.port} weight ${r.weight}` };
    return {
      pkt: {
        ...pkt,
        dst: ip,
        dport: r.port,
        weight: (pkt.weight * r.weight) / total,
        dnat: { ip, port: r.port, rule: rsRef.text },
        evidence: [...pkt.evidence, rsRef],
      },
      verdict: 'accept' as const,
    };
  });
}

const ipsetCache = new WeakMap<NodeProxyRules, ReturnType<typeof buildIpvsIpsets>>();

const round = (x: number) => Math.round(x * 1e6) / 1e6;

function summarize(
  rules: NodeProxyRules,
  packet: Packet,
  base: PacketFlow,
  outcomes: Outcome[],
  notes: string[],
): PacketFlow {
  const flow: PacketFlow = { ...base };
  const alive = outcomes.filter((o) => o.verdict === 'accept');
  const dnat = alive.filter((o) => o.dnat);
  const blocked = outcomes.filter((o) => o.verdict === 'drop' || o.verdict === 'reject');
  const byEndpoint = new Map<string, FlowEndpoint>();
  for (const o of dnat) {
    const d = o.dnat as { ip: string; port: number };
    const k = `${d.ip}|${d.port}`;
    const e = byEndpoint.get(k);
    if (e) {
      e.probability += o.weight;
      e.masquerade = e.masquerade || o.masquerade;
    } else byEndpoint.set(k, { ip: d.ip, port: d.port, probability: o.weight, masquerade: o.masquerade });
  }
  flow.endpoints = [...byEndpoint.values()].map((e) => ({ ...e, probability: round(e.probability) }));
  let outcome: FlowOutcome;
  const blockedWeight = blocked.reduce((n, o) => n + o.weight, 0);
  if (dnat.length > 0) outcome = 'dnat';
  else if (blocked.length > 0 && blockedWeight >= alive.reduce((n, o) => n + o.weight, 0)) {
    outcome = blocked[0].verdict as 'drop' | 'reject';
  } else if (alive.some((o) => o.acceptedByKube)) outcome = 'accept';
  else outcome = 'pass';
  flow.outcome = outcome;
  flow.masquerade = (outcome === 'dnat' ? dnat : alive).some((o) => o.masquerade);
  const decided = outcome === 'drop' || outcome === 'reject' ? blocked[0] : undefined;
  if (decided?.decidingRule) {
    flow.decidingRule = decided.decidingRule.text;
    flow.decidedBy = decided.decidingRule.kube ? 'kube-proxy' : 'other';
  } else if (outcome === 'accept') {
    flow.decidingRule = alive.find((o) => o.acceptedByKube)?.acceptedByKube;
    flow.decidedBy = 'kube-proxy';
  }
  if (dnat.length > 0 && blocked.length > 0) {
    notes.push(
      `${round(blockedWeight)} of the traffic is ${blocked[0].verdict}ed after DNAT by: ${blocked[0].decidingRule?.text ?? '?'}`,
    );
  }
  const relevant = outcome === 'dnat' ? dnat : outcome === 'drop' || outcome === 'reject' ? blocked : alive;
  const ev: string[] = [];
  const seen = new Set<string>();
  for (const o of relevant) {
    for (const line of o.evidence) {
      if (!seen.has(line)) {
        seen.add(line);
        ev.push(line);
      }
    }
  }
  if (flow.decidingRule && !seen.has(flow.decidingRule)) ev.push(flow.decidingRule);
  flow.evidence = ev;
  const unknown = outcomes.find((o) => o.unknown)?.unknown;
  if (unknown) flow.unknown = unknown;
  const proto = lowerProtocol(packet.protocol);
  const sp =
    relevant.find((o) => o.service)?.service ??
    outcomes.find((o) => o.service)?.service ??
    (isIP(packet.destination)
      ? serviceForDestination(rules.index, packet.destination, proto, packet.port, (ip) =>
          isLocalAddress(rules, ip),
        )
      : undefined);
  flow.service = sp ? sp.spn : null;
  if (sp?.affinityTimeout !== undefined) flow.sessionAffinity = { timeoutSeconds: sp.affinityTimeout };
  if (rules.mode === 'ipvs') {
    const vs = rules.ipvs?.services.find(
      (s) =>
        s.protocol === packet.protocol &&
        s.port === packet.port &&
        isIP(s.address) &&
        isIP(packet.destination) &&
        normalizeIP(s.address) === normalizeIP(packet.destination),
    );
    if (vs?.persistent) flow.sessionAffinity = { timeoutSeconds: vs.persistent };
  }
  if (notes.length) flow.notes = notes;
  return flow;
}
