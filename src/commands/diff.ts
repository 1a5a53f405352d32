import { Args, Flags } from '@oclif/core';
import {
  type Answer,
  type ClusterFlags,
  clusterFlags,
  KnetCommand,
  type LoadedCluster,
} from '../cli/base.js';
import { EDGE_KINDS, PATH_KINDS } from '../sources/kinds.js';

const { snapshot: _snapshot, ...sideFlags } = clusterFlags;

export default class Diff extends KnetCommand {
  static override summary =
    'It worked yesterday — what changed on the path? Two clusters compared in terms of connectivity.';
  static override description =
    'Compares two snapshot bundles, or a bundle and the live cluster ("live", at most one side). With SOURCE ' +
    'and DESTINATION: both traces, the verdict change, the first hop that differs and the object, rule or ' +
    'route changes that explain it. Without: Service backends and ports, NetworkPolicy verdicts of the pod ' +
    'pairs the changed policies select, DNS answers, routes and overlay entries per node, and findings that ' +
    'appeared or were resolved — what broke first, then what was fixed, then the rest. Keep a known-good ' +
    'bundle with `knet snapshot -o DIR`. Exit 1 when something that was reachable is not any more.';
  static override examples = [
    '<%= config.bin %> diff demo examples/demo-after',
    '<%= config.bin %> diff demo examples/demo-after pod/shop/frontend-9zd29xl7v-27thn svc/shop/cart',
    '<%= config.bin %> diff demo examples/demo-after -n shop --objects',
    '<%= config.bin %> diff demo demo --json',
  ];
  static override args = {
    old: Args.string({
      description: 'the earlier cluster: a bundle (directory or .tar.gz), "demo" or "live"',
      required: true,
    }),
    new: Args.string({ description: 'the later cluster: a bundle, "demo" or "live"', required: true }),
    source: Args.string({
      description: 'trace from: pod/[NS/]NAME, deploy|sts|ds|rs/[NS/]NAME, node/NAME or ip/ADDR',
    }),
    destination: Args.string({
      description:
        'trace to: svc/[NS/]NAME[:PORT], pod/…, node/NAME, ip/ADDR[:PORT], dns/NAME[:PORT], ing/… or httproute/…',
    }),
  };
  static override flags = {
    ...sideFlags,
    objects: Flags.boolean({
      description: 'also list every object and node-file change, not only those that explain one',
    }),
    port: Flags.string({ description: 'destination port of the trace', helpValue: 'PORT' }),
    protocol: Flags.string({ description: 'protocol of the trace', options: ['tcp', 'udp', 'sctp'] }),
    'via-node': Flags.string({
      description: 'the node where an external ip/ source enters the cluster',
      helpValue: 'NODE',
    }),
    host: Flags.string({
      description: 'the HTTP Host, for an ing/ or httproute/ destination',
      helpValue: 'HOST',
    }),
    path: Flags.string({
      description: 'the HTTP path, for an ing/ or httproute/ destination',
      helpValue: 'PATH',
    }),
  };

  protected override async answer(): Promise<Answer> {
    const { args, flags } = await this.parse(Diff);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const { UserError } = await import('../core/errors.js');
    if (args.old === 'live' && args.new === 'live')
      throw new UserError(
        'at most one side can be "live": keep the other as a bundle (knet snapshot -o DIR)',
      );
    if ((args.source === undefined) !== (args.destination === undefined))
      throw new UserError('give both SOURCE and DESTINATION for a trace, or neither for the whole cluster');
    if (
      args.source === undefined &&
      [flags.port, flags.protocol, flags['via-node'], flags.host, flags.path].some((x) => x !== undefined)
    )
      throw new UserError(
        '--port, --protocol, --via-node, --host and --path apply to a trace: give SOURCE and DESTINATION',
      );
    const live = args.old === 'live' || args.new === 'live';
    if (!live && (flags.kubeconfig || flags.context))
      throw new UserError('--kubeconfig and --context name the live side: give "live" as OLD or NEW');
    const load = (side: string): Promise<LoadedCluster> =>
      this.loadCluster(
        { ...flags, snapshot: side === 'live' ? undefined : side } as ClusterFlags,
        [...PATH_KINDS, ...EDGE_KINDS],
        // Live, every namespace (or -n): the bundle on the other side is a whole cluster.
        {
          allNamespaces: flags.namespace === undefined,
          optional: ['ingresses', 'ingressclasses', 'networkpolicies'],
        },
      );
    const oldCluster = await load(args.old);
    const newCluster = await load(args.new);
    const { diffClusters } = await import('../analyses/diff/compare.js');
    let trace: import('../analyses/diff/compare.js').DiffOptions['trace'];
    if (args.source !== undefined && args.destination !== undefined)
      trace = await this.traceBoth(oldCluster, newCluster, args.source, args.destination, flags);
    const diff = diffClusters(oldCluster.model, newCluster.model, {
      oldOrigin: args.old === 'live' ? oldCluster.origin : args.old,
      newOrigin: args.new === 'live' ? newCluster.origin : args.new,
      // Live with -n reads one namespace: compare that namespace only.
      namespace: trace ? undefined : flags.namespace,
      objects: flags.objects,
      trace,
    });
    const { renderDiff } = await import('../render/diff.js');
    const { document } = await import('../render/document.js');
    await this.emit(format, document('Diff', diff), () => renderDiff(diff, { wide: format === 'wide' }));
    if (!diff.trace) return { verdicts: [{ broken: diff.summary.broke > 0 }] };
    // A trace that broke is a breakage even when the other side's verdict is unknown.
    const broken = diff.trace.change === 'broke';
    const unknown =
      !broken && [diff.trace.old.verdict, diff.trace.new.verdict].includes('unknown')
        ? 'a trace verdict is unknown on one side (no node data?): whether it still works cannot be told'
        : undefined;
    return { verdicts: [{ broken, unknown }] };
  }

  /** The same trace on both sides; an end missing on one side is that side's answer. */
  private async traceBoth(
    oldCluster: LoadedCluster,
    newCluster: LoadedCluster,
    source: string,
    destination: string,
    flags: { port?: string; protocol?: string; 'via-node'?: string; host?: string; path?: string },
  ) {
    const { UserError } = await import('../core/errors.js');
    const { parseTraceEnds, traceQueries, runTraces } = await import('../analyses/trace/request.js');
    parseTraceEnds(source, destination);
    const request = {
      source,
      destination,
      port: flags.port,
      protocol: flags.protocol,
      viaNode: flags['via-node'],
      host: flags.host,
      path: flags.path,
    };
    type Side = import('../analyses/diff/types.js').TraceSide;
    const side = (cluster: LoadedCluster): Side => {
      try {
        // Without allPods a workload is one pod: one query a side.
        const [trace] = runTraces(cluster.model, traceQueries(cluster.model, request, cluster));
        return { verdict: trace.verdict, trace };
      } catch (err) {
        if (!(err instanceof UserError)) throw err;
        return { verdict: 'not-found', trace: null, error: err.message.replace(/\.$/, '') };
      }
    };
    const o = side(oldCluster);
    const n = side(newCluster);
    if (!o.trace && !n.trace) throw new UserError(`${n.error} (on both sides)`);
    return { old: o, new: n };
  }
}
