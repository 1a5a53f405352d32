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
    const { renderNodeList } = await import('../render/inventory.js');
    const { document } = await import('../render/document.js');
    const { sortFindings } = await import('../findings/catalog.js');
    const result = nodeInventory(cluster.model);
    const findings = sortFindings(result.findings);
    const detect = wide ? (await import('../analyses/dataplane/detect.js')).detectNodeDataplane : undefined;
    await this.emit(format, document('NodeList', { items: result.items, findings }), () =>
      renderNodeList(result.items, findings, {
        wide,
        info: new Map(
          cluster.model.nodes.map((n) => [
            n.name,
            {
              externalIPs: n.externalIPs,
              nodeData: cluster.model.nodeFiles.nodes().includes(n.name),
              dataplane: detect?.(cluster.model, n.name),
            },
          ]),
        ),
      }),
    );
    return { findings };
  }
}
