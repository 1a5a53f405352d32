// The Trace document (cli.md): one path per candidate backend, hop by hop.
import type { Target } from '../../core/target-grammar.js';
import type { Finding } from '../../findings/types.js';
import type { Protocol } from '../../model/types.js';

export type HopKind =
  | 'container'
  | 'veth'
  | 'bridge'
  | 'route'
  | 'gateway'
  | 'overlay'
  | 'node'
  | 'dnat'
  | 'snat'
  | 'masquerade'
  | 'filter'
  | 'policy'
  | 'pod'
  | 'external'
  | 'drop'
  | 'reject'
  /** knet's extension of cli.md's kinds: the name resolution before a dns/ destination. */
  | 'dns';

/** ok: the hop passes the packet; broken: it does not; unknown: the data to decide is missing. */
export type HopStatus = 'ok' | 'broken' | 'unknown';

export interface Hop {
  kind: HopKind;
  node?: string;
  detail: string;
  status: HopStatus;
  /** The rule, route, interface or object that decided this hop. */
  evidence?: string;
  /** Deduced without node data. */
  inferred?: boolean;
  /** Codes of the findings that bite at this hop. */
  findings?: string[];
  /** A broken hop: ids of the root findings (of the Trace's findings) behind it. */
  rootCause?: string[];
  /** A policy hop: per direction, the verdict and the rules that decided it. */
  policy?: PolicyHalf[];
}

/** One direction of a policy hop, for saying once which policy and rule decided it. */
export interface PolicyHalf {
  direction: 'egress' | 'ingress';
  verdict: 'allowed' | 'denied' | 'unknown';
  /** Some policy selects the pod for this direction. */
  isolated: boolean;
  /** The rules that allow it (`ns/name ingress[0]: …`), or, when none does, why each rule of the policies that select the pod does not. */
  rules: string[];
}

export type Verdict = 'reachable' | 'unreachable' | 'partial' | 'unknown';

export interface TraceRef {
  kind: 'Pod' | 'Service' | 'Node' | 'IP' | 'Ingress' | 'HTTPRoute';
  namespace?: string;
  name?: string;
  ip: string | null;
  port?: number | null;
  protocol?: Protocol;
  node?: string | null;
}

export interface TracePath {
  /** The backend this path ends at (null when the packet never gets one, e.g. REJECT). */
  to: TraceRef | null;
  /** Share of new connections that take this path (from the proxy rules), or null. */
  probability: number | null;
  verdict: Exclude<Verdict, 'partial'>;
  hops: Hop[];
}

export interface TraceResult {
  source: TraceRef;
  destination: TraceRef;
  verdict: Verdict;
  paths: TracePath[];
  findings: Finding[];
  notes: string[];
}

/** What the trace is asked, in model terms (the CLI resolves flags into this). */
export type TraceTarget = Target<'pod' | 'svc' | 'node' | 'ip' | 'dns' | 'ing' | 'httproute'>;

export interface TraceQuery {
  source: TraceTarget;
  destination: TraceTarget;
  /** --port; a target's own :PORT wins. */
  port?: number | string;
  protocol?: Protocol;
  /** Where an external source enters the cluster. */
  viaNode?: string;
  /** The HTTP request's Host and path, for an ing/ or httproute/ destination. */
  host?: string;
  path?: string;
}
