// Netfilter as one network namespace runs it: at each hook, every base chain registered there
// — iptables' built-in chains (legacy or nft back end, from iptables-save) and the base chains
// of every nftables table (kube-proxy's, firewalld's, Calico's, a hand-made `inet filter`) —
// in priority order. A drop anywhere is final; an accept only ends that base chain, and the
// packet goes on to the next one (packet-path.md, "nftables specifics").
import { ipFamily, isIP, normalizeIP } from '../../core/ip.js';
import type { IptablesDump, IptablesRule } from '../../parsers/iptables-save.js';
import type { NftRule, NftRuleset } from '../../parsers/nft.js';
import { type IpsetResolver, IptablesWalker, iptablesPolicyRule } from '../proxy/iptables-eval.js';
import { NftWalker, nftPolicyRule } from '../proxy/nft-eval.js';
import { evidenceOf, type WalkState } from '../proxy/walk-state.js';

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** A rule that a packet met, with where it lives: enough to name it in a finding. */
export interface RuleRef {
  text: string;
  /** iptables: the jump target (`-j X`), which names kube-proxy's per-service chains. */
  target?: string;
  table: string;
  chain: string;
  /** kube-proxy's own rule (KUBE-* chains, table ip kube-proxy), not someone else's. */
  kube: boolean;
  /** The chain's default policy decided, not a rule. */
  policy?: boolean;
}

/**
 * The first packet of a new connection inside one network namespace: its addresses after the
 * NAT done so far, its skb mark (local to the namespace), its share of new connections, and
 * the rules it met here.
 */
export interface KPacket {
  src: string;
  dst: string;
  dport: number;
  proto: 'tcp' | 'udp' | 'sctp';
  mark: number;
  weight: number;
  /** The DNAT this namespace applied (conntrack undoes it on the reply). */
  dnat?: { ip: string; port: number; rule: string };
  /** Masqueraded (SNAT to the outgoing interface's address) on the way out. */
  masquerade: boolean;
  /** kube-proxy's rule that accepted the packet (e.g. KUBE-FORWARD's mark accept). */
  acceptedByKube?: string;
  /** A match the evaluators cannot decide, met on the way. */
  unknown?: string;
  evidence: RuleRef[];
}

export interface HookBranch {
  pkt: KPacket;
  verdict: 'accept' | 'drop' | 'reject';
  decided?: RuleRef;
}

/** The rules of one network namespace. */
export interface NetfilterRules {
  iptables?: IptablesDump;
  ip6tables?: IptablesDump;
  nft?: NftRuleset;
  isLocal(ip: string): boolean;
  /** IPVS mode: kube-proxy's ipsets, derived from the API. */
  ipsets?: IpsetResolver;
}

export interface HookIO {
  inInterface?: string;
  /** Where the packet entered the namespace (physdev matches). */
  from?: 'pod' | 'local' | 'external';
}

/** iptables' tables at each hook, with the priorities nftables uses for them. */
const IPTABLES_STAGES: Record<Hook, [string, number][]> = {
  prerouting: [
    ['raw', -300],
    ['mangle', -150],
    ['nat', -100],
  ],
  input: [
    ['mangle', -150],
    ['filter', 0],
    ['security', 50],
    ['nat', 100],
  ],
  forward: [
    ['mangle', -150],
    ['filter', 0],
    ['security', 50],
  ],
  output: [
    ['raw', -300],
    ['mangle', -150],
    ['nat', -100],
    ['filter', 0],
    ['security', 50],
  ],
  postrouting: [
    ['mangle', -150],
    ['nat', 100],
  ],
};

const IPTABLES_TABLE_NAMES = new Set(['raw', 'mangle', 'nat', 'filter', 'security']);

export function isKubeProxyIptablesRule(rule: Pick<IptablesRule, 'chain' | 'target'>): boolean {
  return rule.chain.startsWith('KUBE-') || (rule.target?.startsWith('KUBE-') ?? false);
}

export function isKubeProxyNftRule(rule: Pick<NftRule, 'table' | 'family'>): boolean {
  return rule.table === 'kube-proxy' && (rule.family === 'ip' || rule.family === 'ip6');
}

function iptablesRef(r: IptablesRule): RuleRef {
  const policy = r.text.startsWith('-P ');
  return {
    text: r.text,
    target: r.target,
    table: r.table,
    chain: r.chain,
    kube: !policy && isKubeProxyIptablesRule(r),
    policy,
  };
}

function nftRef(r: NftRule): RuleRef {
  const policy = r.handle === 0;
  return {
    text: r.text,
    table: `${r.family} ${r.table}`,
    chain: r.chain,
    kube: !policy && isKubeProxyNftRule(r),
    policy,
  };
}

interface Stage {
  prio: number;
  run(pkt: KPacket): HookBranch[];
}

/** The DNAT done before this stage, as a walker state carries it (its rule is not re-read). */
const EARLIER = Symbol('dnat of an earlier stage');

function toWalk<R>(pkt: KPacket): WalkState<R> {
  return {
    src: pkt.src,
    dst: pkt.dst,
    dport: pkt.dport,
    proto: pkt.proto,
    mark: pkt.mark,
    weight: pkt.weight,
    masquerade: pkt.masquerade,
    unknown: pkt.unknown,
    dnat: pkt.dnat ? { ip: pkt.dnat.ip, port: pkt.dnat.port, rule: EARLIER as R } : undefined,
  };
}

function fromWalk<R>(pkt: KPacket, st: WalkState<R>, ref: (r: R) => RuleRef): KPacket {
  const met = evidenceOf(st).map(ref);
  const accepted = st.acceptedBy ? ref(st.acceptedBy) : undefined;
  const dnat =
    st.dnat && st.dnat.rule !== EARLIER
      ? { ip: st.dnat.ip, port: st.dnat.port, rule: ref(st.dnat.rule).text }
      : pkt.dnat;
  return {
    ...pkt,
    src: st.src,
    dst: st.dst,
    dport: st.dport,
    mark: st.mark,
    weight: st.weight,
    masquerade: st.masquerade,
    unknown: st.unknown,
    dnat,
    acceptedByKube: accepted ? (accepted.kube ? accepted.text : undefined) : pkt.acceptedByKube,
    evidence: met.length ? [...pkt.evidence, ...met] : pkt.evidence,
  };
}

/** The base chains that run at `hook` for a packet of `family`, in priority order. */
function stagesFor(rules: NetfilterRules, hook: Hook, family: 4 | 6, io: HookIO): Stage[] {
  const stages: Stage[] = [];
  const dump = family === 6 ? rules.ip6tables : rules.iptables;
  if (dump) {
    const walker = new IptablesWalker({
      dump,
      isLocal: rules.isLocal,
      ipsets: rules.ipsets,
      inInterface: io.inInterface,
      from: io.from,
    });
    const HOOK = hook.toUpperCase();
    for (const [table, prio] of IPTABLES_STAGES[hook]) {
      const chain = dump.tables.get(table)?.chains.get(HOOK);
      if (!chain) continue;
      stages.push({
        prio,
        run: (pkt) =>
          walker.runChain(table, HOOK, toWalk<IptablesRule>(pkt)).map((b) => {
            const next = fromWalk(pkt, b.st, iptablesRef);
            if (b.verdict === 'accept') return { pkt: next, verdict: 'accept' };
            if (b.verdict === 'return') {
              if (chain.policy !== 'DROP') return { pkt: next, verdict: 'accept' };
              return {
                pkt: next,
                verdict: 'drop',
                decided: iptablesRef(iptablesPolicyRule(table, HOOK, chain)),
              };
            }
            const decided = b.rule ? iptablesRef(b.rule) : undefined;
            return { pkt: next, verdict: b.verdict, decided };
          }),
      });
    }
  }
  if (rules.nft) {
    const walker = new NftWalker({
      ruleset: rules.nft,
      family,
      isLocal: rules.isLocal,
      inInterface: io.inInterface,
    });
    for (const chain of walker.baseChains(hook)) {
      // iptables-nft keeps its tables in nftables too: with an iptables dump, those rules
      // were already run above, from the dump.
      if (dump && (chain.family === 'ip' || chain.family === 'ip6') && IPTABLES_TABLE_NAMES.has(chain.table))
        continue;
      stages.push({
        prio: chain.prio ?? 0,
        run: (pkt) =>
          walker.runChain(chain, toWalk<NftRule>(pkt), 0).map((b) => {
            const next = fromWalk(pkt, b.st, nftRef);
            if (b.verdict === 'accept') return { pkt: next, verdict: 'accept' };
            if (b.verdict === 'continue') {
              if (chain.policy !== 'drop') return { pkt: next, verdict: 'accept' };
              return { pkt: next, verdict: 'drop', decided: nftRef(nftPolicyRule(chain)) };
            }
            return { pkt: next, verdict: b.verdict, decided: b.rule ? nftRef(b.rule) : undefined };
          }),
      });
    }
  }
  // Stable: iptables' stages before nftables chains of the same priority.
  return stages
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.prio - b.s.prio || a.i - b.i)
    .map((x) => x.s);
}

/** Runs every base chain of `hook`; the packets that come out accepted, and those that do not. */
export function runHook(rules: NetfilterRules, hook: Hook, pkt: KPacket, io: HookIO = {}): HookBranch[] {
  const family = isIP(pkt.dst) ? ipFamily(pkt.dst) : 4;
  let live: KPacket[] = [pkt];
  const done: HookBranch[] = [];
  for (const stage of stagesFor(rules, hook, family, io)) {
    const next: KPacket[] = [];
    for (const p of live) {
      for (const b of stage.run(p)) {
        if (b.verdict === 'accept') next.push(b.pkt);
        else done.push(b);
      }
    }
    live = next;
  }
  for (const p of live) done.push({ pkt: p, verdict: 'accept' });
  return done;
}

/** True when the namespace has any rules to evaluate. */
export function hasRules(
  rules: Pick<NetfilterRules, 'iptables' | 'ip6tables' | 'nft'>,
  family: 4 | 6,
): boolean {
  return Boolean((family === 6 ? rules.ip6tables : rules.iptables) ?? rules.nft);
}

/** A packet as it enters a namespace: a new connection, no mark, nothing met yet. */
export function newPacket(p: {
  src: string;
  dst: string;
  dport: number;
  proto: 'tcp' | 'udp' | 'sctp';
  weight?: number;
}): KPacket {
  return {
    src: isIP(p.src) ? normalizeIP(p.src) : p.src,
    dst: isIP(p.dst) ? normalizeIP(p.dst) : p.dst,
    dport: p.dport,
    proto: p.proto,
    mark: 0,
    weight: p.weight ?? 1,
    masquerade: false,
    evidence: [],
  };
}
