import { Flags } from '@oclif/core';
import { ANSWERED, type Answer, allNamespacesFlag, clusterFlags, KnetCommand } from '../cli/base.js';
import { UserError } from '../core/errors.js';

const { kubeconfig, context, namespace, debug } = clusterFlags;

export default class Snapshot extends KnetCommand {
  static override summary =
    'Write a bundle of the live cluster (a directory or a .tar.gz) for offline diagnosis.';
  static override description =
    'Reads the objects knet needs (never Secrets) through the Kubernetes API and writes them as a ' +
    'snapshot bundle (docs/snapshot.md): cluster.json, chunked into cluster/*.json for large clusters, ' +
    'and meta.json. With --collect-nodes it also starts one short-lived privileged debug pod per node ' +
    '(docs/live.md, docs/rbac.md) to copy iptables-save, ip -j …, nft, ipvsadm, sysctl and each pod’s ' +
    'own addresses, routes, sockets and resolv.conf into nodes/NODE/; the pods are deleted afterwards. ' +
    'Without -n or -A the context namespace is captured, as kubectl does.';
  static override examples = [
    '<%= config.bin %> snapshot -A -o cluster-snapshot',
    '<%= config.bin %> snapshot -n shop -o shop.tar.gz',
    '<%= config.bin %> snapshot -A -o full.tar.gz --collect-nodes',
    '<%= config.bin %> snapshot -A -o two-nodes --collect-nodes --nodes node-1,node-2 --image registry.local/netshoot:v0.13',
  ];
  static override flags = {
    kubeconfig,
    context,
    namespace,
    ...allNamespacesFlag,
    output: Flags.string({
      char: 'o',
      description: 'where to write: a new directory, or FILE.tar.gz',
      helpValue: 'DIR|FILE.tar.gz',
      required: true,
    }),
    'collect-nodes': Flags.boolean({
      description:
        'also collect the node files through privileged debug pods (writes pods: see docs/rbac.md)',
    }),
    nodes: Flags.string({
      description: 'only these nodes (comma-separated)',
      helpValue: 'A,B',
      dependsOn: ['collect-nodes'],
    }),
    image: Flags.string({
      description: 'the debug pod image (default: a pinned nicolaka/netshoot)',
      helpValue: 'IMAGE',
      dependsOn: ['collect-nodes'],
    }),
    'debug-namespace': Flags.string({
      description: 'the namespace of the debug pods [default: default]',
      helpValue: 'NS',
      dependsOn: ['collect-nodes'],
    }),
    parallel: Flags.integer({
      description: 'nodes collected at the same time',
      default: 10,
      min: 1,
      max: 100,
    }),
    'node-timeout': Flags.integer({ description: 'seconds allowed per node', default: 120, min: 5 }),
    'chunk-bytes': Flags.integer({ description: 'largest object file', hidden: true, min: 1024 }),
    'no-color': clusterFlags['no-color'],
    debug,
  };

  protected override async answer(): Promise<Answer> {
    const { flags } = await this.parse(Snapshot);
    this.setup(flags);
    if (flags.namespace && flags['all-namespaces'])
      throw new UserError('give either -n NAMESPACE or -A, not both');
    const { BundleWriter } = await import('../sources/bundle/write.js');
    const { ALL_KINDS, DEFAULT_OPTIONAL, readLiveCluster } = await import('../sources/kube/read.js');
    const tty = Boolean(process.stderr.isTTY);
    const progress = tty ? (msg: string) => process.stderr.write(`\r\x1b[2K${msg}`) : undefined;
    const clear = () => tty && process.stderr.write('\r\x1b[2K');
    // Fail on an existing target before reading anything.
    const writer = BundleWriter.open(flags.output, { chunkBytes: flags['chunk-bytes'] });
    try {
      const live = await readLiveCluster({
        kubeconfig: flags.kubeconfig,
        context: flags.context,
        namespace: flags.namespace,
        allNamespaces: Boolean(flags['all-namespaces']),
        kinds: [...ALL_KINDS],
        // A bundle without the edges is still a bundle (meta.json says what was forbidden);
        // without NetworkPolicies a trace on it would lie, so they stay required.
        optional: [...DEFAULT_OPTIONAL, 'ingresses', 'ingressclasses'],
        progress,
      });
      clear();
      for (const w of live.warnings) process.stderr.write(`knet: warning: ${w}\n`);
      const scope = flags['all-namespaces'] ? undefined : (flags.namespace ?? live.defaultNamespace);
      if (scope && !flags.namespace) {
        process.stderr.write(
          `knet: capturing namespace ${scope} (the context namespace); use -A for all namespaces\n`,
        );
      }
      await writer.writeObjects(live.raws);

      let nodeErrors: { node: string; message: string }[] = [];
      let collected: string[] = [];
      if (flags['collect-nodes']) {
        const known = live.raws.filter((o) => o.kind === 'Node').map((o) => String(o.metadata?.name));
        const nodes = flags.nodes
          ? flags.nodes
              .split(',')
              .map((n) => n.trim())
              .filter(Boolean)
          : known;
        const unknown = nodes.filter((n) => !known.includes(n));
        if (unknown.length)
          throw new UserError(`no such node: ${unknown.join(', ')} (nodes: ${known.join(', ')})`);
        const wanted = new Set(nodes);
        // Each running pod's own view (addresses, routes, sockets, resolv.conf), for the pods captured.
        const pods = live.raws
          .filter(
            (o) =>
              o.kind === 'Pod' &&
              wanted.has(o.spec?.nodeName) &&
              o.spec?.hostNetwork !== true &&
              o.status?.phase === 'Running' &&
              o.metadata?.uid,
          )
          .map((o) => ({
            namespace: String(o.metadata.namespace),
            name: String(o.metadata.name),
            node: String(o.spec.nodeName),
            uid: String(o.metadata.uid),
          }));
        const { collectNodeFiles } = await import('../sources/kube/collect.js');
        const result = await collectNodeFiles(
          {
            kubeconfig: flags.kubeconfig,
            context: flags.context,
            image: flags.image,
            debugNamespace: flags['debug-namespace'] ?? 'default',
            concurrency: flags.parallel,
            nodeTimeoutMs: flags['node-timeout'] * 1000,
            progress,
            sink: (node, files) => {
              writer.writeNodeFiles(node, files);
              collected.push(node);
            },
          },
          nodes,
          pods,
        );
        clear();
        nodeErrors = result.errors;
        collected = collected.sort();
        for (const e of result.errors) process.stderr.write(`knet: warning: node ${e.node}: ${e.message}\n`);
        // A node file that could not be read (the Cilium agent's table, a tool that failed); a
        // pod that is gone or has no process left is the usual churn and is not reported.
        for (const w of result.warnings)
          if (!w.message.startsWith('pods/'))
            process.stderr.write(`knet: warning: node ${w.node}: ${w.message}\n`);
        for (const n of result.notes) process.stderr.write(`knet: warning: ${n}\n`);
      }
      const done = await writer.finish({
        capturedAt: new Date().toISOString(),
        context: live.context,
        server: live.server,
        namespace: scope,
        allNamespaces: scope === undefined,
        nodes: collected,
        nodeErrors,
        absentKinds: live.absent,
        forbiddenKinds: live.forbidden,
      });
      const nodesPart = flags['collect-nodes']
        ? `, node files of ${collected.length} node${collected.length === 1 ? '' : 's'}` +
          (nodeErrors.length ? ` (${nodeErrors.length} failed)` : '')
        : '';
      process.stdout.write(`wrote ${done.path}: ${writer.objects} objects${nodesPart}\n`);
      return ANSWERED;
    } catch (err) {
      clear();
      writer.abort();
      throw err;
    }
  }
}
