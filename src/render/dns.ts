// The DnsCheck document for people: the search walk, expected vs actual answers, the findings.
import type { DnsCheck } from '../analyses/dns/check.js';
import { recordKey } from '../analyses/dns/compare.js';
import { renderFindings } from './findings.js';
import { c, FAIL, OK, UNKNOWN } from './style.js';
import { renderTable } from './table.js';

/** The human form: the search steps, expected vs actual side by side, the findings. */
export function renderDnsCheck(check: DnsCheck, options: { wide?: boolean } = {}): string {
  const k = c();
  const out: string[] = [];
  out.push(`${k.bold('Query:')}    ${check.query.name} ${check.query.type}`);
  out.push(
    `${k.bold('Zone:')}     ${check.clusterDomain}${check.clusterDomainSource ? k.dim(`  (${check.clusterDomainSource})`) : ''}`,
  );
  const asked = check.replicas?.length
    ? `${check.replicas.length} CoreDNS replicas`
    : k.dim('none asked (expected answer only; use --server IP[:PORT])');
  out.push(`${k.bold('Server:')}   ${check.server ?? asked}`);
  if (check.search) {
    const s = check.search;
    const conf = s.resolvConf;
    out.push('');
    out.push(
      `${k.bold('Resolver of')} ${s.pod} ${k.dim(`(${conf.source === 'file' ? conf.origin : `as kubelet writes it: ${conf.origin}`})`)}`,
    );
    out.push(`  nameserver ${conf.nameservers.join(' ') || k.dim('(unknown)')}`);
    out.push(`  search ${conf.search.join(' ') || k.dim('(none)')}`);
    out.push(`  options ndots:${conf.ndots}`);
    for (const u of conf.unknown) out.push(`  ${k.yellow('unknown:')} ${u}`);
    for (const w of conf.warnings) out.push(`  ${k.yellow('warning:')} ${w}`);
    const rows = s.steps.map((step, i) => {
      const exp =
        step.expected.outcome + (step.expected.answers.length ? ` (${step.expected.answers.length})` : '');
      const act = step.actual
        ? step.actual.outcome + (step.actual.answers.length ? ` (${step.actual.answers.length})` : '')
        : '';
      const asked = Boolean(check.server || check.replicas);
      const mark = !step.sent
        ? k.dim('not sent')
        : asked && step.query === s.actualAnsweredBy
          ? k.green('← answers')
          : step.query === s.expectedAnsweredBy
            ? asked
              ? k.yellow('← should answer')
              : k.green('← answers')
            : '';
      return [String(i + 1), step.query, exp, check.server || check.replicas ? act : '', mark];
    });
    out.push('');
    out.push(renderTable(['#', 'query sent', 'expected', 'actual', ''], rows));
    if (s.conditional)
      out.push(
        k.dim('  (a candidate outside the cluster domain is decided upstream: the walk may stop there)'),
      );
  }
  out.push('');
  out.push(`${k.bold('Answer for')} ${check.resolvedName} ${check.query.type}`);
  const expected = check.expected;
  const actual = check.actual;
  const expKeys = new Map(expected.answers.map((r) => [recordKey(r), r]));
  const actKeys = new Map((actual?.answers ?? []).map((r) => [recordKey(r), r]));
  const rows: string[][] = [];
  const fmt = (r: { type: string; data: string; ttl?: number; name: string }) =>
    `${options.wide ? `${r.name} ` : ''}${r.type} ${r.data}${options.wide && r.ttl !== undefined ? ` ttl=${r.ttl}` : ''}`;
  for (const [key, r] of expKeys) {
    const a = actKeys.get(key);
    rows.push([actual ? (a ? OK() : FAIL()) : ' ', fmt(r), a ? fmt(a) : actual ? k.red('missing') : '']);
  }
  for (const [key, r] of actKeys) {
    if (expKeys.has(key)) continue;
    const upstream = expected.upstream.some((u) => r.name.toLowerCase().replace(/\.$/, '') === u);
    rows.push([
      upstream ? UNKNOWN() : FAIL(),
      upstream ? k.dim('(upstream)') : k.red('not expected'),
      fmt(r),
    ]);
  }
  const rc = (rcode: string | null, n: number) => (rcode === 'NOERROR' && n === 0 ? 'NODATA' : (rcode ?? ''));
  out.push(`  ${k.bold('expected')}  ${rc(expected.rcode, expected.answers.length)} — ${expected.reason}`);
  if (actual) {
    const from = check.server ?? check.replicas?.[0]?.replica ?? 'the server';
    out.push(
      actual.rcode === null
        ? `  ${k.bold('actual')}    ${k.red(`no response from ${from}: ${actual.error}`)}`
        : `  ${k.bold('actual')}    ${rc(actual.rcode, actual.answers.length)} from ${from} over ${actual.transport?.toUpperCase()}` +
            `${actual.truncatedUdp ? ' (the UDP reply was truncated)' : ''} in ${actual.elapsedMs} ms`,
    );
  } else {
    out.push(`  ${k.bold('actual')}    ${k.dim('not asked')}`);
  }
  if (rows.length) out.push(renderTable(['', 'expected', 'actual'], rows));
  if (check.replicas?.length) {
    out.push('');
    out.push(
      renderTable(
        ['replica', 'rcode', 'answers', 'verdict'],
        check.replicas.map((r) => [
          r.replica,
          r.actual?.rcode ?? 'no response',
          String(r.actual?.answers.length ?? 0),
          r.verdict ?? '',
        ]),
      ),
    );
  }
  out.push('');
  out.push(renderFindings(check.findings).trimEnd());
  return `${out.join('\n')}\n`;
}
