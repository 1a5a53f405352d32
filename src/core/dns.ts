// DNS on the ground floor: the shapes of a question and of a server's reply, and the glibc
// search-list walk. The DNS client (sources/dns) sends the walk's queries to a server; the DNS
// analysis runs the same walk over the answers it expects or was given. Names are written
// without the trailing dot, lower-case where knet builds them.

/** Record types `knet dns --type` accepts. */
export const DNS_TYPES = ['A', 'AAAA', 'SRV', 'PTR', 'CNAME', 'TXT'] as const;
export type DnsType = (typeof DNS_TYPES)[number];

/** Response codes as dns-packet names them (extended codes above 15 appear as RCODE_N). */
export type DnsRcode =
  | 'NOERROR'
  | 'FORMERR'
  | 'SERVFAIL'
  | 'NXDOMAIN'
  | 'NOTIMP'
  | 'REFUSED'
  | 'YXDOMAIN'
  | 'YXRRSET'
  | 'NXRRSET'
  | 'NOTAUTH'
  | 'NOTZONE'
  | 'BADVERS'
  | `RCODE_${number}`;

export interface DnsQuestion {
  name: string;
  type: DnsType;
}

/**
 * One resource record. `data` is text: an address for A/AAAA, a name for CNAME/PTR,
 * `priority weight port target` for SRV, the joined strings for TXT.
 */
export interface DnsRecord {
  name: string;
  type: string;
  data: string;
  ttl?: number;
}

/** What a server replied (or did not). */
export interface DnsReply {
  rcode: DnsRcode;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  authoritative: boolean;
  recursionAvailable: boolean;
  /** The transport of the reply that counted (TCP after a truncated UDP reply). */
  transport: 'udp' | 'tcp';
  /** A UDP reply came back truncated and was discarded. */
  truncatedUdp: boolean;
  /** The server ignored EDNS0 (FORMERR/NOTIMP with an OPT record) and was asked again without. */
  ednsFallback: boolean;
  attempts: number;
  elapsedMs: number;
}

export interface DnsNoReply {
  rcode: null;
  /** What happened: timeout, connection refused, reset, … */
  error: string;
  attempts: number;
  elapsedMs: number;
}

export type DnsResult = DnsReply | DnsNoReply;

export function isReply(r: DnsResult): r is DnsReply {
  return r.rcode !== null;
}

/** What one CoreDNS replica answered, per query name (normalised). */
export interface ReplicaResults {
  /** `pod/kube-system/coredns-abc`. */
  replica: string;
  results: Map<string, DnsResult>;
}

/** The queries for a name, and where the name as-is sits among them. */
export interface SearchPlan {
  queries: string[];
  /** The name as-is is the first query (it has at least ndots dots). */
  asIsFirst: boolean;
  /** The name as-is is the last query (fewer than ndots dots). */
  asIsLast: boolean;
}

/**
 * How one query of the walk ended. `answer`: records of the asked type; the walk stops.
 * glibc goes on after `nxdomain`, `nodata` and `servfail`, and gives up on anything else.
 */
export type StepOutcome = 'answer' | 'nodata' | 'nxdomain' | 'servfail' | 'error' | 'no-response' | 'unknown';

/** How a server's reply ends a resolver's search step. */
export function outcomeOfResult(r: DnsResult | undefined): StepOutcome {
  if (r === undefined) return 'unknown';
  if (r.rcode === null) return 'no-response';
  if (r.rcode === 'NXDOMAIN') return 'nxdomain';
  if (r.rcode === 'SERVFAIL') return 'servfail';
  if (r.rcode !== 'NOERROR') return 'error';
  return r.answers.length ? 'answer' : 'nodata';
}

type WalkShape = { asIsFirst?: boolean; asIsLast?: boolean };

/** Whether the outcome of query `i` leaves the search list (REFUSED, no response, …). */
function leavesList(outcome: StepOutcome, i: number, shape: WalkShape): boolean {
  return (outcome === 'error' || outcome === 'no-response') && !(shape.asIsFirst && i === 0);
}

/**
 * The queries glibc's __res_context_search sends, one at a time: yields the index of the next
 * query and is told how it ended. The first answer ends the walk. The name as-is tried first
 * never ends it. In the search list, NXDOMAIN, NODATA and SERVFAIL go on to the next domain;
 * anything else (REFUSED, no response) leaves the list, and then the name as-is is still
 * tried when it comes last.
 */
export function* searchQueries(count: number, shape: WalkShape = {}): Generator<number, void, StepOutcome> {
  let leftList = false;
  for (let i = 0; i < count; i++) {
    if (leftList && !(shape.asIsLast && i === count - 1)) continue;
    const outcome = yield i;
    if (outcome === 'answer') return;
    if (leavesList(outcome, i, shape)) leftList = true;
  }
}

export interface SearchStep {
  query: string;
  outcome: StepOutcome;
  /** false: the resolver never sends it (an earlier query ended the walk). */
  sent: boolean;
}

export interface SearchWalk {
  steps: SearchStep[];
  /** The query whose answer the application gets. */
  answeredBy?: string;
  /** An earlier step's outcome is unknown (outside the cluster, offline): the result is conditional. */
  conditional: boolean;
  /** The step that ended the walk without an answer (no response, REFUSED, …). */
  stoppedBy?: string;
}

/** The search walk over known outcomes (expected answers, or the replies a server gave). */
export function walkSearch(
  candidates: string[],
  outcomeOf: (name: string) => StepOutcome,
  shape: WalkShape = {},
): SearchWalk {
  const outcomes = new Map<number, StepOutcome>();
  let answeredBy: string | undefined;
  let stoppedBy: string | undefined;
  let conditional = false;
  const walk = searchQueries(candidates.length, shape);
  for (let next = walk.next(); !next.done; ) {
    const i = next.value;
    const outcome = outcomeOf(candidates[i]);
    outcomes.set(i, outcome);
    if (outcome === 'answer') answeredBy = candidates[i];
    else if (outcome === 'unknown') conditional = true;
    else if (leavesList(outcome, i, shape)) stoppedBy ??= candidates[i];
    next = walk.next(outcome);
  }
  const steps = candidates.map((query, i): SearchStep => {
    const outcome = outcomes.get(i);
    return outcome === undefined
      ? { query, outcome: 'unknown', sent: false }
      : { query, outcome, sent: true };
  });
  return { steps, answeredBy, conditional, stoppedBy };
}
