import { Args, Flags } from '@oclif/core';
import type { Packet } from '../analyses/proxy/packet.js';
import { type Answer, clusterFlags, KnetCommand } from '../cli/base.js';
import { collectFlags, saveFlag } from '../cli/live-flags.js';

export default class ProxyCommand extends KnetCommand {
  static override summary =
    "kube-proxy's rules per service port, their drift from the API, or one packet run through them.";
  static override description =
    "Reads the node's iptables-save / ipvsadm / nft dumps, ties kube-proxy's chains to services by recomputing " +
    "kube-proxy's chain-name hashes, and compares the endpoints the rules use with the API's. With --from and --to " +
    'it runs one packet through the node as the kernel would and prints the PacketFlow (alias: knet iptables).';
  static override examples = [
    '<%= config.bin %> proxy --snapshot demo',
    '<%= config.bin %> proxy --node demo-worker svc/shop/cart --snapshot demo',
    '<%= config.bin %> proxy --node demo-worker --from 10.244.1.5 --to 10.96.112.40:80 --snapshot demo',
    '<%= config.bin %> proxy --node demo-worker --from 203.0.113.9 --to 172.18.0.3:31080 --json --snapshot demo',
  ];
  static override args = {
    service: Args.string({
      description: 'only this service: svc/NAME or svc/NAMESPACE/NAME',
      required: false,
    }),
  };
  static override flags = {
    ...clusterFlags,
    node: Flags.string({
      description: 'the node whose rules to read (default: every node with dumps)',
      helpValue: 'NODE',
    }),
    from: Flags.string({ description: 'packet mode: source IP', helpValue: 'IP', dependsOn: ['to'] }),
    to: Flags.string({
      description: 'packet mode: destination IP:PORT',
      helpValue: 'IP:PORT',
      dependsOn: ['from'],
    }),
    protocol: Flags.string({
      description: 'packet mode: protocol',
      options: ['tcp', 'udp', 'sctp'],
      default: 'tcp',
    }),
    entry: Flags.string({
      description:
        'packet mode: where the packet enters the node (default: local if the source is a node address, pod if a pod IP, else external)',
      options: ['pod', 'local', 'external'],
    }),
    'in-interface': Flags.string({
      description: 'packet mode: the interface the packet arrives on',
      helpValue: 'IFACE',
    }),
    ...collectFlags,
    ...saveFlag,
  };

  protected override async answer(): Promise<Answer> {
    const { args, flags } = await this.parse(this.constructor as typeof ProxyCommand);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const { UserError } = await import('../core/errors.js');
    const { parseTarget } = await import('../core/target-grammar.js');
    const { isIP } = await import('../core/ip.js');
    if (flags.from) {
      if (!flags.node)
        throw new UserError('--from/--to needs --node NODE: the node whose rules the packet meets');
      if (!isIP(flags.from)) throw new UserError(`--from ${flags.from} is not an IP address`);
      if (!flags.to || !parseHostPort(flags.to))
        throw new UserError(`--to ${flags.to} is not IP:PORT (use [ADDR]:PORT for IPv6)`);
    }
    if (args.service) parseTarget(args.service, 'default', ['svc']);
    const cluster = await this.loadCluster(
      flags,
      ['nodes', 'pods', 'services', 'endpointslices', 'endpoints', 'configmaps'],
      { allNamespaces: true } /* the node's rules cover every service */,
    );
    // Live --collect-nodes: the files of --node, read now through a debug pod.
    await (await import('../cli/live.js')).collectForProxy(cluster, flags);
    const model = cluster.model;
    const { loadNodeProxy, nodesWithProxyRules, packetEntry, simulatePacket, PROXY_FILES } = await import(
      '../analyses/proxy/simulate.js'
    );
    const { document } = await import('../render/document.js');
    const render = await import('../render/proxy.js');
    const fileList = Object.values(PROXY_FILES).join(', ');
    if (flags.node && !model.node(flags.node) && !model.nodeFiles.nodes().includes(flags.node)) {
      const names = model.nodes.map((n) => n.name);
      throw new UserError(
        `node ${flags.node} not found${names.length ? ` (nodes: ${names.slice(0, 8).join(', ')})` : ''}`,
      );
    }

    if (flags.from && flags.to && flags.node) {
      const rules = loadNodeProxy(model, flags.node);
      if (!rules)
        throw new UserError(
          `node ${flags.node} has no kube-proxy dumps in ${cluster.origin} (nodes/${flags.node}/{${fileList}})`,
        );
      const [destination, port] = parseHostPort(flags.to) as [string, number];
      const entry = (flags.entry as Packet['from'] | undefined) ?? packetEntry(model, rules, flags.from);
      const flow = simulatePacket(rules, {
        source: flags.from,
        destination,
        port,
        protocol: flags.protocol.toUpperCase() as 'TCP' | 'UDP' | 'SCTP',
        from: entry,
        inInterface: flags['in-interface'],
      });
      await this.emit(format, document('PacketFlow', flow), () => render.renderPacketFlow(flow, entry));
      return { verdicts: [{ broken: flow.outcome === 'drop' || flow.outcome === 'reject' }] };
    }

    let service: { namespace: string; name: string } | undefined;
    if (args.service) {
      const t = parseTarget(args.service, cluster.namespace, ['svc']);
      service = { namespace: t.namespace ?? cluster.namespace, name: t.name };
    }
    const nodes = flags.node ? [flags.node] : nodesWithProxyRules(model);
    if (nodes.length === 0) {
      throw new UserError(
        `no node in ${cluster.origin} has kube-proxy dumps (nodes/NODE/{${fileList}}); use a bundle with node data`,
      );
    }
    const { proxyRuleRows } = await import('../analyses/proxy/proxy-rules.js');
    // The rows are made as they are written (base.emit): never all held, as objects or as text.
    const rows = proxyRuleRows(model, nodes, service);
    await this.emit(format, render.proxyRulesDocument(rows), () =>
      render.renderProxyRules(rows, format === 'wide'),
    );
    return { findings: rows.findings() };
  }
}

function parseHostPort(text: string): [string, number] | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? [m[1], port] : undefined;
}
