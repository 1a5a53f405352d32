// A packet's state while an evaluator walks a dataplane's rules (iptables or nftables): what the
// rules have done to it so far, its share of new connections, and the rules that decided it.

/** The rules the packet met, newest first (a shared tail: forks do not copy it). */
interface Evidence<R> {
  rule: R;
  prev?: Evidence<R>;
}

export interface WalkState<R> {
  src: string;
  dst: string;
  dport: number;
  proto: 'tcp' | 'udp' | 'sctp';
  mark: number;
  /** Share of new connections on this branch (statistic/numgen forks split it). */
  weight: number;
  dnat?: { ip: string; port: number; rule: R };
  masquerade: boolean;
  acceptedBy?: R;
  evidence?: Evidence<R>;
  /** Why the walk could not decide (a match knet cannot evaluate). */
  unknown?: string;
}

export function fork<S extends WalkState<unknown>>(st: S, weight: number): S {
  return { ...st, weight };
}

export function withEvidence<R, S extends WalkState<R>>(st: S, rule: R): S {
  if (st.evidence?.rule === rule) return st;
  return { ...st, evidence: { rule, prev: st.evidence } };
}

/** The rules that decided the branch, in the order the packet met them. */
export function evidenceOf<R>(st: WalkState<R>): R[] {
  const out: R[] = [];
  for (let e = st.evidence; e; e = e.prev) out.push(e.rule);
  return out.reverse();
}
