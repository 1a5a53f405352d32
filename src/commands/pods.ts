import { Flags } from '@oclif/core';
import { type Answer, allNamespacesFlag, clusterFlags, KnetCommand } from '../cli/base.js';

export default class Pods extends KnetCommand {
  static override summary = 'Pod IP inventory: node, IP(s), the node pod CIDR, hostNetwork, problems.';
  static override examples = [
    '<%= config.bin %> pods -A --snapshot demo',
    '<%= config.bin %> pods -n shop --node demo-worker -o wide --snapshot demo',
    '<%= config.bin %> pods -A --json --snapshot demo',
  ];
  static override flags = {
    ...clusterFlags,
    ...allNamespacesFlag,
    node: Flags.string({ description: 'only pods on this node', helpValue: 'NODE' }),
  };

  protected override async answer(): Promise<Answer> {
    const { flags } = await this.parse(Pods);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const cluster = await this.loadCluster(flags, ['namespaces', 'nodes', 'pods']);
    const { requireNode } = await import('../analyses/targets.js');
    requireNode(cluster.model, flags.node, cluster.origin);
    const { podInventory } = await import('../analyses/inventory.js');
    const { renderPodList } = await import('../render/inventory.js');
    const { document } = await import('../render/document.js');
    const result = podInventory(cluster.model, {
      namespace: flags['all-namespaces'] ? undefined : cluster.namespace,
      node: flags.node,
    });
    const { findings } = result;
    await this.emit(format, document('PodList', { items: result.items, findings }), () =>
      renderPodList(result.items, findings, {
        wide: format === 'wide',
        allNamespaces: Boolean(flags['all-namespaces']),
      }),
    );
    return { findings };
  }
}
