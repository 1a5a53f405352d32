import { Args, Flags } from '@oclif/core';
import { type Answer, clusterFlags, KnetCommand, type Verdict } from '../cli/base.js';
import type { LiveResult } from '../cli/live.js';
import { collectFlags, probeFlags, saveFlag } from '../cli/live-flags.js';
import { hasError } from '../findings/catalog.js';
import { EDGE_KINDS, PATH_KINDS } from '../sources/kinds.js';

export default class Trace extends KnetCommand {
  static override summary = 'The hop-by-hop path(s) from SOURCE to DESTINATION, and every breakage on them.';
  static override description =
    'Reconstructs every path a packet can take — container → veth → bridge → route (→ overlay) → DNAT → ' +
    'destination pod — from the cluster objects and the node files, one path per backend with its share, ' +
    'and points at the first broken hop with its evidence. Hops without node data are marked inferred and ' +
    'make the verdict unknown, never reachable.';
  static override examples = [
    '<%= config.bin %> trace pod/shop/frontend-9zd29xl7v-27thn svc/payments/payments-api --snapshot demo',
    '<%= config.bin %> trace deploy/frontend svc/cart:http -n shop --explain --snapshot demo',
    '<%= config.bin %> trace ip/203.0.113.7 svc/shop/frontend --via-node demo-worker --snapshot demo',
    '<%= config.bin %> trace pod/shop/frontend-9zd29xl7v-27thn pod/payments/payments-api-gdl8tdvf4-lz98k --port 8443 -o mermaid --snapshot demo',
    '<%= config.bin %> trace deploy/shop/checkout dns/cart.shop:80 --snapshot demo',
    '<%= config.bin %> trace ip/203.0.113.7 ing/shop/shop --path /checkout --snapshot demo',
    '<%= config.bin %> trace ip/203.0.113.7 httproute/shop/store --host store.example.com --via-node demo-worker --snapshot demo',
  ];
  static override args = {
    source: Args.string({
      description: 'pod/[NS/]NAME, deploy|sts|ds|rs/[NS/]NAME (one of its ready pods), node/NAME or ip/ADDR',
      required: true,
    }),
    destination: Args.string({
      description:
        'svc/[NS/]NAME[:PORT], pod/[NS/]NAME[:PORT], node/NAME, ip/ADDR[:PORT], dns/NAME[:PORT], ing/[NS/]NAME or httproute/[NS/]NAME',
      required: true,
    }),
  };
  static override flags = {
    ...clusterFlags,
    output: Flags.string({
      char: 'o',
      description: 'output format',
      options: ['table', 'wide', 'json', 'yaml', 'dot', 'mermaid'],
    }),
    port: Flags.string({
      description: 'destination port (number, or a service/container port name)',
      helpValue: 'PORT',
    }),
    protocol: Flags.string({ description: 'protocol', options: ['tcp', 'udp', 'sctp'] }),
    'via-node': Flags.string({
      description: 'the node where an external ip/ source enters the cluster',
      helpValue: 'NODE',
    }),
    host: Flags.string({
      description: 'the HTTP Host of the request, for an ing/ or httproute/ destination',
      helpValue: 'HOST',
    }),
    path: Flags.string({
      description: 'the HTTP path of the request, for an ing/ or httproute/ destination',
      helpValue: 'PATH',
    }),
    explain: Flags.boolean({ description: 'explain each kind of hop (veth, bridge, DNAT, masquerade, …)' }),
    'all-pods': Flags.boolean({
      description:
        'a deploy/, sts/, ds/ or rs/ target: trace from (or to) each of its pods, not one ready pod',
    }),
    ...collectFlags,
    ...saveFlag,
    ...probeFlags,
    batch: Flags.string({
      description:
        'trace each line of FILE ("SOURCE DESTINATION [--port P] …"; - = stdin) on one cluster read; one JSON document a line (no SOURCE DESTINATION then)',
      helpValue: 'FILE',
    }),
  };

  protected override async answer(): Promise<Answer> {
    if (this.argv.some((a) => a === '--batch' || a.startsWith('--batch='))) {
      // The pairs come from FILE: the arguments are not asked for.
      const { flags } = await this.parse({ flags: Trace.flags, args: {}, strict: true });
      this.setup(flags);
      const { runTraceBatch } = await import('../cli/batch.js');
      const load = () => this.loadCluster(flags, [...PATH_KINDS, ...EDGE_KINDS], { allNamespaces: true });
      const write = (line: string) => process.stdout.write(line);
      const { results, errors } = await runTraceBatch(flags.batch as string, load, write, (t) =>
        this.note(t),
      );
      return {
        verdicts: [...results.map(traceVerdict), ...errors.map((e) => ({ broken: false, unknown: e }))],
      };
    }
    const { args, flags } = await this.parse(Trace);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const { checkTraceRequest, traceQueries, runTraces } = await import('../analyses/trace/request.js');
    const request = {
      source: args.source,
      destination: args.destination,
      port: flags.port,
      protocol: flags.protocol,
      viaNode: flags['via-node'],
      host: flags.host,
      path: flags.path,
      allPods: flags['all-pods'],
    };
    const route = checkTraceRequest(request);
    const { LiveTrace } = await import('../cli/live.js');
    const live = new LiveTrace(flags);
    const cluster = await this.loadCluster(
      flags,
      [...PATH_KINDS, ...(route ? EDGE_KINDS : [])],
      // An ingress controller lives in its own namespace; other ends read only their path.
      route
        ? { allNamespaces: true }
        : {
            targets: [args.source, args.destination],
            trace: { source: args.source, destination: args.destination },
          },
    );
    const queries = traceQueries(cluster.model, request, cluster, (t) => this.note(t));
    const { checkTraceFormat, traceOutput } = await import('../render/trace.js');
    checkTraceFormat(format, queries.length);
    // Live: the path's node files (--collect-nodes) and the bundle (--save), before the trace.
    await live.prepare(cluster, queries);
    const results = runTraces(cluster.model, queries);
    // Live --probe: real attempts from the source, compared with the prediction.
    await live.observe(cluster, results);
    const { sourceDataplane } = await import('../analyses/trace/source-dataplane.js');
    const out = traceOutput(
      format,
      results,
      results.map((r) => sourceDataplane(cluster.model, r, flags['via-node'])),
      { explain: flags.explain, under: (r) => live.lines(cluster, r) },
    );
    if ('drawing' in out) process.stdout.write(out.drawing);
    else await this.emit(format, out.doc, out.human);
    return { verdicts: results.map(traceVerdict) };
  }
}

/**
 * unknown is never a 0: with an error finding on the way it is a breakage, otherwise the trace
 * could not be decided and stderr says which data would decide it.
 */
function traceVerdict(result: LiveResult): Verdict {
  // A prediction of reachable that real attempts contradict is not an OK: the probe saw failures.
  const { observed, agreement } = result;
  if (result.verdict === 'reachable')
    return { broken: agreement?.agrees === false && !!observed && observed.succeeded < observed.attempts };
  if (result.verdict !== 'unknown' || hasError(result.findings)) return { broken: true };
  const missing = [
    ...new Set(result.findings.filter((f) => f.code === 'NO_NODE_DATA').flatMap((f) => f.objects)),
  ];
  return {
    broken: false,
    unknown: `verdict unknown: ${missing.length ? `no node data for ${missing.join(', ')} (capture it: knet snapshot --collect-nodes, or docs/snapshot.md)` : 'a hop could not be decided'}`,
  };
}
