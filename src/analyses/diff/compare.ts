// knet diff: two clusters (two bundles, or a bundle and the live cluster) compared in terms of
// connectivity — which paths changed their verdict, at which hop, and which object or rule
// change caused it. Pure: both models and (with SRC DST) both traces come from the caller.

import { cidrContains, isCIDR } from '../../core/ip.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { nodeState } from '../../model/node-state.js';
import { isTerminal } from '../../model/pods.js';
import type { Protocol, Service } from '../../model/types.js';
import { clusterDomainOf, expectedAnswer } from '../dns/expected.js';
import { type DoctorOptions, runDoctor } from '../doctor.js';
import { readyEndpoints } from '../endpoints/backends.js';
import { diagnoseProxyDrift } from '../proxy/drift.js';
import { loadNodeProxy } from '../proxy/simulate.js';
import { listensOn } from '../trace/netns-hops.js';
import type { TraceResult } from '../trace/types.js';
import { ingressChanges } from './ingress.js';
import { findingKey } from './keys.js';
import { diffNodeFiles, diffObjects } from './objects.js';
import { policyChanges } from './policy.js';
import { changedNodeFiles, changedScope } from './scope.js';
import { firstDifferingHop, pathLabel, traceSideVerdict, verdictChange } from './trace.js';
import type {
  ChangeClass,
  ConnectivityChange,
  Diff,
  DifferingHop,
  NodeFileChange,
  ObjectChange,
  TraceDiff,
  TraceSide,
} from './types.js';

export interface DiffOptions {
  oldOrigin: string;
  newOrigin: string;
  /** One namespace; undefined = the whole cluster. */
  namespace?: string;
  /** List every object change, not only those that explain a connectivity change. */
  objects?: boolean;
  /** With SRC DST: the trace on each side (null trace: an end does not exist there). */
  trace?: { old: TraceSide; new: TraceSide };
  /** Pairs of pods whose policy verdicts are compared, at most (each evaluated on both sides). */
  maxPolicyPairs?: number;
}

const CLASS_ORDER: Record<ChangeClass, number> = { broke: 0, fixed: 1, changed: 2 };
const KIND_ORDER = [
  'trace',
  'service-backends',
  'service-ports',
  'service',
  'ingress',
  'policy',
  'proxy',
  'route',
  'overlay',
  'dns',
  'finding',
];

/** The namespace part of a ref (`kind/ns/name`), or undefined for a cluster-scoped one. */
function refNamespace(ref: string): string | undefined {
  const parts = ref.split('/');
  return parts.length >= 3 ? parts[1] : undefined;
}

/** Refs compared for -n NS: the namespace's objects, cluster-scoped ones, and kube-system's ConfigMaps. */
function inScope(namespace: string | undefined): (ref: string) => boolean {
  if (namespace === undefined) return () => true;
  return (ref) => {
    const ns = refNamespace(ref);
    return ns === undefined || ns === namespace || ref.startsWith('configmap/kube-system/');
  };
}

export function diffClusters(oldModel: ClusterModel, newModel: ClusterModel, options: DiffOptions): Diff {
  const notes: string[] = [];
  const keep = inScope(options.namespace);
  // Every object is compared: a change in another namespace may explain one in this one.
  const objectChanges = diffObjects(oldModel, newModel);
  // A live side has no node files: comparing them (and the findings drawn from them) with a
  // bundle's would call every route and rule lost.
  const nodeData = [oldModel, newModel].map((m) => m.nodeFiles.nodes().length > 0);
  const sameNodeData = nodeData[0] === nodeData[1];
  if (!sameNodeData)
    notes.push(
      `only the ${nodeData[0] ? 'old' : 'new'} side has node files: routes, kube-proxy rules and the findings drawn from them are not compared`,
    );
  const changedFiles = changedNodeFiles(oldModel, newModel);
  const nodeChanges = sameNodeData ? diffNodeFiles(oldModel, newModel, changedFiles) : [];
  const byRef = new Map(objectChanges.map((c) => [c.ref, c]));
  const changes: ConnectivityChange[] = [];
  let trace: TraceDiff | undefined;

  if (options.trace) {
    trace = diffTrace(oldModel, newModel, options.trace, objectChanges, nodeChanges);
    if (trace.change !== 'same') {
      const o = options.trace.old;
      const n = options.trace.new;
      const hop = trace.firstDifferingHop;
      changes.push({
        class: trace.change,
        kind: 'trace',
        subject: traceSubject(o.trace ?? n.trace),
        text: `${traceSideVerdict(o)} → ${traceSideVerdict(n)}${hop ? `; first differing hop #${hop.index + 1} ${hop.kind}${hop.node ? ` on ${hop.node}` : ''}` : ''}`,
        causes: trace.causes,
      });
    }
  } else {
    const ctx: Ctx = {
      oldModel,
      newModel,
      byRef,
      nodeChanges,
      namespace: options.namespace,
      notes,
      sameNodeData,
    };
    changes.push(...serviceChanges(ctx));
    changes.push(
      ...policyChanges(oldModel, newModel, objectChanges, {
        namespace: options.namespace,
        maxPairs: options.maxPolicyPairs ?? 20_000,
        causes: (refs) => causesOf(ctx, refs),
        notes,
      }),
    );
    changes.push(...ingressChanges(oldModel, newModel, options.namespace, (refs) => causesOf(ctx, refs)));
    changes.push(...dnsChanges(ctx, objectChanges));
    changes.push(...nodeFileConnectivity(ctx));
    changes.push(
      ...findingChanges(ctx, changedScope(oldModel, newModel, objectChanges, changedFiles, nodeChanges)),
    );
  }
  changes.sort(
    (a, b) =>
      CLASS_ORDER[a.class] - CLASS_ORDER[b.class] ||
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      a.subject.localeCompare(b.subject),
  );
  return {
    old: { origin: options.oldOrigin },
    new: { origin: options.newOrigin },
    namespace: options.namespace ?? null,
    summary: {
      broke: changes.filter((c) => c.class === 'broke').length,
      fixed: changes.filter((c) => c.class === 'fixed').length,
      changed: changes.filter((c) => c.class === 'changed').length,
    },
    ...(trace ? { trace } : {}),
    changes,
    ...(options.objects ? { objects: objectChanges.filter((c) => keep(c.ref)), nodeFiles: nodeChanges } : {}),
    notes,
  };
}

function traceSubject(t: TraceResult | null): string {
  if (!t) return '?';
  const end = (r: TraceResult['source']) =>
    `${r.kind.toLowerCase()}/${r.namespace ? `${r.namespace}/` : ''}${r.name ?? r.ip ?? '?'}${r.port ? `:${r.port}` : ''}`;
  return `${end(t.source)} -> ${end(t.destination)}`;
}

interface Ctx {
  oldModel: ClusterModel;
  newModel: ClusterModel;
  byRef: Map<string, ObjectChange>;
  nodeChanges: NodeFileChange[];
  namespace?: string;
  notes: string[];
  sameNodeData: boolean;
}

const causesOf = (ctx: Pick<Ctx, 'byRef'>, refs: Iterable<string>): string[] => {
  const out: string[] = [];
  for (const r of new Set(refs)) {
    const c = ctx.byRef.get(r);
    if (c) out.push(c.summary);
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// Trace

function diffTrace(
  oldModel: ClusterModel,
  newModel: ClusterModel,
  sides: { old: TraceSide; new: TraceSide },
  objectChanges: ObjectChange[],
  nodeChanges: NodeFileChange[],
): TraceDiff {
  const o = sides.old.trace;
  const n = sides.new.trace;
  const verdict = verdictChange(traceSideVerdict(sides.old), traceSideVerdict(sides.new));
  // An end that does not exist (or a name that does not resolve) on one side: the other
  // side's first hop is where they part.
  const lone = (t: TraceResult, which: 'old' | 'new'): DifferingHop | null => {
    const path = t.paths[0];
    const first = path?.hops[0];
    if (!first) return null;
    return {
      index: 0,
      kind: first.kind,
      node: first.node,
      old: which === 'old' ? first : null,
      new: which === 'new' ? first : null,
      oldPath: which === 'old' ? pathLabel(path) : null,
      newPath: which === 'new' ? pathLabel(path) : null,
    };
  };
  const hop = o && n ? firstDifferingHop(o, n) : o ? lone(o, 'old') : n ? lone(n, 'new') : null;
  const change: TraceDiff['change'] =
    verdict === 'unknown' ? 'changed' : verdict === 'same' ? (hop ? 'changed' : 'same') : verdict;

  // The objects on the way, on either side: the ends, the backends, what the findings name,
  // the policies of the namespaces the packet enters, and the DNS and kube-proxy settings.
  const refs = new Set<string>(['configmap/kube-system/coredns', 'configmap/kube-system/kube-proxy']);
  const namespaces = new Set<string>();
  const nodes = new Set<string>();
  const services: { namespace: string; name: string }[] = [];
  for (const t of [o, n]) {
    if (!t) continue;
    for (const end of [t.source, t.destination, ...t.paths.map((p) => p.to)]) {
      if (!end) continue;
      if (end.namespace) namespaces.add(end.namespace);
      if (end.node) nodes.add(end.node);
      if (!end.name) continue;
      const kind = {
        Pod: 'pod',
        Service: 'svc',
        Node: 'node',
        IP: '',
        Ingress: 'ing',
        HTTPRoute: 'httproute',
      }[end.kind];
      if (kind) refs.add(end.namespace ? `${kind}/${end.namespace}/${end.name}` : `${kind}/${end.name}`);
      if (end.kind === 'Service') services.push({ namespace: end.namespace!, name: end.name });
      if (end.kind === 'Ingress') {
        for (const m of [oldModel, newModel]) {
          const ing = m.ingresses.find((i) => i.namespace === end.namespace && i.name === end.name);
          for (const b of [
            ing?.defaultBackend,
            ...(ing?.rules.flatMap((r) => r.paths.map((p) => p.backend)) ?? []),
          ])
            if (b?.service) services.push({ namespace: end.namespace!, name: b.service.name });
        }
      }
    }
    for (const f of t.findings) for (const r of f.objects) refs.add(r);
    for (const p of t.paths) for (const h of p.hops) if (h.node) nodes.add(h.node);
  }
  for (const s of services) refs.add(`svc/${s.namespace}/${s.name}`);
  for (const c of objectChanges) {
    const ns = refNamespace(c.ref);
    if (c.ref.startsWith('networkpolicy/') && ns && namespaces.has(ns)) refs.add(c.ref);
    if (c.ref.startsWith('namespace/') && namespaces.has(c.ref.slice('namespace/'.length))) refs.add(c.ref);
    if (c.ref.startsWith('node/') && nodes.has(c.ref.slice('node/'.length))) refs.add(c.ref);
  }
  // The EndpointSlices of the Services on the way.
  for (const m of [oldModel, newModel])
    for (const s of services) {
      const svc = m.service(s.namespace, s.name);
      if (svc)
        for (const sl of m.endpointSlicesFor(svc)) refs.add(`endpointslice/${sl.namespace}/${sl.name}`);
    }
  const byRef = new Map(objectChanges.map((c) => [c.ref, c]));
  const causes = causesOf({ byRef }, [...refs].sort());
  const seen = new Set<string>();
  for (const s of services) {
    const key = `${s.namespace}/${s.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    causes.push(...endpointCountChanges(oldModel, newModel, s.namespace, s.name));
    causes.push(...proxyOutcomeChanges(oldModel, newModel, s.namespace, s.name));
  }
  for (const c of nodeChanges) if (nodes.has(c.node)) causes.push(c.summary);
  return {
    old: sides.old,
    new: sides.new,
    change,
    firstDifferingHop: change === 'same' ? null : hop,
    causes,
  };
}

const portName = (svc: Service, p: Service['ports'][number]) =>
  `${svc.clusterIPs[0] ?? svc.name}:${p.port}/${p.protocol}`;

/** "svc/ns/name: ready endpoints 3 → 0 (port 80/TCP)", for each port whose count changed. */
function endpointCountChanges(a: ClusterModel, b: ClusterModel, namespace: string, name: string): string[] {
  const sa = a.service(namespace, name);
  const sb = b.service(namespace, name);
  const out: string[] = [];
  if (!sa || !sb) {
    if (sa !== sb) out.push(`svc/${namespace}/${name} ${sa ? 'removed' : 'added'}`);
    return out;
  }
  for (const p of sb.ports) {
    const op = sa.ports.find((x) => x.name === p.name && x.protocol === p.protocol);
    const before = op ? readyEndpoints(a, sa, op).length : 0;
    const after = readyEndpoints(b, sb, p).length;
    if (before !== after)
      out.push(
        `svc/${namespace}/${name}: ready endpoints ${before} → ${after} (port ${p.port}/${p.protocol})`,
      );
  }
  return out;
}

function describeOutcome(row: { rulesOutcome: string; rulesEndpoints: unknown[] } | undefined): string {
  if (!row) return 'has no rule for';
  if (row.rulesOutcome === 'dnat')
    return `DNATs to ${row.rulesEndpoints.length} endpoint${row.rulesEndpoints.length === 1 ? '' : 's'}`;
  return (
    { reject: 'rejects', drop: 'drops', accept: 'accepts', pass: 'has no rule for' }[row.rulesOutcome] ??
    row.rulesOutcome
  );
}

/** "kube-proxy on 3 nodes now rejects 10.96.12.4:80/TCP (before: DNATs to 2 endpoints)". */
function proxyOutcomeChanges(a: ClusterModel, b: ClusterModel, namespace: string, name: string): string[] {
  const sa = a.service(namespace, name);
  const sb = b.service(namespace, name);
  const svc = sb ?? sa;
  if (!svc || svc.headless || svc.type === 'ExternalName') return [];
  const nodes = [...new Set([...a.nodeFiles.nodes(), ...b.nodeFiles.nodes()])].sort();
  const groups = new Map<string, string[]>();
  for (const node of nodes) {
    if (!loadNodeProxy(a, node) || !loadNodeProxy(b, node)) continue;
    const rows = (m: ClusterModel, s: Service | undefined) =>
      s ? diagnoseProxyDrift(m, node, { service: s }).services : [];
    const ra = rows(a, sa);
    const rb = rows(b, sb);
    for (const p of svc.ports) {
      const x = ra.find((r) => r.port === p.port && r.protocol === p.protocol);
      const y = rb.find((r) => r.port === p.port && r.protocol === p.protocol);
      const before = describeOutcome(x);
      const after = describeOutcome(y);
      if (before === after) continue;
      const k = `${portName(svc, p)}|${before}|${after}`;
      groups.set(k, [...(groups.get(k) ?? []), node]);
    }
  }
  return [...groups].map(([k, list]) => {
    const [addr, before, after] = k.split('|');
    return `kube-proxy on ${list.length} node${list.length === 1 ? '' : 's'} (${list.join(', ')}) now ${after} ${addr} (before: ${before})`;
  });
}

// ---------------------------------------------------------------------------------------------
// Services: backends and ports

/** An endpoint (`ip:port`) whose pod's socket list (ss.txt) shows no listener on the port. */
function notListening(m: ClusterModel, ep: string, protocol: Protocol): boolean {
  const at = ep.lastIndexOf(':');
  const ip = ep.slice(0, at);
  const pod = m.podsByIP(ip).find((p) => !isTerminal(p));
  if (!pod?.nodeName) return false;
  const state = nodeState(m, pod.nodeName);
  const listening = pod.hostNetwork ? state.listening : state.pod(pod).listening;
  return listening !== undefined && !listensOn(listening, ip, Number(ep.slice(at + 1)), protocol);
}

function serviceChanges(ctx: Ctx): ConnectivityChange[] {
  const { oldModel: a, newModel: b } = ctx;
  const pick = (m: ClusterModel) =>
    ctx.namespace === undefined ? m.services : m.servicesInNamespace(ctx.namespace);
  const keys = new Set([...pick(a), ...pick(b)].map((s) => `${s.namespace}/${s.name}`));
  const out: ConnectivityChange[] = [];
  for (const key of [...keys].sort()) {
    const [namespace, name] = key.split('/');
    const sa = a.service(namespace, name);
    const sb = b.service(namespace, name);
    const ref = `svc/${key}`;
    const sliceRefs = (m: ClusterModel, s: Service | undefined) =>
      s ? m.endpointSlicesFor(s).map((sl) => `endpointslice/${sl.namespace}/${sl.name}`) : [];
    // Ports and ready endpoints come from the Service and its slices: unchanged, the same.
    if (![ref, ...sliceRefs(a, sa), ...sliceRefs(b, sb)].some((r) => ctx.byRef.has(r))) continue;
    if (!sa || !sb) {
      const s = (sa ?? sb)!;
      const had = sa ? sa.ports.some((p) => readyEndpoints(a, sa, p).length > 0) : false;
      out.push({
        class: sa && had ? 'broke' : 'changed',
        kind: 'service',
        subject: ref,
        text: `Service ${sa ? 'removed' : 'added'} (${s.clusterIPs[0] ?? s.type})`,
        causes: [],
      });
      continue;
    }
    // Ports: by name and protocol.
    for (const p of sa.ports) {
      const q = sb.ports.find((x) => x.name === p.name && x.protocol === p.protocol);
      const show = (x: typeof p) => `${x.port}→${x.targetPort}${x.nodePort ? ` nodePort ${x.nodePort}` : ''}`;
      if (!q) {
        out.push({
          class: 'broke',
          kind: 'service-ports',
          subject: `${ref}:${p.name || p.port}`,
          text: `port ${show(p)}/${p.protocol} removed`,
          causes: causesOf(ctx, [ref]),
        });
      } else if (show(p) !== show(q)) {
        out.push({
          class: 'changed',
          kind: 'service-ports',
          subject: `${ref}:${p.name || p.port}`,
          text: `port ${show(p)} → ${show(q)} (${p.protocol})`,
          causes: causesOf(ctx, [ref]),
        });
      }
    }
    for (const q of sb.ports)
      if (!sa.ports.some((x) => x.name === q.name && x.protocol === q.protocol))
        out.push({
          class: 'changed',
          kind: 'service-ports',
          subject: `${ref}:${q.name || q.port}`,
          text: `port ${q.port}/${q.protocol} added`,
          causes: causesOf(ctx, [ref]),
        });
    // Backends: the ready endpoints of each port.
    for (const q of sb.ports) {
      const p = sa.ports.find((x) => x.name === q.name && x.protocol === q.protocol);
      if (!p) continue;
      const before = readyEndpoints(a, sa, p).map((e) => `${e.ip}:${e.port}`);
      const after = readyEndpoints(b, sb, q).map((e) => `${e.ip}:${e.port}`);
      const lost = before.filter((x) => !after.includes(x));
      const gained = after.filter((x) => !before.includes(x));
      if (!lost.length && !gained.length) continue;
      const podOf = (m: ClusterModel, ep: string) => {
        const pod = m.podsByIP(ep.replace(/:\d+$/, ''))[0];
        return pod ? `pod/${pod.namespace}/${pod.name}` : undefined;
      };
      const podRefs = [...lost.map((e) => podOf(a, e)), ...gained.map((e) => podOf(b, e))].filter(
        (x): x is string => Boolean(x),
      );
      // Endpoints that answer: all but those whose pod's socket list shows nothing on the port.
      const deaf = (m: ClusterModel, eps: string[]) => eps.filter((ep) => notListening(m, ep, q.protocol));
      const deafAfter = deaf(b, after);
      const answered = before.length - deaf(a, before).length;
      const answers = after.length - deafAfter.length;
      const cls: ChangeClass =
        answered > 0 && answers === 0 ? 'broke' : answered === 0 && answers > 0 ? 'fixed' : 'changed';
      const list = (xs: string[]) => xs.slice(0, 3).join(', ') + (xs.length > 3 ? `, … (${xs.length})` : '');
      out.push({
        class: cls,
        kind: 'service-backends',
        subject: `${ref}:${q.name || q.port}`,
        text: `endpoints ${before.length} → ${after.length}${lost.length ? `; lost ${list(lost)}` : ''}${gained.length ? `; gained ${list(gained)}` : ''}${deafAfter.length ? `; nothing listens on ${list(deafAfter)} (ss.txt)` : ''}`,
        causes: causesOf(ctx, [ref, ...sliceRefs(a, sa), ...sliceRefs(b, sb), ...podRefs]),
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DNS: the answers the cluster's objects call for

function dnsChanges(ctx: Ctx, objectChanges: ObjectChange[]): ConnectivityChange[] {
  const { oldModel: a, newModel: b } = ctx;
  const corefile = objectChanges.some((c) => c.ref === 'configmap/kube-system/coredns');
  const changedServices = new Set(
    objectChanges
      .filter((c) => c.ref.startsWith('svc/') || c.ref.startsWith('endpointslice/'))
      .map((c) => (c.ref.startsWith('svc/') ? c.ref.slice(4) : undefined))
      .filter((x): x is string => Boolean(x)),
  );
  const pick = (m: ClusterModel) =>
    ctx.namespace === undefined ? m.services : m.servicesInNamespace(ctx.namespace);
  let names = [...new Set([...pick(a), ...pick(b)].map((s) => `${s.namespace}/${s.name}`))].filter(
    (k) => corefile || changedServices.has(k),
  );
  const MAX = 2000;
  if (names.length > MAX) {
    ctx.notes.push(`DNS: compared the answers for the first ${MAX} of ${names.length} Service names`);
    names = names.slice(0, MAX);
  }
  const domainA = clusterDomainOf(a) ?? 'cluster.local';
  const domainB = clusterDomainOf(b) ?? 'cluster.local';
  const out: ConnectivityChange[] = [];
  for (const key of names.sort()) {
    const [ns, name] = key.split('/');
    const qname = `${name}.${ns}.svc.${domainA}`;
    const answer = (m: ClusterModel, domain: string) => {
      const r = expectedAnswer(m, { name: qname, type: 'A' }, { clusterDomain: domain });
      return { rcode: r.rcode, data: r.answers.map((x) => x.data).sort(), reason: r.reason };
    };
    const x = answer(a, domainA);
    const y = answer(b, domainB);
    const show = (r: typeof x) => (r.data.length ? r.data.join(', ') : r.rcode);
    if (show(x) === show(y)) continue;
    out.push({
      class:
        x.data.length && !y.data.length ? 'broke' : !x.data.length && y.data.length ? 'fixed' : 'changed',
      kind: 'dns',
      subject: `${qname} A`,
      text: `${show(x)} → ${show(y)}`,
      causes: causesOf(ctx, ['configmap/kube-system/coredns', `svc/${key}`]),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Routes and overlay entries per node

function nodeFileConnectivity(ctx: Ctx): ConnectivityChange[] {
  const podCIDRs = [...ctx.oldModel.nodes, ...ctx.newModel.nodes].flatMap((n) => n.podCIDRs);
  const toPods = (route: string) => {
    const dst = route.split(' ').find((w) => isCIDR(w) || /^\d+\.\d+\.\d+\.\d+$/.test(w));
    if (!dst) return false;
    const ip = dst.split('/')[0];
    return podCIDRs.some((c) => {
      try {
        return cidrContains(c, ip);
      } catch {
        return false;
      }
    });
  };
  const out: ConnectivityChange[] = [];
  for (const c of ctx.nodeChanges) {
    const kind =
      c.file === 'ip-route.json'
        ? 'route'
        : c.file === 'ip-neigh.json' || c.file === 'bridge-fdb.json'
          ? 'overlay'
          : undefined;
    if (!kind) continue;
    for (const line of c.lost)
      out.push({
        class: kind === 'route' && toPods(line) ? 'broke' : 'changed',
        kind,
        subject: `node/${c.node}`,
        text: `lost ${kind === 'route' ? 'route' : 'entry'} \`${line}\` (${c.file})`,
        causes: [],
      });
    for (const line of c.gained)
      out.push({
        class: 'changed',
        kind,
        subject: `node/${c.node}`,
        text: `gained ${kind === 'route' ? 'route' : 'entry'} \`${line}\` (${c.file})`,
        causes: [],
      });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Findings that appeared or were resolved (kube-proxy drift among them)

function findingChanges(ctx: Ctx, scope: DoctorOptions['scope']): ConnectivityChange[] {
  const fromNodeFiles = (f: Finding) =>
    /^(PROXY_|ROUTE_|CNI_|NO_NODE_DATA|VETH_|BRIDGE_|SYSCTL_|NODE_)/.test(f.code) ||
    f.objects.some((o) => o.startsWith('node/'));
  const run = (m: ClusterModel) =>
    runDoctor(m, { namespace: ctx.namespace, scope }).findings.filter(
      (f) => ctx.sameNodeData || !fromNodeFiles(f),
    );
  const index = (fs: Finding[]) => new Map(fs.map((f) => [findingKey(f), f]));
  const a = index(run(ctx.oldModel));
  const b = index(run(ctx.newModel));
  const out: ConnectivityChange[] = [];
  const causes = (f: Finding) => {
    const nodes = new Set(f.objects.filter((o) => o.startsWith('node/')).map((o) => o.slice(5)));
    return [
      ...causesOf(ctx, f.objects),
      ...ctx.nodeChanges.filter((c) => nodes.has(c.node)).map((c) => c.summary),
    ];
  };
  // Findings only the new side has appeared (an error: broke); only the old side's were resolved.
  const sides = [
    { from: b, other: a, error: 'broke', verb: 'appeared' },
    { from: a, other: b, error: 'fixed', verb: 'resolved' },
  ] as const;
  for (const { from, other, error, verb } of sides)
    for (const [key, f] of from)
      if (!other.has(key))
        out.push({
          class: f.severity === 'error' ? error : 'changed',
          kind: f.code.startsWith('PROXY_') ? 'proxy' : 'finding',
          subject: f.code,
          text: `${verb}: ${f.message}`,
          causes: causes(f),
          finding: f,
          key,
        });
  return out;
}
