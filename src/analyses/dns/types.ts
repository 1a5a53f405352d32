// Shapes of the DNS analysis (expected records, search path, comparison). The shapes it shares
// with the DNS client live in core/dns.ts, the parsed resolv.conf with its parser; both are
// named here too, so that the analysis has one vocabulary.
import type { DnsRecord } from '../../core/dns.js';

export {
  DNS_TYPES,
  type DnsNoReply,
  type DnsQuestion,
  type DnsRcode,
  type DnsRecord,
  type DnsReply,
  type DnsResult,
  type DnsType,
  isReply,
} from '../../core/dns.js';
export type { ResolvConf } from '../../parsers/resolv-conf.js';

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
