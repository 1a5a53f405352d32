// Asks a DNS server the queries of a pod's search walk, as its resolver would.
import type { Duplex } from 'node:stream';
import {
  type DnsResult,
  type DnsType,
  outcomeOfResult,
  type ReplicaResults,
  type SearchPlan,
  searchQueries,
} from '../../core/dns.js';
import { type DnsServer, type QueryOptions, queryDns } from './client.js';

/**
 * Sends the walk's queries in order, as the pod's resolver would (core/dns.ts searchQueries):
 * it stops at the first answer; REFUSED or silence leaves the search list, and the name as-is
 * is still asked when it comes last. Bounded by the number of names.
 */
export async function askWalk(
  server: DnsServer,
  plan: SearchPlan,
  type: DnsType,
  opts: QueryOptions,
): Promise<Map<string, DnsResult>> {
  const results = new Map<string, DnsResult>();
  const walk = searchQueries(plan.queries.length, plan);
  for (let next = walk.next(); !next.done; ) {
    const name = plan.queries[next.value];
    const r = await queryDns(server, { name, type }, opts);
    results.set(name, r);
    next = walk.next(outcomeOfResult(r));
  }
  return results;
}

/** Asks each CoreDNS replica over its own TCP stream (e.g. an API port-forward). */
export async function askReplicas(
  replicas: {
    replica: string;
    connect: () => Duplex | Promise<Duplex>;
  }[],
  plan: SearchPlan,
  type: DnsType,
  opts: QueryOptions,
): Promise<ReplicaResults[]> {
  const out: ReplicaResults[] = [];
  for (const r of replicas) {
    // A missing permission (403 on pods/portforward) or rejected credentials are not silence
    // from the DNS server: they stop the command (exit 2) instead of becoming a finding.
    let denied: Error | undefined;
    const connect = async () => {
      try {
        return await r.connect();
      } catch (err) {
        if (err instanceof Error && /^(forbidden|authentication failed)/.test(err.message)) denied = err;
        throw err;
      }
    };
    const results = await askWalk({ connect }, plan, type, opts);
    if (denied) throw denied;
    out.push({ replica: r.replica, results });
  }
  return out;
}
