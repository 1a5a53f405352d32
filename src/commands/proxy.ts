import { Args, Flags } from '@oclif/core';
import type { ProxyRulesReport } from '../analyses/proxy/drift.js';
import type { PacketFlow } from '../analyses/proxy/packet.js';
import { clusterFlags, KnetCommand } from '../cli/base.js';
import { collectFlags, saveFlag } from '../cli/live-flags.js';
import type { Finding } from '../findings/types.js';

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

  async run(): Promise<void> {
    const { args, flags } = await this.parse(this.constructor as typeof ProxyCommand);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const { UserError } = await import('../core/errors.js');
    const { parseTarget } = await import('../cli/targets.js');
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
    const { loadNodeProxy, simulatePacket, PROXY_FILES } = await import('../analyses/proxy/simulate.js');
    const { document } = await import('../render/document.js');
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
      const { isLocalAddress } = await import('../analyses/proxy/simulate.js');
      const entry =
        (flags.entry as 'pod' | 'local' | 'external' | undefined) ??
        (isLocalAddress(rules, flags.from)
          ? 'local'
          : model.podsByIP(flags.from).length > 0
            ? 'pod'
            : 'external');
      const flow = simulatePacket(rules, {
        source: flags.from,
        destination,
        port,
        protocol: flags.protocol.toUpperCase() as 'TCP' | 'UDP' | 'SCTP',
        from: entry,
        inInterface: flags['in-interface'],
      });
      await this.emit(format, document('PacketFlow', flow), () => renderFlow(flow, entry));
      process.exitCode = flow.outcome === 'drop' || flow.outcome === 'reject' ? 1 : 0;
      return;
    }

    const { analyzeProxyDrift } = await import('../analyses/proxy/drift.js');
    const { finding, sortFindings } = await import('../findings/catalog.js');
    let service: { namespace: string; name: string } | undefined;
    const extra: Finding[] = [];
    if (args.service) {
      const t = parseTarget(args.service, cluster.namespace, ['svc']);
      service = { namespace: t.namespace ?? cluster.namespace, name: t.name };
      if (!model.service(service.namespace, service.name)) {
        extra.push(
          finding('SVC_NOT_FOUND', {
            message: `Service ${service.namespace}/${service.name} does not exist.`,
            objects: [`svc/${service.namespace}/${service.name}`],
          }),
        );
      }
    }
    const nodes = flags.node ? [flags.node] : model.nodeFiles.nodes().filter((n) => loadNodeProxy(model, n));
    if (nodes.length === 0) {
      throw new UserError(
        `no node in ${cluster.origin} has kube-proxy dumps (nodes/NODE/{${fileList}}); use a bundle with node data`,
      );
    }
    const reports = extra.length ? [] : nodes.map((n) => analyzeProxyDrift(model, n, { service }));
    const findings = sortFindings([...extra, ...reports.flatMap((r) => r.findings)]);
    const doc = document('ProxyRules', {
      nodes: reports.map(({ findings: _f, ...rest }) => rest),
      findings,
    });
    await this.emit(format, doc, () => renderReports(reports, findings, format === 'wide'));
    this.exitFor(findings);
  }
}

function parseHostPort(text: string): [string, number] | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? [m[1], port] : undefined;
}

const pct = (p: number) => `${Math.round(p * 1000) / 10}%`;

async function renderFlow(flow: PacketFlow, entry: string): Promise<string> {
  const { c } = await import('../render/style.js');
  const lines: string[] = [];
  const p = flow.packet;
  lines.push(
    `${c().bold('Packet')} ${p.source} → ${p.destination}:${p.port}/${p.protocol} entering ${flow.node} (${entry}), ${flow.dataplane}`,
  );
  const color =
    flow.outcome === 'drop' || flow.outcome === 'reject'
      ? c().red
      : flow.outcome === 'dnat'
        ? c().green
        : c().yellow;
  lines.push(
    `${c().bold('Outcome')} ${color(flow.outcome.toUpperCase())}${flow.service ? ` — service ${flow.service}` : ''}`,
  );
  for (const e of flow.endpoints) {
    lines.push(`  → ${e.ip}:${e.port}  ${pct(e.probability)}${e.masquerade ? '  (masqueraded)' : ''}`);
  }
  lines.push(`${c().bold('Masquerade')} ${flow.masquerade ? 'yes' : 'no'}`);
  if (flow.sessionAffinity)
    lines.push(
      `${c().bold('Session affinity')} ClientIP, ${flow.sessionAffinity.timeoutSeconds}s (one endpoint per client)`,
    );
  if (flow.decidingRule)
    lines.push(
      `${c().bold('Decided by')} ${flow.decidedBy === 'kube-proxy' ? "kube-proxy's rule" : "a rule that is not kube-proxy's"}: ${flow.decidingRule}`,
    );
  if (flow.unknown) lines.push(`${c().yellow('Unknown:')} ${flow.unknown}`);
  for (const n of flow.notes ?? []) lines.push(`${c().dim('note:')} ${n}`);
  if (flow.evidence.length) {
    lines.push(c().bold('Rules on the path:'));
    for (const e of flow.evidence) lines.push(`  ${e}`);
  }
  return `${lines.join('\n')}\n`;
}

async function renderReports(
  reports: ProxyRulesReport[],
  findings: Finding[],
  wide: boolean,
): Promise<string> {
  const { renderTable } = await import('../render/table.js');
  const { renderFindings } = await import('../render/findings.js');
  const { c } = await import('../render/style.js');
  const out: string[] = [];
  for (const r of reports) {
    out.push(
      `${c().bold(`Node ${r.node}`)}  dataplane ${r.dataplane ?? 'unknown'}${r.modeReason ? c().dim(` (${r.modeReason})`) : ''}`,
    );
    const head = [
      'service port',
      'proto',
      'cluster ip',
      'nodeport',
      'external',
      'rules → endpoints',
      'api endpoints',
      'status',
    ];
    if (wide) head.push('chain', 'policy');
    const rows = r.services.map((s) => {
      const row: string[] = [
        s.servicePort,
        `${s.port}/${s.protocol}`,
        s.clusterIP,
        s.nodePort ? String(s.nodePort) : '-',
        [...s.externalIPs, ...s.loadBalancerIPs].join(',') || '-',
        s.rulesOutcome === 'dnat'
          ? s.rulesEndpoints.map((e) => `${e.ip}:${e.port} ${pct(e.probability)}`).join('\n')
          : s.rulesOutcome.toUpperCase(),
        s.apiEndpoints
          .map((e) => `${e.ip}:${e.port}${e.ready ? '' : e.serving ? ' (terminating)' : ' (not ready)'}`)
          .join('\n') || '-',
        s.status === 'ok'
          ? c().green('ok')
          : s.status === 'unknown'
            ? c().yellow(s.status)
            : c().red(s.status),
      ];
      if (wide) row.push(s.chain ?? '-', `eTP=${s.externalTrafficPolicy} iTP=${s.internalTrafficPolicy}`);
      return row;
    });
    out.push(rows.length ? renderTable(head, rows, { multiLine: true }) : c().dim('  (no service ports)'));
    if (r.staleChains.length)
      out.push(`${c().yellow('Chains of no API service:')} ${r.staleChains.join(', ')}`);
    out.push('');
  }
  out.push(renderFindings(findings));
  return out.join('\n');
}
