// The DnsCheck document (docs/dns.md): the expected answer from the cluster's objects, the
// actual answers (a server, or each CoreDNS replica), the search-path steps of a pod, and
// the findings. Pure: the command performs the queries and passes their results in.
import {
  outcomeOfResult,
  type ReplicaResults,
  type SearchPlan,
  type StepOutcome,
  walkSearch,
} from '../../core/dns.js';
import { collectFindings } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Pod } from '../../model/types.js';
import { type Comparison, compareAnswer, compareReplicas, outcomeOfExpected } from './compare.js';
import { type CoreDnsConfig, coreDnsConfigOf } from './corefile.js';
import { expectedAnswer } from './expected.js';
import { normalizeName } from './names.js';
import { resolverConfigFor, searchPlan } from './search.js';
import { dnsServiceFindings } from './service-health.js';
import type { DnsAnswer, DnsQuestion, DnsRecord, DnsResult, DnsType, ResolvConf } from './types.js';

export type { ReplicaResults };

export interface DnsCheckInput {
  name: string;
  type: DnsType;
  clusterDomain: string;
  /** Where the cluster domain came from (flag, Corefile, default). */
  clusterDomainSource?: string;
  coredns?: CoreDnsConfig;
  /** Expand the name with this pod's resolver configuration. */
  from?: Pod;
  /** `IP:PORT` of the server asked (with `results`). */
  server?: string;
  /** Actual results per query name (normalised), from `server`. */
  results?: Map<string, DnsResult>;
  /** Actual results from each CoreDNS replica. */
  replicas?: ReplicaResults[];
}

export interface JsonRecord {
  name: string;
  type: string;
  data: string;
  ttl?: number;
}

export interface ActualJson {
  rcode: string | null;
  answers: JsonRecord[];
  authorities?: JsonRecord[];
  transport?: 'udp' | 'tcp';
  truncatedUdp?: boolean;
  authoritative?: boolean;
  error?: string;
  attempts: number;
  elapsedMs: number;
}

export interface DnsCheckStep {
  query: string;
  sent: boolean;
  expected: { rcode: string; answers: JsonRecord[]; outcome: StepOutcome };
  actual: (ActualJson & { outcome: StepOutcome }) | null;
}

export interface DnsCheck {
  apiVersion: 'knet/v1';
  kind: 'DnsCheck';
  query: { name: string; type: DnsType };
  clusterDomain: string;
  clusterDomainSource?: string;
  /** The name compared below: the query itself, or the search candidate that answered. */
  resolvedName: string;
  expected: {
    rcode: string;
    answers: JsonRecord[];
    match: 'all' | 'any';
    upstream: string[];
    reason: string;
    objects: string[];
  };
  actual: ActualJson | null;
  server: string | null;
  comparison: { verdict: Comparison['verdict']; missing: JsonRecord[]; extra: JsonRecord[] } | null;
  replicas?: { replica: string; actual: ActualJson | null; verdict: Comparison['verdict'] | null }[];
  search?: {
    pod: string;
    resolvConf: Pick<
      ResolvConf,
      'nameservers' | 'search' | 'ndots' | 'options' | 'source' | 'origin' | 'unknown' | 'warnings'
    >;
    steps: DnsCheckStep[];
    expectedAnsweredBy: string | null;
    actualAnsweredBy: string | null;
    conditional: boolean;
  };
  findings: Finding[];
}

const json = (r: DnsRecord): JsonRecord =>
  r.ttl === undefined ? { name: r.name, type: r.type, data: r.data } : { ...r };

export function actualJson(r: DnsResult): ActualJson {
  if (r.rcode === null)
    return { rcode: null, answers: [], error: r.error, attempts: r.attempts, elapsedMs: r.elapsedMs };
  return {
    rcode: r.rcode,
    answers: r.answers.map(json),
    authorities: r.authorities.map(json),
    transport: r.transport,
    truncatedUdp: r.truncatedUdp,
    authoritative: r.authoritative,
    attempts: r.attempts,
    elapsedMs: r.elapsedMs,
  };
}

/** The names a check asks, in order: the search candidates of `from`, or the name itself. */
export function queryPlan(
  model: ClusterModel,
  input: Pick<DnsCheckInput, 'name' | 'from' | 'clusterDomain'>,
): SearchPlan {
  if (!input.from) return { queries: [normalizeName(input.name)], asIsFirst: false, asIsLast: false };
  const conf = resolverConfigFor(model, input.from, { clusterDomain: input.clusterDomain });
  return searchPlan(input.name, conf);
}

function expectedJson(e: DnsAnswer): DnsCheck['expected'] {
  return {
    rcode: e.rcode,
    answers: e.answers.map(json),
    match: e.match,
    upstream: e.upstream,
    reason: e.reason,
    objects: e.objects,
  };
}

/** Builds the DnsCheck for a name, from the model and the replies already gathered. */
export function buildDnsCheck(model: ClusterModel, input: DnsCheckInput): DnsCheck {
  const coredns = input.coredns ?? coreDnsConfigOf(model);
  const opts = { clusterDomain: input.clusterDomain, coredns };
  const question = (name: string): DnsQuestion => ({ name, type: input.type });
  const expectedFor = new Map<string, DnsAnswer>();
  const expect = (name: string) => {
    let e = expectedFor.get(name);
    if (!e) {
      e = expectedAnswer(model, question(name), opts);
      expectedFor.set(name, e);
    }
    return e;
  };
  const findings: Finding[] = [];
  const names = queryPlan(model, input).queries;

  let search: DnsCheck['search'];
  let resolvedName = names[0];
  if (input.from) {
    const pod = input.from;
    const conf = resolverConfigFor(model, pod, { clusterDomain: input.clusterDomain });
    const shape = searchPlan(input.name, conf);
    const expectedWalk = walkSearch(names, (n) => outcomeOfExpected(expect(n)), shape);
    const results = input.results ?? input.replicas?.[0]?.results;
    const actualWalk = results ? walkSearch(names, (n) => outcomeOfResult(results.get(n)), shape) : undefined;
    resolvedName = expectedWalk.answeredBy ?? names[names.length - 1];
    search = {
      pod: `pod/${pod.namespace}/${pod.name}`,
      resolvConf: {
        nameservers: conf.nameservers,
        search: conf.search,
        ndots: conf.ndots,
        options: conf.options,
        source: conf.source,
        origin: conf.origin,
        unknown: conf.unknown,
        warnings: conf.warnings,
      },
      steps: names.map((n, i) => {
        const e = expect(n);
        const a = results?.get(n);
        const sent = actualWalk ? actualWalk.steps[i].sent : expectedWalk.steps[i].sent;
        return {
          query: n,
          sent,
          expected: { rcode: e.rcode, answers: e.answers.map(json), outcome: outcomeOfExpected(e) },
          actual: a ? { ...actualJson(a), outcome: outcomeOfResult(a) } : null,
        };
      }),
      expectedAnsweredBy: expectedWalk.answeredBy ?? null,
      actualAnsweredBy: actualWalk?.answeredBy ?? null,
      conditional: expectedWalk.conditional,
    };
    if (actualWalk && results) {
      // Every step the resolver sent is compared: a wrong NXDOMAIN early in the walk changes
      // which name the application gets.
      for (const step of actualWalk.steps) {
        const a = results.get(step.query);
        if (!step.sent || !a || step.query === resolvedName) continue;
        findings.push(
          ...compareAnswer(question(step.query), expect(step.query), a, {
            server: input.server ?? 'the server',
          }).findings,
        );
      }
    }
  }

  const expected = expect(resolvedName);
  let actual: ActualJson | null = null;
  let comparison: DnsCheck['comparison'] = null;
  const primary = input.results?.get(resolvedName);
  if (input.results && primary) {
    actual = actualJson(primary);
    const c = compareAnswer(question(resolvedName), expected, primary, {
      server: input.server ?? 'the server',
    });
    comparison = { verdict: c.verdict, missing: c.missing.map(json), extra: c.extra.map(json) };
    findings.push(...c.findings);
  }

  let replicas: DnsCheck['replicas'];
  if (input.replicas?.length) {
    replicas = [];
    for (const r of input.replicas) {
      const res = r.results.get(resolvedName);
      if (!res) {
        replicas.push({ replica: r.replica, actual: null, verdict: null });
        continue;
      }
      const c = compareAnswer(question(resolvedName), expected, res, {
        server: r.replica,
        objects: [r.replica],
      });
      replicas.push({ replica: r.replica, actual: actualJson(res), verdict: c.verdict });
      findings.push(...c.findings);
    }
    const replies = input.replicas
      .map((r) => ({ replica: r.replica, result: r.results.get(resolvedName) }))
      .filter((r): r is { replica: string; result: DnsResult } => r.result !== undefined);
    findings.push(...compareReplicas(question(resolvedName), replies));
    if (!comparison && replies.length) {
      const first = replies[0];
      actual = actualJson(first.result);
      const c = compareAnswer(question(resolvedName), expected, first.result, { server: first.replica });
      comparison = { verdict: c.verdict, missing: c.missing.map(json), extra: c.extra.map(json) };
    }
  }

  findings.push(...dnsServiceFindings(model));
  return {
    apiVersion: 'knet/v1',
    kind: 'DnsCheck',
    query: { name: input.name, type: input.type },
    clusterDomain: input.clusterDomain,
    clusterDomainSource: input.clusterDomainSource,
    resolvedName,
    expected: expectedJson(expected),
    actual,
    server: input.server ?? null,
    comparison,
    replicas,
    search,
    findings: collectFindings(findings, model),
  };
}
