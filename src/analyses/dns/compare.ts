// Expected (from the cluster's objects) vs actual (what a server said): the differences and
// the findings they make. Names compare case-insensitively; SRV priority/weight and TTLs are
// not compared (the specification leaves them to the implementation).

import type { StepOutcome } from '../../core/dns.js';
import { isIP, normalizeIP } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import { normalizeName } from './names.js';
import type { DnsAnswer, DnsQuestion, DnsRecord, DnsResult } from './types.js';

export interface Comparison {
  /** match · mismatch · unknown (nothing to compare against) · no-response */
  verdict: 'match' | 'mismatch' | 'unknown' | 'no-response';
  missing: DnsRecord[];
  extra: DnsRecord[];
  findings: Finding[];
}

/** The comparable identity of a record: owner, type and data (SRV without priority/weight). */
export function recordKey(r: DnsRecord): string {
  const type = r.type.toUpperCase();
  let data = r.data.trim();
  if ((type === 'A' || type === 'AAAA') && isIP(data)) data = normalizeIP(data);
  else if (type === 'CNAME' || type === 'PTR' || type === 'NS') data = normalizeName(data);
  else if (type === 'SRV') {
    const parts = data.split(/\s+/);
    data = parts.length === 4 ? `${parts[2]} ${normalizeName(parts[3])}` : data;
  }
  return `${normalizeName(r.name)} ${type} ${data}`;
}

/** The outcome the cluster's objects predict. */
export function outcomeOfExpected(e: DnsAnswer): StepOutcome {
  if (e.rcode === 'UNKNOWN') return 'unknown';
  if (e.rcode === 'NXDOMAIN') return 'nxdomain';
  return e.answers.length ? 'answer' : 'nodata';
}

function describe(records: DnsRecord[]): string {
  return records.map((r) => `${r.type} ${r.data}`).join(', ');
}

export interface CompareContext {
  /** `10.96.0.10:53`, or the replica (`pod/kube-system/coredns-x`). */
  server: string;
  /** Extra objects for the findings (the CoreDNS pod asked, …). */
  objects?: string[];
}

/** Compares one server reply with the expected answer. */
export function compareAnswer(
  question: DnsQuestion,
  expected: DnsAnswer,
  actual: DnsResult,
  ctx: CompareContext,
): Comparison {
  const q = `${normalizeName(question.name)} ${question.type}`;
  const objects = [...expected.objects.filter((o) => /^(svc|pod)\//.test(o)), ...(ctx.objects ?? [])];
  if (actual.rcode === null) {
    return {
      verdict: 'no-response',
      missing: [],
      extra: [],
      findings: [
        finding('DNS_NO_RESPONSE', {
          message: `${ctx.server} did not answer ${q}: ${actual.error}.`,
          objects,
          evidence: [`${actual.attempts} attempt(s) in ${actual.elapsedMs} ms`],
        }),
      ],
    };
  }
  const evidence = [
    `expected ${expected.rcode}${expected.answers.length ? ` ${describe(expected.answers)}` : ''} — ${expected.reason}`,
    `${ctx.server} answered ${actual.rcode}${actual.answers.length ? ` ${describe(actual.answers)}` : ''}` +
      ` over ${actual.transport.toUpperCase()}${actual.truncatedUdp ? ' (UDP reply truncated)' : ''}`,
  ];
  if (actual.rcode !== 'NOERROR' && actual.rcode !== 'NXDOMAIN') {
    return {
      verdict: expected.rcode === 'UNKNOWN' ? 'unknown' : 'mismatch',
      missing: expected.answers,
      extra: [],
      findings: [
        finding('DNS_SERVER_ERROR', {
          message: `${ctx.server} answered ${q} with ${actual.rcode}.`,
          objects,
          evidence,
        }),
      ],
    };
  }
  if (expected.rcode === 'UNKNOWN') return { verdict: 'unknown', missing: [], extra: [], findings: [] };

  const upstream = new Set(expected.upstream.map(normalizeName));
  const actualRecords = actual.answers.filter((r) => !upstream.has(normalizeName(r.name)));
  const expectedKeys = new Map(expected.answers.map((r) => [recordKey(r), r]));
  const actualKeys = new Map(actualRecords.map((r) => [recordKey(r), r]));
  let missing = [...expectedKeys].filter(([k]) => !actualKeys.has(k)).map(([, r]) => r);
  const extra = [...actualKeys].filter(([k]) => !expectedKeys.has(k)).map(([, r]) => r);
  if (expected.match === 'any' && missing.length < expected.answers.length) missing = [];

  const findings: Finding[] = [];
  if (expected.rcode === 'NOERROR' && actual.rcode === 'NXDOMAIN') {
    findings.push(
      finding('DNS_NXDOMAIN', {
        message: `${ctx.server} says ${normalizeName(question.name)} does not exist, but ${expected.reason}.`,
        objects,
        evidence,
      }),
    );
  } else if (expected.rcode === 'NXDOMAIN' && actual.rcode === 'NOERROR') {
    findings.push(
      finding('DNS_NXDOMAIN', {
        message:
          `${ctx.server} answers ${q}${actualRecords.length ? ` with ${describe(actualRecords)}` : ' (NODATA)'},` +
          ` but the name must not exist: ${expected.reason}.`,
        objects,
        evidence,
        hint: 'A stale record: the object is gone or changed; check CoreDNS (its cache, its API watch) and any stub zone.',
      }),
    );
  } else if (missing.length || extra.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${describe(missing)}`);
    if (extra.length) parts.push(`unexpected ${describe(extra)}`);
    findings.push(
      finding('DNS_ANSWER_MISMATCH', {
        message: `${ctx.server}'s answer to ${q} differs from the cluster's objects: ${parts.join('; ')}.`,
        objects,
        evidence,
      }),
    );
  }
  return { verdict: findings.length ? 'mismatch' : 'match', missing, extra, findings };
}

/** The text that identifies a reply's content, to tell whether replicas agree. */
export function replySignature(r: DnsResult): string {
  if (r.rcode === null) return 'no response';
  const keys = r.answers.map(recordKey).sort();
  return `${r.rcode} ${keys.join(', ')}`;
}

/**
 * Replicas that answer differently from the majority. One finding per odd replica, naming
 * what it said and what the others said.
 */
export function compareReplicas(
  question: DnsQuestion,
  replies: { replica: string; result: DnsResult }[],
): Finding[] {
  if (replies.length < 2) return [];
  const groups = new Map<string, string[]>();
  for (const r of replies) {
    const sig = replySignature(r.result);
    groups.set(sig, [...(groups.get(sig) ?? []), r.replica]);
  }
  if (groups.size < 2) return [];
  const ranked = [...groups].sort((a, b) => b[1].length - a[1].length);
  const [majoritySig, majority] = ranked[0];
  const tie = ranked[1][1].length === majority.length;
  const q = `${normalizeName(question.name)} ${question.type}`;
  const out: Finding[] = [];
  for (const [sig, members] of tie ? ranked : ranked.slice(1)) {
    for (const replica of members) {
      const others = ranked.filter(([s]) => s !== sig).map(([s, m]) => `${m.join(', ')}: ${s}`);
      out.push(
        finding('DNS_REPLICAS_DISAGREE', {
          message:
            `${replica} answers ${q} with "${sig}" while ` +
            (tie
              ? `other replicas answer "${others.join(' | ')}".`
              : `${majority.join(', ')} answer "${majoritySig}".`),
          objects: [replica],
          evidence: others,
        }),
      );
    }
  }
  return out;
}
