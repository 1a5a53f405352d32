// What a command adds on a live cluster, opt-in: node files collected from the nodes that
// matter (--collect-nodes: a trace's path, proxy's --node, doctor's bounded set), the bundle it
// used (--save), and real attempts compared with the prediction (--probe). Everything here
// creates short-lived debug pods only when asked, and deletes them (debug-pods.ts).

import type { DnsCheck } from '../analyses/dns/check.js';
import {
  agreement,
  disagreementFinding,
  notProbed,
  type Observed,
  summarizeAttempts,
} from '../analyses/probe/agreement.js';
import type { TraceQuery, TraceResult } from '../analyses/trace/types.js';
import { UserError } from '../core/errors.js';
import { assignIds } from '../findings/links.js';
import type { ClusterModel } from '../model/cluster.js';
import { memoryNodeFiles } from '../model/node-files.js';
import type { Pod } from '../model/types.js';
import { toTerminalText } from '../render/style.js';
import { renderObserved } from '../render/trace.js';
import type { CollectedNodeFiles, PodOnPath } from '../sources/kube/collect.js';
import type { ProbeRequest } from '../sources/kube/probe.js';
import type { ProbeSpec } from '../sources/kube/probe-script.js';
import { inputWarnings, type LoadedCluster } from './base.js';
import { nodeNames } from './live-flags.js';

export interface LiveFlags {
  snapshot?: string;
  kubeconfig?: string;
  context?: string;
  'collect-nodes'?: boolean;
  save?: string;
  probe?: boolean;
  'probe-count'?: number;
  'probe-timeout'?: string;
  'probe-mode'?: string;
  image?: string;
  'debug-namespace'?: string;
  'node-timeout'?: number;
}

/** These flags act on a live cluster: with --snapshot they are an error (exit 2), one line. */
export function refuseOnSnapshot(flags: LiveFlags): void {
  if (!flags.snapshot) return;
  if (flags.probe)
    throw new UserError('--probe needs a live cluster: it makes real connections, which a snapshot cannot');
  if (flags['collect-nodes'])
    throw new UserError(
      '--collect-nodes needs a live cluster: a snapshot holds the node files it was captured with',
    );
  if (flags.save)
    throw new UserError('--save writes what a live command read: with --snapshot you have it already');
}

/** Every probe is bounded in count: 1 to 100 attempts. */
export function checkProbeCount(n: number | undefined): void {
  if (n !== undefined && !(n >= 1 && n <= 100))
    throw new UserError(`--probe-count must be from 1 to 100: ${n}`);
}

/** 2s, 500ms, 1.5 → seconds; at most 30 s. */
export function parseProbeTimeout(text: string | undefined): number {
  if (text === undefined) return 2;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  const s = m ? (m[2] === 'ms' ? Number(m[1]) / 1000 : Number(m[1])) : Number.NaN;
  if (!(s >= 0.05 && s <= 30))
    throw new UserError(`--probe-timeout must be a duration from 50ms to 30s: ${text}`);
  return s;
}

const tty = () => Boolean(process.stderr.isTTY);
const progress = (msg: string) => process.stderr.write(`\r\x1b[2K${msg}`);
const clearProgress = () => tty() && process.stderr.write('\r\x1b[2K');
const say = (msg: string) => process.stderr.write(`knet: ${toTerminalText(msg)}\n`);

function debugOptions(flags: LiveFlags) {
  return {
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    image: flags.image,
    debugNamespace: flags['debug-namespace'] ?? 'default',
    nodeTimeoutMs: (flags['node-timeout'] ?? 120) * 1000,
    progress: tty() ? progress : undefined,
  };
}

/** What a probe creates, said before it does. */
function probeVehicle(flags: LiveFlags): string {
  return flags['probe-mode'] === 'ephemeral'
    ? 'an ephemeral container in each source pod: it stops by itself and stays in the pod spec until the pod is deleted'
    : `debug pods in namespace ${flags['debug-namespace'] ?? 'default'}, deleted afterwards`;
}

/** The attempts, by the mode asked for (debug pods, or ephemeral containers). */
async function probe(flags: LiveFlags, requests: ProbeRequest[]) {
  if (flags['probe-mode'] === 'ephemeral') {
    const { runEphemeralProbes } = await import('../sources/kube/ephemeral-probe.js');
    return runEphemeralProbes(debugOptions(flags), requests);
  }
  const { runProbes } = await import('../sources/kube/probe.js');
  return runProbes(debugOptions(flags), requests);
}

/** A refusal by the API server (RBAC, Pod Security admission): the rest can still be answered. */
function isRefusal(err: unknown): err is UserError {
  return err instanceof UserError && /^(forbidden|the API server refused)/.test(err.message);
}

/**
 * Collects the node files of `nodes` (and `pods`' own views), then rebuilds the cluster's model
 * with them. A refusal (RBAC) is a warning: the answer is then computed without node files.
 */
export async function collectInto(
  cluster: LoadedCluster,
  flags: LiveFlags,
  nodes: string[],
  pods: PodOnPath[] = [],
): Promise<CollectedNodeFiles | undefined> {
  if (!cluster.live || nodes.length === 0) return undefined;
  const { collectNodeFiles } = await import('../sources/kube/collect.js');
  say(
    `collecting node files of ${nodes.join(', ')} (debug pods in namespace ${flags['debug-namespace'] ?? 'default'}, deleted afterwards)`,
  );
  let files: CollectedNodeFiles;
  // A node that gave no file at all is left out, as a bundle has no folder for it.
  const got: Record<string, Record<string, string>> = {};
  try {
    const sink = (node: string, f: Record<string, string>) => {
      if (Object.keys(f).length) got[node] = f;
    };
    files = {
      ...(await collectNodeFiles({ ...debugOptions(flags), sink }, nodes, pods)),
      ...memoryNodeFiles(got),
    };
  } catch (err) {
    clearProgress();
    if (!isRefusal(err)) throw err;
    say(`warning: node files not collected: ${err.message}`);
    return undefined;
  }
  clearProgress();
  for (const e of files.errors) say(`warning: node ${e.node}: ${e.message}`);
  for (const w of files.warnings)
    if (!w.message.startsWith('pods/')) say(`warning: node ${w.node}: ${w.message}`);
  for (const n of files.notes) say(`warning: ${n}`);
  const { buildModel } = await import('../model/build.js');
  cluster.model = buildModel(cluster.live.raws, files, cluster.live.coverage, inputWarnings());
  return files;
}

/** Writes what a live command read (and the node files it collected) as a snapshot bundle. */
export async function saveBundle(
  target: string,
  cluster: LoadedCluster,
  files: CollectedNodeFiles | undefined,
): Promise<void> {
  if (!cluster.live) return;
  const { writeBundle } = await import('../sources/bundle/write.js');
  const done = await writeBundle(target, {
    raws: cluster.live.raws,
    nodeFiles: files,
    meta: {
      capturedAt: new Date().toISOString(),
      context: cluster.live.context,
      server: cluster.live.server,
      nodes: files ? files.nodes().sort() : [],
      nodeErrors: files?.errors ?? [],
      absentKinds: cluster.live.absent,
      forbiddenKinds: cluster.live.forbidden,
    },
  });
  say(`wrote ${done.path}: the bundle this answer was computed from`);
}

/** The nodes a trace crosses: the source's, every backend's, every hop's (the entry node). */
export function pathNodes(model: ClusterModel, results: readonly TraceResult[]): string[] {
  const out = new Set<string>();
  for (const r of results) {
    for (const ref of [r.source, r.destination, ...r.paths.map((p) => p.to)]) {
      if (!ref) continue;
      if (ref.kind === 'Node' && ref.name) out.add(ref.name);
      else if (ref.node) out.add(ref.node);
      // An address: the node that has it, or the node of the pod that has it.
      if (ref.kind === 'IP' && ref.ip) {
        const node = model.nodeByIP(ref.ip)?.name ?? model.podsByIP(ref.ip)[0]?.nodeName;
        if (node) out.add(node);
      }
    }
    for (const p of r.paths) for (const h of p.hops) if (h.node) out.add(h.node);
  }
  return [...out].filter((n) => model.node(n)).sort();
}

/**
 * The pods whose own views (addresses, routes, sockets, resolv.conf) are collected with the
 * path's nodes: every running pod the live read found on them (the path's own pods: a live
 * trace reads only its path's objects), as a snapshot collects every pod of its nodes.
 */
export function podsOnNodes(model: ClusterModel, nodes: readonly string[]): PodOnPath[] {
  const wanted = new Set(nodes);
  return model.pods
    .filter((p) => p.nodeName && wanted.has(p.nodeName) && !p.hostNetwork && p.phase === 'Running')
    .map((p) => ({ namespace: p.namespace, name: p.name, node: p.nodeName as string, uid: p.uid }));
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The command the user ran, with `extra` flags added. */
export function commandWith(extra: string): string {
  return ['knet', ...process.argv.slice(2).map(shellQuote), extra].join(' ');
}

/** A trace with what the probe saw (additions to the Trace document). */
export type LiveResult = TraceResult & { observed?: Observed; agreement?: ReturnType<typeof agreement> };

/** --collect-nodes, --save and --probe for `knet trace` (one object per run). */
export class LiveTrace {
  private collected = false;
  private readonly probeTimeoutS: number;

  constructor(private readonly flags: LiveFlags & { host?: string; path?: string }) {
    refuseOnSnapshot(flags);
    checkProbeCount(flags['probe-count']);
    this.probeTimeoutS = parseProbeTimeout(flags['probe-timeout']);
  }

  /**
   * Before the trace: collects the nodes of the path (found by tracing once without them) and
   * rebuilds the model with their files; writes the bundle for --save.
   */
  async prepare(cluster: LoadedCluster, queries: readonly TraceQuery[]): Promise<void> {
    if (!cluster.live) return;
    let files: CollectedNodeFiles | undefined;
    if (this.flags['collect-nodes']) {
      const { traceConnection } = await import('../analyses/trace/trace.js');
      const statics: TraceResult[] = [];
      for (const q of queries) {
        try {
          statics.push(traceConnection(cluster.model, q));
        } catch {
          // A target that does not exist: the trace itself says so.
        }
      }
      const nodes = pathNodes(cluster.model, statics);
      files = await collectInto(cluster, this.flags, nodes, podsOnNodes(cluster.model, nodes));
      this.collected = files !== undefined;
    }
    if (this.flags.save) await saveBundle(this.flags.save, cluster, files);
  }

  /** After the trace, before its findings are explained: the probe, and its agreement. */
  async observe(cluster: LoadedCluster, results: TraceResult[]): Promise<void> {
    if (!this.flags.probe || !cluster.live) return;
    const { findClusterDomain } = await import('../analyses/dns/expected.js');
    const domain = findClusterDomain(cluster.model)?.domain ?? 'cluster.local';
    const count = this.flags['probe-count'] ?? 10;
    const plans = results.map((r) => this.plan(r, count, domain));
    const requests = plans.filter((p): p is Planned => 'request' in p);
    const observed = new Map<TraceResult, Observed>();
    for (const [i, p] of plans.entries())
      if ('notProbed' in p) observed.set(results[i], notProbed(p.method, p.notProbed));
    if (requests.length) {
      say(
        `probing from ${[...new Set(requests.map((p) => p.where))].join(', ')}: ${count} attempt${count === 1 ? '' : 's'} each (${probeVehicle(this.flags)})`,
      );
      try {
        const run = await probe(
          this.flags,
          requests.map((p) => p.request),
        );
        clearProgress();
        for (const [i, p] of requests.entries()) {
          const a = run.answers[i];
          observed.set(
            p.result,
            'output' in a ? summarizeAttempts(p.method, a.output.attempts) : notProbed(p.method, a.error),
          );
        }
      } catch (err) {
        clearProgress();
        if (!isRefusal(err)) throw err;
        // The static trace still stands: said, and printed.
        say(`warning: not probed: ${err.message}`);
        for (const p of requests) observed.set(p.result, notProbed(p.method, err.message));
      }
    }
    for (const r of results as LiveResult[]) {
      const o = observed.get(r);
      if (!o) continue;
      const agree = agreement(r, o);
      r.observed = o;
      r.agreement = agree;
      if (agree.agrees === false) {
        // The trace's findings have their ids already: this one gets its own the same way.
        const f = disagreementFinding(this.objectsOf(r), o, agree, this.next(r));
        assignIds([f]);
        r.findings.push(f);
      }
    }
  }

  /** The lines under the verdict: the observation, or the command that would settle the hops. */
  lines(cluster: LoadedCluster, result: TraceResult): string[] {
    const r = result as LiveResult;
    const out: string[] = [];
    if (r.observed && r.agreement) out.push(renderObserved(r.observed, r.agreement));
    if (cluster.live && !this.collected && inferred(r))
      out.push(`settle the inferred hops: ${commandWith('--collect-nodes')}`);
    return out;
  }

  private objectsOf(r: TraceResult): string[] {
    const ref = (x: TraceResult['source']) =>
      x.kind === 'Pod'
        ? `pod/${x.namespace}/${x.name}`
        : x.kind === 'Service'
          ? `svc/${x.namespace}/${x.name}`
          : x.kind === 'Node'
            ? `node/${x.name}`
            : `ip/${x.ip}`;
    return [ref(r.source), ref(r.destination)];
  }

  /** What to collect next, for a disagreement. */
  private next(r: TraceResult): string {
    if (inferred(r))
      return `knet inferred hops without node data: collect them and compare again: ${commandWith('--collect-nodes')}`;
    return this.collected
      ? 'The node files were collected just before the probe: either something changed in between (run it again), or the path holds something knet does not model; keep the evidence with --save DIR and see docs/probe.md.'
      : 'Collect the path again to rule out stale data (--collect-nodes), then see docs/probe.md.';
  }

  private plan(
    r: TraceResult,
    count: number,
    domain: string,
  ): Planned | { method: string; notProbed: string } {
    const timeoutS = this.probeTimeoutS;
    const src = r.source;
    let node: string | undefined;
    let pod: ProbeRequest['pod'];
    let from: string;
    if (src.kind === 'Pod') {
      node = src.node ?? undefined;
      pod = { namespace: src.namespace ?? '', name: src.name ?? '' };
      from = `pod/${src.namespace}/${src.name}'s network namespace`;
    } else if (src.kind === 'Node') {
      node = src.name;
      from = `node/${src.name}'s network namespace`;
    } else {
      node = r.paths.flatMap((p) => p.hops).find((h) => h.node)?.node;
      from = node ? `node/${node}'s network namespace (where ip/${src.ip} enters)` : `ip/${src.ip}`;
    }
    const dst = r.destination;
    const proto = dst.protocol ?? 'TCP';
    const host = dst.ip;
    const port = dst.port ?? undefined;
    const route = dst.kind === 'Ingress' || dst.kind === 'HTTPRoute';
    const to = `${host?.includes(':') ? `[${host}]` : host}:${port}`;
    let spec: ProbeSpec;
    let method: string;
    if (!host || !port)
      return { method: `from ${from}`, notProbed: 'the destination has no address and port to try' };
    if (route) {
      const path = this.flags.path ?? '/';
      const httpHost = this.flags.host ?? host;
      spec = { kind: 'http', host, port, count, timeoutS, httpHost, path };
      method = `HTTP GET ${path} (Host: ${httpHost}) to ${to} from ${from}`;
    } else if (proto === 'TCP') {
      spec = { kind: 'tcp', host, port, count, timeoutS };
      method = `TCP connect to ${to} from ${from}`;
    } else if (proto === 'UDP' && port === 53) {
      const name = `kubernetes.default.svc.${domain}`;
      spec = { kind: 'dns-server', host, port, count, timeoutS, name };
      method = `DNS query (A ${name}) to ${to}/UDP from ${from}`;
    } else {
      return {
        method: `${proto} to ${to} from ${from}`,
        notProbed:
          proto === 'UDP'
            ? `UDP port ${port} is not DNS: no reply is not a failure for UDP, so an attempt proves nothing`
            : `${proto} is not probed`,
      };
    }
    if (!node) return { method, notProbed: 'no node to probe from (give --via-node for an ip/ source)' };
    return { request: { node, pod, spec }, method, where: `${from.split("'")[0]} on ${node}`, result: r };
  }
}

interface Planned {
  request: ProbeRequest;
  method: string;
  where: string;
  result: TraceResult;
}

/** The trace has hops knet deduced without node data. */
function inferred(r: TraceResult): boolean {
  return (
    r.paths.some((p) => p.hops.some((h) => h.inferred)) || r.findings.some((f) => f.code === 'NO_NODE_DATA')
  );
}

/** `proxy --node N --collect-nodes`: that node's files. */
export async function collectForProxy(
  cluster: LoadedCluster,
  flags: LiveFlags & { node?: string },
): Promise<void> {
  refuseOnSnapshot(flags);
  if (!flags['collect-nodes']) return;
  if (!flags.node)
    throw new UserError('--collect-nodes on proxy needs --node NODE: the node whose rules to read');
  if (!cluster.model.node(flags.node)) throw new UserError(`no such node: ${flags.node}`);
  const files = await collectInto(cluster, flags, [flags.node]);
  if (flags.save) await saveBundle(flags.save, cluster, files);
}

/** The most nodes doctor collects without --nodes. */
export const DOCTOR_MAX_NODES = 20;

/** `doctor --collect-nodes [--nodes A,B]`: a bounded set of nodes, with their running pods. */
export async function collectForDoctor(
  cluster: LoadedCluster,
  flags: LiveFlags & { nodes?: string },
): Promise<void> {
  refuseOnSnapshot(flags);
  if (!flags['collect-nodes']) {
    if (flags.save && cluster.live) await saveBundle(flags.save, cluster, undefined);
    return;
  }
  const known = cluster.model.nodes.map((n) => n.name);
  const nodes = nodeNames(flags.nodes) ?? known;
  const unknown = nodes.filter((n) => !known.includes(n));
  if (unknown.length) throw new UserError(`no such node: ${unknown.join(', ')} (nodes: ${known.join(', ')})`);
  if (nodes.length > DOCTOR_MAX_NODES)
    throw new UserError(
      `${nodes.length} nodes: name at most ${DOCTOR_MAX_NODES} with --nodes A,B, or capture them all with knet snapshot --collect-nodes`,
    );
  const files = await collectInto(cluster, flags, nodes, podsOnNodes(cluster.model, nodes));
  if (flags.save) await saveBundle(flags.save, cluster, files);
}

/** `knet dns NAME --from pod/X --probe`: the pod's own resolver, from inside its namespace. */
export async function probeDns(
  cluster: LoadedCluster,
  flags: LiveFlags & { from?: string },
  check: DnsCheck,
  from: Pod | undefined,
): Promise<string[]> {
  refuseOnSnapshot(flags);
  checkProbeCount(flags['probe-count']);
  const timeoutS = parseProbeTimeout(flags['probe-timeout']);
  if (!flags.probe || !cluster.live) return [];
  if (!from) throw new UserError('--probe resolves the name from a pod: give --from pod/NAME');
  const type = check.query.type;
  if (type !== 'A' && type !== 'AAAA') throw new UserError(`--probe resolves A and AAAA names, not ${type}`);
  if (!from.nodeName)
    throw new UserError(`pod ${from.namespace}/${from.name} is not on a node: nothing to probe from`);
  const { dnsAgreement } = await import('../analyses/probe/agreement.js');
  const count = flags['probe-count'] ?? 1;
  const where = `pod/${from.namespace}/${from.name}`;
  say(
    `resolving ${check.query.name} from ${where}'s network namespace on ${from.nodeName} (${probeVehicle(flags)})`,
  );
  const doc = check as DnsCheck & { observed?: unknown; agreement?: unknown };
  try {
    const run = await probe(flags, [
      {
        node: from.nodeName,
        pod: { namespace: from.namespace, name: from.name },
        spec: {
          kind: 'resolve',
          name: check.query.name,
          type,
          count,
          timeoutS,
        },
      },
    ]);
    clearProgress();
    const a = run.answers[0];
    if ('error' in a) {
      doc.observed = { notProbed: a.error };
      return [`observed: not probed (${a.error})`];
    }
    const resolutions = a.output.resolutions ?? [];
    const expected = {
      name: check.resolvedName,
      addresses: check.expected.answers.filter((r) => r.type === type).map((r) => r.data),
      match: check.expected.match,
    };
    const agreements = resolutions.map((r) => dnsAgreement(expected, r));
    const agrees = agreements.every((x) => x.agrees);
    doc.observed = { from: where, resolvConf: a.output.resolvConf, resolutions };
    doc.agreement = { agrees, reason: (agreements.find((x) => !x.agrees) ?? agreements[0])?.reason ?? '' };
    if (!agrees) {
      const { finding } = await import('../findings/catalog.js');
      const disagrees = finding('PROBE_DISAGREES', {
        message: `The pod's own resolver disagrees with knet: ${doc.agreement && (doc.agreement as { reason: string }).reason}.`,
        objects: [where],
        hint: `The pod's resolver got another answer than the cluster's objects call for: check the nameservers of its resolv.conf and what they answer (knet dns ${check.query.name} --server IP), a cache or a stub domain in between (docs/probe.md).`,
        evidence: resolutions.flatMap((r) =>
          r.queries.map(
            (q) =>
              `${q.name} → ${q.server}: ${q.rcode ?? q.outcome}${q.addresses.length ? ` ${q.addresses.join(', ')}` : ''}`,
          ),
        ),
      });
      assignIds([disagrees]);
      check.findings.push(disagrees);
    }
    const ok = agreements.filter((x) => x.agrees).length;
    return [
      `observed: ${ok}/${agreements.length} resolution${agreements.length === 1 ? '' : 's'} from ${where} as expected — ${agrees ? 'agrees' : 'DISAGREES'} (${(agreements.find((x) => !x.agrees) ?? agreements[0])?.reason})`,
    ];
  } catch (err) {
    clearProgress();
    if (!isRefusal(err)) throw err;
    say(`warning: not probed: ${err.message}`);
    doc.observed = { notProbed: err.message };
    return [`observed: not probed (${err.message})`];
  }
}
