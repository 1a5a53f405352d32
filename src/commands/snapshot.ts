import { Flags } from '@oclif/core';
import { ANSWERED, type Answer, allNamespacesFlag, clusterFlags, KnetCommand } from '../cli/base.js';
import { nodeNames } from '../cli/live-flags.js';
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
    const capture = await import('../sources/bundle/capture.js');
    const tty = Boolean(process.stderr.isTTY);
    const progress = tty ? (msg: string) => process.stderr.write(`\r\x1b[2K${msg}`) : undefined;
    const clear = () => tty && process.stderr.write('\r\x1b[2K');
    const warn = (message: string) => process.stderr.write(`knet: warning: ${message}\n`);
    // Fail on an existing target before reading anything.
    const writer = BundleWriter.open(flags.output, { chunkBytes: flags['chunk-bytes'] });
    try {
      const live = await capture.readSnapshotObjects({
        kubeconfig: flags.kubeconfig,
        context: flags.context,
        namespace: flags.namespace,
        allNamespaces: Boolean(flags['all-namespaces']),
        progress,
      });
      clear();
      live.warnings.forEach(warn);
      const scope = flags['all-namespaces'] ? undefined : (flags.namespace ?? live.defaultNamespace);
      if (scope && !flags.namespace) {
        process.stderr.write(
          `knet: capturing namespace ${scope} (the context namespace); use -A for all namespaces\n`,
        );
      }
      await writer.writeObjects(live.raws);

      let nodes: Awaited<ReturnType<typeof capture.collectIntoBundle>> | undefined;
      if (flags['collect-nodes']) {
        // An empty --nodes names no node: every node is collected.
        const wanted = capture.nodesToCollect(live.raws, nodeNames(flags.nodes));
        const options = {
          kubeconfig: flags.kubeconfig,
          context: flags.context,
          image: flags.image,
          debugNamespace: flags['debug-namespace'] ?? 'default',
          concurrency: flags.parallel,
          nodeTimeoutMs: flags['node-timeout'] * 1000,
          progress,
        };
        nodes = await capture.collectIntoBundle(
          writer,
          options,
          wanted,
          capture.podsToCollect(live.raws, wanted),
        );
        clear();
        nodes.warnings.forEach(warn);
      }
      const done = await writer.finish(
        capture.snapshotMeta(live, scope, nodes ?? { collected: [], nodeErrors: [] }),
      );
      const nodesPart = nodes
        ? `, node files of ${nodes.collected.length} node${nodes.collected.length === 1 ? '' : 's'}` +
          (nodes.nodeErrors.length ? ` (${nodes.nodeErrors.length} failed)` : '')
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
