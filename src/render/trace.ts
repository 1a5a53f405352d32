import type { Agreement, Observed } from '../analyses/probe/agreement.js';
import type { SourceDataplane } from '../analyses/trace/source-dataplane.js';
import type { Hop, HopKind, TracePath, TraceRef, TraceResult } from '../analyses/trace/types.js';
import { UserError } from '../core/errors.js';
import { document, type OutputFormat } from './document.js';
import { escapeTerminal } from './escape.js';
import { plural, renderFindings } from './findings.js';
import { c, FAIL, OK, UNKNOWN } from './style.js';

/** --explain: what each kind of hop is, for people learning Kubernetes networking. */
export const HOP_EXPLANATIONS: Record<HopKind, string> = {
  container: "the pod's own network namespace: its eth0 and the routes the container sees",
  veth: 'a veth pair is a virtual cable: eth0 in the pod on one end, a host interface on the node on the other',
  bridge:
    "a Linux bridge is a virtual switch on the node joining the pods' veths; its address is the pods' gateway",
  route:
    "the node's routing table decides where the packet goes next: the local bridge, another node, or an overlay device",
  gateway: 'the next-hop router the packet is handed to',
  overlay:
    "an overlay device (VXLAN, IPIP, Geneve) wraps the pod packet in a packet between the nodes' own addresses",
  node: "a node's own network stack (its host network namespace)",
  dnat: "kube-proxy's DNAT rewrites the Service virtual IP and port to one backend pod's IP and port; conntrack remembers the choice so replies are rewritten back",
  snat: 'SNAT rewrites the source address',
  masquerade:
    "masquerade is SNAT to the outgoing interface's address, so replies come back through this node",
  filter: 'packet filter rules (iptables/nftables filter chains, sysctls) that may drop or reject the packet',
  policy:
    'NetworkPolicy: egress rules of the policies selecting the source pod, ingress rules of those selecting the destination pod',
  pod: 'the destination pod, and whether something listens on the port',
  external: 'outside the cluster, beyond what knet can see',
  drop: 'the packet is silently discarded here',
  reject: 'the packet is refused here (the client gets an ICMP error or a TCP reset)',
  dns: "the name is resolved first, as the pod's resolver would: its search path, then the records the cluster DNS serves",
};

const mark = (status: Hop['status']) => (status === 'ok' ? OK() : status === 'broken' ? FAIL() : UNKNOWN());

function refText(r: TraceRef | null): string {
  if (!r) return 'nothing';
  const name =
    r.kind === 'Pod'
      ? `pod/${r.namespace}/${r.name}`
      : r.kind === 'Service'
        ? `svc/${r.namespace}/${r.name}`
        : r.kind === 'Node'
          ? `node/${r.name}`
          : r.kind === 'Ingress'
            ? `ing/${r.namespace}/${r.name}`
            : r.kind === 'HTTPRoute'
              ? `httproute/${r.namespace}/${r.name}`
              : `ip/${r.ip}`;
  const addr = r.ip && r.kind !== 'IP' ? ` ${r.ip}` : '';
  const port = r.port ? `:${r.port}` : '';
  const proto = r.protocol ? `/${r.protocol}` : '';
  const node = r.node && r.kind !== 'Node' ? ` on ${r.node}` : '';
  // Names come from the cluster: a newline in one must not break the header line.
  return escapeTerminal(`${name}${addr}${port}${proto}${node}`);
}

function verdictText(v: string): string {
  const k = c();
  const text = v.toUpperCase();
  return v === 'reachable' ? k.green(text) : v === 'unknown' ? k.yellow(text) : k.red(text);
}

/**
 * The human trace; `wide` (-o wide) adds every hop's evidence, not only the broken hops'.
 * `dataplane`: the source node's dataplane when it is not the textbook one (kube-proxy and a
 * bridge), as `describeDataplane` says it; one header line.
 */
export function renderTraceText(
  result: TraceResult,
  opts: {
    explain?: boolean;
    wide?: boolean;
    dataplane?: { node: string; summary: string };
    /** Lines under the verdict (a live trace's observation, cli/live.ts). */
    under?: string[];
  } = {},
): string {
  const k = c();
  const out: string[] = [];
  out.push(`${k.bold('Trace')} ${refText(result.source)} → ${refText(result.destination)}`);
  if (opts.dataplane) out.push(`${k.bold('Dataplane:')} ${opts.dataplane.summary} on ${opts.dataplane.node}`);
  const broken = result.paths.filter((p) => p.verdict === 'unreachable').length;
  const summary =
    result.paths.length > 1 ? ` (${plural(result.paths.length, 'path')}, ${broken} broken)` : '';
  // Say it once: an evidence line (the deciding rule, the policy) is printed where it first bites.
  const shown = new Map<string, number>();
  out.push(`${k.bold('Verdict:')} ${verdictText(result.verdict)}${summary}`);
  out.push(...(opts.under ?? []));
  const explained = new Set<HopKind>();
  const policySaid = new Map<string, number>();
  result.paths.forEach((path, i) => {
    out.push('');
    const p =
      path.probability !== null && result.paths.length > 1 ? `  p=${path.probability.toFixed(2)}` : '';
    out.push(`${k.bold(`Path ${i + 1}`)} → ${refText(path.to)}${p}  ${verdictText(path.verdict)}`);
    for (const hop of path.hops) {
      const node = hop.node ? k.dim(escapeTerminal(hop.node).padEnd(10)) : ''.padEnd(10);
      const inferred = hop.inferred ? k.dim(' (inferred)') : '';
      const codes = hop.findings?.length ? `  ${k.red(hop.findings.join(', '))}` : '';
      const said = opts.wide ? undefined : policyOnce(hop, i + 1, policySaid);
      out.push(
        `  ${mark(hop.status)} ${hop.kind.padEnd(10)} ${node} ${escapeTerminal(said?.detail ?? hop.detail)}${inferred}${codes}`,
      );
      const evidence = said ? said.lines : hop.evidence?.split('\n');
      if (evidence?.length && (hop.status !== 'ok' || opts.wide)) {
        let again: number | undefined;
        for (const line of evidence) {
          const first = shown.get(line);
          if (first !== undefined && first !== i + 1) {
            again ??= first;
            continue;
          }
          shown.set(line, i + 1);
          out.push(`      ${k.dim(line)}`);
        }
        if (again !== undefined) out.push(`      ${k.dim(`(the rest as on path ${again})`)}`);
      }
      if (opts.explain && !explained.has(hop.kind)) {
        explained.add(hop.kind);
        out.push(`      ${k.cyan(`ⓘ ${HOP_EXPLANATIONS[hop.kind]}`)}`);
      }
    }
  });
  out.push('');
  for (const n of result.notes) out.push(`${k.dim('note:')} ${escapeTerminal(n)}`);
  if (result.notes.length) out.push('');
  out.push(renderFindings(result.findings, 'Findings', { shown: new Set(shown.keys()) }));
  return out.join('\n');
}

/** "observed: 10/10 connected, median 0.4 ms — agrees": a probe's attempts under the verdict. */
export function renderObserved(o: Observed, a: Agreement): string {
  const k = c();
  if (o.notProbed !== undefined) return `${k.bold('observed:')} not probed (${o.notProbed})`;
  const ms = (n: number) => (n < 10 ? Number(n.toFixed(1)) : Math.round(n));
  const failed = Object.entries(o.outcomes)
    .filter(([kind]) => kind !== 'connected')
    .map(([kind, n]) => `${n} ${kind}`);
  const http = Object.entries(o.httpStatus ?? {}).map(([code, n]) => `HTTP ${code} ×${n}`);
  const parts = [
    `${o.succeeded}/${o.attempts} connected`,
    ...failed,
    ...http,
    ...(o.rttMs ? [`median ${ms(o.rttMs.median)} ms`] : []),
  ];
  const verdict =
    a.agrees === true
      ? k.green('agrees')
      : a.agrees === false
        ? k.red('DISAGREES')
        : k.yellow('nothing to compare');
  return `${k.bold('observed:')} ${parts.join(', ')} — ${verdict}${a.agrees === true ? '' : ` (${a.reason})`}`;
}

/**
 * Say it once: a policy hop that does not pass names the directions that stop the packet and,
 * under it, the rules that decide them (each policy with its rule); a later path stopped by the
 * same rules says "as on path N". undefined: the hop is printed as it is.
 */
function policyOnce(
  hop: Hop,
  path: number,
  said: Map<string, number>,
): { detail: string; lines: string[] } | undefined {
  const stopping =
    hop.kind === 'policy' && hop.status !== 'ok'
      ? hop.policy?.filter((h) => h.verdict !== 'allowed')
      : undefined;
  if (!stopping?.length) return undefined;
  const detail = stopping.map((h) => `${h.direction} ${h.verdict}`).join('; ');
  const lines = stopping.flatMap((h) => h.rules);
  const key = `${detail}\n${lines.join('\n')}`;
  const first = said.get(key);
  if (first !== undefined && first !== path) return { detail: `${detail} (as on path ${first})`, lines: [] };
  said.set(key, path);
  return { detail, lines };
}

/** A DOT string body: backslashes and quotes escaped, each line break a centred \\n. */
const quote = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\r?\n/g, '\\n');

/** Graphviz: one chain of hop nodes per path, coloured by status. */
export function renderTraceDot(result: TraceResult): string {
  const lines = ['digraph knet_trace {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  lines.push(`  src [label="${quote(refText(result.source))}", shape=ellipse];`);
  result.paths.forEach((path, i) => {
    let prev = 'src';
    path.hops.forEach((hop, j) => {
      const id = `p${i}h${j}`;
      const color = hop.status === 'ok' ? 'darkgreen' : hop.status === 'broken' ? 'red' : 'orange';
      lines.push(
        `  ${id} [label="${quote(`${hop.kind}${hop.node ? ` @${hop.node}` : ''}\n${hop.detail}`)}", color=${color}];`,
      );
      lines.push(
        `  ${prev} -> ${id}${j === 0 && path.probability !== null ? ` [label="p=${path.probability.toFixed(2)}"]` : ''};`,
      );
      prev = id;
    });
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Mermaid flowchart: the same graph for Markdown renderers. */
export function renderTraceMermaid(result: TraceResult): string {
  const esc = (s: string) => s.replace(/"/g, '#quot;');
  const lines = ['flowchart LR', `  src(["${esc(refText(result.source))}"])`];
  result.paths.forEach((path: TracePath, i) => {
    let prev = 'src';
    path.hops.forEach((hop, j) => {
      const id = `p${i}h${j}`;
      lines.push(`  ${id}["${esc(`${hop.kind}${hop.node ? ` @${hop.node}` : ''}: ${hop.detail}`)}"]`);
      lines.push(
        `  ${prev} -->${j === 0 && path.probability !== null ? `|p=${path.probability.toFixed(2)}|` : ''} ${id}`,
      );
      if (hop.status !== 'ok')
        lines.push(`  style ${id} stroke:${hop.status === 'broken' ? '#d00' : '#e90'},stroke-width:2px`);
      prev = id;
    });
  });
  return `${lines.join('\n')}\n`;
}

/** -o dot and -o mermaid draw one trace: checked before the traces run (exit 2). */
export function checkTraceFormat(format: OutputFormat, traces: number): void {
  if (traces > 1 && (format === 'dot' || format === 'mermaid'))
    throw new UserError(`-o ${format} draws one trace: name one pod, or leave out --all-pods`);
}

/** The Trace document: with the source node's dataplane when it is not the textbook one. */
export function traceDocument(result: TraceResult, dataplane: SourceDataplane | undefined): object {
  return document('Trace', dataplane ? { ...result, dataplane } : result);
}

/**
 * What `knet trace` prints of its traces: a drawing (-o dot, -o mermaid: the one trace), or a
 * document (a Trace, a TraceList of several) and its human form. `dataplanes` go with `results`
 * by position; `under` gives the lines under a trace's verdict.
 */
export function traceOutput(
  format: OutputFormat,
  results: readonly TraceResult[],
  dataplanes: readonly (SourceDataplane | undefined)[],
  opts: { explain?: boolean; under?: (result: TraceResult) => string[] } = {},
): { drawing: string } | { doc: object; human: () => string } {
  if (format === 'dot') return { drawing: renderTraceDot(results[0]) };
  if (format === 'mermaid') return { drawing: renderTraceMermaid(results[0]) };
  const text = (r: TraceResult, i: number) =>
    renderTraceText(r, {
      explain: opts.explain,
      wide: format === 'wide',
      dataplane: dataplanes[i],
      under: opts.under?.(r),
    });
  if (results.length === 1)
    return { doc: traceDocument(results[0], dataplanes[0]), human: () => text(results[0], 0) };
  return {
    doc: document('TraceList', { items: results.map((r, i) => traceDocument(r, dataplanes[i])) }),
    human: () => results.map(text).join('\n'),
  };
}
