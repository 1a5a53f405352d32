// Shapes shared by the DNS analysis (expected records, search path, comparison) and the
// DNS client. Names are written without the trailing dot, lower-case where knet builds them.

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

/** What the cluster's objects say the answer must be. */
export interface DnsAnswer {
  /** UNKNOWN: the cluster DNS does not answer this name itself (forwarded upstream). */
  rcode: 'NOERROR' | 'NXDOMAIN' | 'UNKNOWN';
  answers: DnsRecord[];
  /**
   * `all`: every record must be in the answer. `any`: one of them is enough (a PTR for an
   * address that several endpoints share: CoreDNS answers with the first it finds).
   */
  match: 'all' | 'any';
  /** Names whose records come from outside the cluster (an ExternalName's target). */
  upstream: string[];
  /** Why, in one sentence: the object or rule that decided. */
  reason: string;
  /** The objects that decided (`svc/ns/name`, `endpointslice/ns/name`, `pod/ns/name`). */
  objects: string[];
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

/** A parsed resolv.conf (the pod's file, or the one kubelet would write). */
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
  /** Every option as written (`ndots:5`, `edns0`, `timeout:2`), last one of a name wins. */
  options: Record<string, string | true>;
  /** Where it came from: the pod's file in the bundle, or what kubelet would write. */
  source: 'file' | 'kubelet';
  /** The file (bundle path) or the rule that produced it. */
  origin: string;
  /** Parts kubelet takes from the node that knet cannot see (node search domains, …). */
  unknown: string[];
  /** Lines the resolver ignores (unknown keywords, extra nameservers). */
  warnings: string[];
}
