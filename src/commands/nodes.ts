import { type Answer, clusterFlags, clusterScopedAllNamespacesFlag, KnetCommand } from '../cli/base.js';

export default class Nodes extends KnetCommand {
  static override summary = 'Node IPs, pod CIDRs, CIDR usage and overlap, readiness.';
  static override examples = [
    '<%= config.bin %> nodes --snapshot demo',
    '<%= config.bin %> nodes -o wide --snapshot demo',
    '<%= config.bin %> nodes --json --snapshot demo',
  ];
  static override flags = { ...clusterFlags, ...clusterScopedAllNamespacesFlag };

  protected override async answer(): Promise<Answer> {
    const { flags } = await this.parse(Nodes);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const wide = format === 'wide';
    // -o wide names each node's dataplane: kube-system's DaemonSets and cilium-config say
    // whether Cilium replaces kube-proxy and which CNI runs.
    const cluster = await this.loadCluster(
      flags,
      wide ? ['nodes', 'pods', 'daemonsets', 'configmaps'] : ['nodes', 'pods'],
      { allNamespaces: true },
    );
    const { nodeInventory } = await import('../analyses/inventory.js');
    const { nodeWideInfo } = await import('../analyses/node-wide-info.js');
    const { renderNodeList } = await import('../render/inventory.js');
    const { document } = await import('../render/document.js');
    const result = nodeInventory(cluster.model);
    const { findings } = result;
    await this.emit(format, document('NodeList', { items: result.items, findings }), () =>
      renderNodeList(result.items, findings, {
        wide,
        info: nodeWideInfo(cluster.model, { dataplane: wide }),
      }),
    );
    return { findings };
  }
}
