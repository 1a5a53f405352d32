import { Args, Flags } from '@oclif/core';
import { clusterFlags, KnetCommand } from '../cli/base.js';
import { EDGE_KINDS, PATH_KINDS } from '../sources/kinds.js';

export default class Trace extends KnetCommand {
  static override summary = 'The hop-by-hop path(s) from SOURCE to DESTINATION, and every breakage on them.';
  static override description =
    'Reconstructs every path a packet can take — container → veth → bridge → route (→ overlay) → DNAT → ' +
    'destination pod — from the cluster objects and the node files, one path per backend with its share, ' +
    'and points at the first broken hop with its evidence. Hops without node data are marked inferred and ' +
    'make the verdict unknown, never reachable.';
  static override examples = [
    'knet trace pod/shop/web-1 svc/shop/cart --snapshot demo',
    'knet trace pod/web-1 svc/cart:http -n shop --explain',
    'knet trace ip/203.0.113.7 svc/shop/front --via-node node-2',
    'knet trace pod/shop/web-1 pod/payments/api-0 --port 8443 -o mermaid',
    'knet trace ip/203.0.113.7 ing/shop/shop --path /checkout --snapshot demo',
    'knet trace ip/203.0.113.7 httproute/shop/store --host store.example.com --via-node demo-worker',
  ];
  static override args = {
    source: Args.string({ description: 'pod/[NS/]NAME, node/NAME or ip/ADDR', required: true }),
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
      default: 'table',
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
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Trace);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const { parseTarget } = await import('../cli/targets.js');
    const { UserError } = await import('../cli/errors.js');
    const SOURCES = ['pod', 'node', 'ip'] as const;
    const DESTINATIONS = ['pod', 'svc', 'node', 'ip', 'dns', 'ing', 'httproute'] as const;
    parseTarget(args.source, 'default', SOURCES);
    const route = ['ing', 'httproute'].includes(parseTarget(args.destination, 'default', DESTINATIONS).kind);
    if (!route && (flags.host !== undefined || flags.path !== undefined))
      throw new UserError('--host and --path apply to an ing/ or httproute/ destination only');
    if (flags.path !== undefined && !flags.path.startsWith('/'))
      throw new UserError(`--path must start with "/": ${flags.path}`);
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
    const source = parseTarget(args.source, cluster.namespace, SOURCES);
    const destination = parseTarget(args.destination, cluster.namespace, DESTINATIONS);
    const { traceConnection, TraceTargetNotFound } = await import('../analyses/trace/trace.js');
    const { document } = await import('../render/document.js');
    const port =
      flags.port === undefined ? undefined : /^\d+$/.test(flags.port) ? Number(flags.port) : flags.port;
    const protocol = flags.protocol?.toUpperCase() as 'TCP' | 'UDP' | 'SCTP' | undefined;
    let result: import('../analyses/trace/types.js').TraceResult;
    try {
      result = traceConnection(cluster.model, {
        source,
        destination,
        port,
        protocol,
        viaNode: flags['via-node'],
        host: flags.host,
        path: flags.path,
      });
    } catch (err) {
      if (!(err instanceof TraceTargetNotFound)) throw err;
      // A target that does not exist is an answer (exit 1), with close names.
      const f = err.finding;
      await this.emit(
        format === 'dot' || format === 'mermaid' ? 'table' : format,
        document('Trace', { source: null, destination: null, verdict: 'unknown', paths: [], findings: [f] }),
        async () => {
          const { renderFindings } = await import('../render/findings.js');
          return renderFindings([f]);
        },
      );
      process.exitCode = 1;
      return;
    }
    const { renderTraceText, renderTraceDot, renderTraceMermaid } = await import('../render/trace.js');
    if (format === 'dot') process.stdout.write(renderTraceDot(result));
    else if (format === 'mermaid') process.stdout.write(renderTraceMermaid(result));
    else
      await this.emit(format, document('Trace', result), () =>
        renderTraceText(result, { explain: flags.explain }),
      );
    // unknown is never a 0: with an error finding on the way it is a breakage (1), otherwise
    // the trace could not be decided (2) and stderr says which data would decide it.
    if (result.verdict === 'reachable') process.exitCode = 0;
    else if (result.verdict !== 'unknown' || result.findings.some((f) => f.severity === 'error'))
      process.exitCode = 1;
    else {
      const missing = [
        ...new Set(result.findings.filter((f) => f.code === 'NO_NODE_DATA').flatMap((f) => f.objects)),
      ];
      process.stderr.write(
        `knet: verdict unknown: ${missing.length ? `no node data for ${missing.join(', ')} (capture it: knet snapshot --collect-nodes, or docs/snapshot.md)` : 'a hop could not be decided'}\n`,
      );
      process.exitCode = 2;
    }
  }
}
