import { Args, Flags } from '@oclif/core';
import type { DnsCheck, ReplicaResults } from '../analyses/dns/check.js';
import type { SearchPlan } from '../analyses/dns/search.js';
import type { DnsResult, DnsType } from '../analyses/dns/types.js';
import { clusterFlags, KnetCommand } from '../cli/base.js';
import { UserError } from '../cli/errors.js';
import type { ClusterModel } from '../model/cluster.js';
import type { DnsServer, QueryOptions } from '../sources/dns/client.js';

export default class Dns extends KnetCommand {
  static override summary = 'What the cluster DNS answers, what it should answer, and the difference.';
  static override description =
    'Computes the answer the Kubernetes DNS specification requires for NAME from the cluster objects; with ' +
    '--server asks that server (UDP with EDNS0, TCP when truncated) and reports every difference. With ' +
    '--from, NAME is expanded with the pod search path (ndots) and each query the resolver sends is shown.';
  static override examples = [
    'knet dns svc-b.app.svc.cluster.local --snapshot demo',
    'knet dns cart --from pod/shop/web-1 --server 10.96.0.10',
    'knet dns _http._tcp.cart.shop.svc.cluster.local --type SRV --server 127.0.0.1:5353',
    'knet dns 10.96.0.10 --type PTR',
  ];
  static override args = {
    name: Args.string({ description: 'the DNS name (an IP address with --type PTR)', required: true }),
  };
  static override flags = {
    ...clusterFlags,
    type: Flags.string({
      description: 'record type',
      options: ['A', 'AAAA', 'SRV', 'PTR', 'CNAME', 'TXT'],
      default: 'A',
    }),
    server: Flags.string({ description: 'ask this DNS server (IP or IP:PORT)', helpValue: 'IP[:PORT]' }),
    from: Flags.string({
      description: "expand NAME with this pod's resolver search path",
      helpValue: 'pod/[NS/]NAME',
    }),
    'cluster-domain': Flags.string({
      description: 'the cluster domain (default: from CoreDNS/kubelet config, else cluster.local)',
      helpValue: 'DOMAIN',
    }),
    timeout: Flags.integer({
      description: 'per-attempt timeout of a query, in ms',
      default: 2000,
      min: 50,
      max: 30000,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Dns);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const type = flags.type as DnsType;
    const cluster = await this.loadCluster(
      flags,
      ['namespaces', 'pods', 'services', 'endpointslices', 'endpoints', 'configmaps'],
      { allNamespaces: true } /* a name may point into any namespace */,
    );
    const { model } = cluster;
    const { buildDnsCheck, queryPlan } = await import('../analyses/dns/check.js');
    const { findClusterDomain } = await import('../analyses/dns/expected.js');
    const { reverseName, normalizeName } = await import('../analyses/dns/names.js');
    const { isIP } = await import('../model/ip.js');

    let name = args.name;
    if (isIP(name)) {
      if (type !== 'PTR')
        throw new UserError(`"${name}" is an IP address: use --type PTR to look up its name`);
      name = reverseName(name);
    }
    const found = findClusterDomain(model);
    const clusterDomain = normalizeName(flags['cluster-domain'] ?? found?.domain ?? 'cluster.local');
    const clusterDomainSource = flags['cluster-domain']
      ? '--cluster-domain'
      : (found?.source ?? 'default: no CoreDNS or kubelet configuration in the input');

    let from: ClusterModel['pods'][number] | undefined;
    if (flags.from) {
      const { parseTarget } = await import('../cli/targets.js');
      const t = parseTarget(flags.from, cluster.namespace, ['pod']);
      from = model.pod(t.namespace ?? cluster.namespace, t.name);
      if (!from) throw new UserError(`pod ${t.namespace}/${t.name} not found in ${cluster.origin}`);
    }

    const plan = queryPlan(model, { name, from, clusterDomain });
    const queryOpts: QueryOptions = { timeoutMs: flags.timeout, retries: 2 };
    let results: Map<string, DnsResult> | undefined;
    let server: string | undefined;
    // Live, without --server, each ready CoreDNS replica is asked over an API port-forward
    // (DNS over TCP; nothing is created in the cluster), and their answers are compared.
    let replicas: ReplicaResults[] | undefined;
    if (!flags.server && !flags.snapshot) {
      const { connectKube } = await import('../sources/kube/config.js');
      const { openPodTcp } = await import('../sources/kube/portforward.js');
      const conn = await connectKube({ kubeconfig: flags.kubeconfig, context: flags.context });
      const coredns = model
        .podsMatchingLabels('kube-system', { 'k8s-app': 'kube-dns' })
        .filter((p) => p.ready && p.phase === 'Running');
      const port = (p: (typeof coredns)[number]) =>
        p.containers.flatMap((c) => c.ports).find((cp) => cp.containerPort === 53 || cp.name === 'dns-tcp')
          ?.containerPort ?? 53;
      if (coredns.length > 0) {
        replicas = await askReplicas(
          coredns.map((p) => ({
            replica: `kube-system/${p.name}`,
            connect: () =>
              openPodTcp(
                conn,
                { namespace: p.namespace, pod: p.name, port: port(p) },
                { timeoutMs: flags.timeout },
              ),
          })),
          plan,
          type,
          queryOpts,
        );
      }
    }
    if (flags.server) {
      const { parseServer } = await import('../sources/dns/client.js');
      let target: { host: string; port: number };
      try {
        target = parseServer(flags.server);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      server = target.host.includes(':')
        ? `[${target.host}]:${target.port}`
        : `${target.host}:${target.port}`;
      results = await askWalk(target, plan, type, queryOpts);
    }
    const check = buildDnsCheck(model, {
      name,
      type,
      clusterDomain,
      clusterDomainSource,
      from,
      server,
      results,
      replicas,
    });
    await this.emit(format, check, () => renderDnsCheck(check, { wide: format === 'wide' }));
    this.exitFor(check.findings);
  }
}

/**
 * Sends the walk's queries in order, as the pod's resolver would (see walkSearch): it stops
 * at the first answer; REFUSED or silence leaves the search list, and the name as-is is still
 * asked when it comes last. Bounded by the number of names.
 */
export async function askWalk(
  server: DnsServer,
  plan: SearchPlan,
  type: DnsType,
  opts: QueryOptions,
): Promise<Map<string, DnsResult>> {
  const { queryDns } = await import('../sources/dns/client.js');
  const { outcomeOfResult } = await import('../analyses/dns/compare.js');
  const results = new Map<string, DnsResult>();
  const names = plan.queries;
  let leftList = false;
  for (let i = 0; i < names.length; i++) {
    if (leftList && !(plan.asIsLast && i === names.length - 1)) continue;
    const r = await queryDns(server, { name: names[i], type }, opts);
    results.set(names[i], r);
    const outcome = outcomeOfResult(r);
    if (outcome === 'answer') break;
    if ((outcome === 'error' || outcome === 'no-response') && !(plan.asIsFirst && i === 0)) leftList = true;
  }
  return results;
}

/** Asks each CoreDNS replica over its own TCP stream (e.g. an API port-forward). */
export async function askReplicas(
  replicas: {
    replica: string;
    connect: () => import('node:stream').Duplex | Promise<import('node:stream').Duplex>;
  }[],
  plan: SearchPlan,
  type: DnsType,
  opts: QueryOptions,
): Promise<ReplicaResults[]> {
  const out: ReplicaResults[] = [];
  for (const r of replicas) {
    out.push({ replica: r.replica, results: await askWalk({ connect: r.connect }, plan, type, opts) });
  }
  return out;
}

/** The human form: the search steps, expected vs actual side by side, the findings. */
export async function renderDnsCheck(check: DnsCheck, options: { wide?: boolean } = {}): Promise<string> {
  const { renderTable } = await import('../render/table.js');
  const { renderFindings } = await import('../render/findings.js');
  const { c, OK, FAIL, UNKNOWN } = await import('../render/style.js');
  const { recordKey } = await import('../analyses/dns/compare.js');
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
