// NetworkPolicy verdicts that changed between the two clusters, for the pod pairs a changed
// policy selects (or whose pods' labels changed). Pods alike to the policies (same namespace,
// labels, declared ports and ipBlock membership) get the same verdict: each class of pairs is
// evaluated once, so a changed policy in a 150,000-pod cluster costs one evaluation per class.
import { type CIDR, ipOrNull, parseCIDR } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import { isTerminal } from '../../model/pods.js';
import type { NetworkPolicy, Pod, Protocol } from '../../model/types.js';
import { evaluatePolicy, type PolicyVerdict } from '../policy/evaluate.js';
import type { ChangeClass, ConnectivityChange, ObjectChange } from './types.js';

export interface PolicyDiffOptions {
  namespace?: string;
  /** Pod pairs evaluated (on both sides) at most; a pair alike to one evaluated costs nothing. */
  maxPairs: number;
  /** The object changes (one line each) that explain a change touching these refs. */
  causes: (refs: Iterable<string>) => string[];
  notes: string[];
}

const podKey = (p: Pod) => `${p.namespace}/${p.name}`;

function declaredPorts(pod: Pod): { port: number; protocol: Protocol }[] {
  const seen = new Map<string, { port: number; protocol: Protocol }>();
  for (const c of pod.containers)
    for (const p of c.ports)
      seen.set(`${p.protocol}/${p.containerPort}`, { port: p.containerPort, protocol: p.protocol });
  return [...seen.values()];
}

/** The half that decided, and the rule or the isolating policies, in one line. */
function decider(v: PolicyVerdict): string {
  if (v.allowed) {
    const rules = [...v.egress.allowedBy, ...v.ingress.allowedBy].map(
      (r) => `${r.policy} ${r.direction} rule ${r.rule + 1}`,
    );
    return rules.length ? `allowed by ${rules.join(' and ')}` : 'allowed (not isolated)';
  }
  const half = v.egress.allowed === false ? v.egress : v.ingress;
  const dir = half === v.egress ? 'egress' : 'ingress';
  return `${v.verdict}: ${dir} isolated by ${half.policies.join(', ') || '?'}, no rule admits it`;
}

/**
 * What of a pod a policy verdict depends on, on both sides: namespace, labels, address
 * families, which ipBlocks hold its addresses, its container ports (named ports), and for a
 * hostNetwork pod its node. Pods with the same class get the same verdicts.
 */
function classifier(a: ClusterModel, b: ClusterModel, changed: ReadonlySet<string>): (pod: Pod) => string {
  const blocks = new Set<string>();
  for (const m of [a, b])
    for (const p of m.networkPolicies)
      for (const r of [...p.ingress, ...p.egress])
        for (const peer of r.peers)
          if (peer.ipBlock) for (const c of [peer.ipBlock.cidr, ...peer.ipBlock.except]) blocks.add(c);
  const ranges: CIDR[] = [];
  for (const c of blocks) {
    try {
      ranges.push(parseCIDR(c));
    } catch {
      // Not a CIDR: the policy's own validation says so; it holds no pod.
    }
  }
  const member = (ip: string) => {
    const addr = ipOrNull(ip);
    if (!addr) return '?';
    let bits = addr.kind() === 'ipv6' ? '6:' : '4:';
    for (const r of ranges) bits += addr.kind() === r[0].kind() && addr.match(r) ? '1' : '0';
    return bits;
  };
  const cache = new Map<string, string>();
  const side = (p: Pod | undefined) =>
    p
      ? [
          p.hostNetwork ? `host:${p.nodeName ?? ''}` : '',
          Object.entries(p.labels)
            .sort()
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
          p.ips.map(member).join(','),
          JSON.stringify(p.containers.map((c) => c.ports)),
        ].join('|')
      : '-';
  return (pod) => {
    const k = podKey(pod);
    let key = cache.get(k);
    if (key === undefined) {
      // A pod whose object did not change is the same on both sides.
      const pa = side(a.pod(pod.namespace, pod.name));
      const pb = changed.has(`pod/${k}`) ? side(b.pod(pod.namespace, pod.name)) : pa;
      key = `${pod.namespace}|${pa}|${pb}`;
      cache.set(k, key);
    }
    return key;
  };
}

export function policyChanges(
  a: ClusterModel,
  b: ClusterModel,
  objectChanges: readonly ObjectChange[],
  options: PolicyDiffOptions,
): ConnectivityChange[] {
  // The pods whose verdicts may have changed, and in which role: the pods a changed policy
  // selects (as destinations for its ingress, as sources for its egress), and both ways the
  // pods whose labels changed in a namespace with policies.
  const roles = new Map<string, { src: boolean; dst: boolean }>();
  const role = (key: string) => {
    const r = roles.get(key) ?? { src: false, dst: false };
    roles.set(key, r);
    return r;
  };
  const changedPolicies = objectChanges.filter((c) => c.ref.startsWith('networkpolicy/'));
  for (const c of changedPolicies) {
    const [, ns, name] = c.ref.split('/');
    for (const m of [a, b]) {
      const pol = m.policiesInNamespace(ns).find((p: NetworkPolicy) => p.name === name);
      if (!pol) continue;
      for (const pod of m.podsMatchingSelector(ns, pol.podSelector)) {
        const r = role(podKey(pod));
        if (pol.policyTypes.includes('Ingress')) r.dst = true;
        if (pol.policyTypes.includes('Egress')) r.src = true;
      }
    }
  }
  for (const c of objectChanges) {
    if (
      !c.ref.startsWith('pod/') ||
      c.change !== 'changed' ||
      !c.fields.some((f) => f.path.startsWith('labels'))
    )
      continue;
    const ns = c.ref.split('/')[1];
    if (a.policiesInNamespace(ns).length || b.policiesInNamespace(ns).length) {
      const r = role(c.ref.slice(4));
      r.src = r.dst = true;
    }
  }
  if (roles.size === 0) return [];
  const usable = (p: Pod | undefined): p is Pod => Boolean(p && !isTerminal(p) && p.ips.length > 0);
  const peers = b.pods.filter((p) => usable(p) && usable(a.pod(p.namespace, p.name)));
  const classOf = classifier(
    a,
    b,
    new Set(objectChanges.filter((c) => c.ref.startsWith('pod/')).map((c) => c.ref)),
  );
  const verdicts = new Map<string, { va: PolicyVerdict; vb: PolicyVerdict } | null>();
  const out: ConnectivityChange[] = [];
  const done = new Set<string>();
  let evaluated = 0;
  const outside = (src: Pod, dst: Pod) =>
    options.namespace !== undefined &&
    src.namespace !== options.namespace &&
    dst.namespace !== options.namespace;
  /** Both sides' verdicts when they differ, null when they agree, undefined past maxPairs. */
  const verdict = (src: Pod, dst: Pod, port: number, protocol: Protocol) => {
    // A pod's traffic to itself, and a hostNetwork pod's to its own node, are always
    // allowed: then the pods or their nodes count too.
    const host =
      podKey(src) === podKey(dst)
        ? 'self'
        : src.hostNetwork || dst.hostNetwork
          ? `${src.nodeName}>${dst.nodeName}`
          : '';
    const alike = `${classOf(src)}>${classOf(dst)}|${host}|${port}/${protocol}`;
    let v = verdicts.get(alike);
    if (v === undefined) {
      if (evaluated >= options.maxPairs) return undefined;
      evaluated++;
      const side = (m: ClusterModel) =>
        evaluatePolicy(m, {
          source: { kind: 'pod', pod: m.pod(src.namespace, src.name)! },
          destination: { kind: 'pod', pod: m.pod(dst.namespace, dst.name)! },
          port,
          protocol,
        });
      const va = side(a);
      const vb = side(b);
      v = va.allowed === vb.allowed ? null : { va, vb };
      verdicts.set(alike, v);
    }
    return v;
  };
  /** Whether any port of dst has a verdict change from src (a class's first member). */
  const changesAny = (src: Pod, dst: Pod) =>
    !outside(src, dst) && declaredPorts(dst).some((p) => verdict(src, dst, p.port, p.protocol));
  const compare = (src: Pod, dst: Pod) => {
    if (outside(src, dst)) return;
    for (const { port, protocol } of declaredPorts(dst)) {
      const key = `${podKey(src)}>${podKey(dst)}:${port}/${protocol}`;
      if (done.has(key)) continue;
      done.add(key);
      const v = verdict(src, dst, port, protocol);
      if (v === undefined) return;
      if (!v) continue;
      const { va, vb } = v;
      const cls: ChangeClass =
        va.allowed === true && vb.allowed === false
          ? 'broke'
          : va.allowed === false && vb.allowed === true
            ? 'fixed'
            : 'changed';
      const policies = [va, vb]
        .flatMap((x) => [...x.egress.policies, ...x.ingress.policies])
        .map((p) => `networkpolicy/${p}`);
      out.push({
        class: cls,
        kind: 'policy',
        subject: `pod/${podKey(src)} -> pod/${podKey(dst)}:${port}/${protocol}`,
        text:
          cls === 'broke'
            ? 'newly denied'
            : cls === 'fixed'
              ? 'newly allowed'
              : `${va.verdict} → ${vb.verdict}`,
        old: decider(va),
        new: decider(vb),
        causes: options.causes([
          ...policies,
          `pod/${podKey(src)}`,
          `pod/${podKey(dst)}`,
          ...changedPolicies.map((c) => c.ref).filter((r) => policies.length === 0 || policies.includes(r)),
        ]),
      });
    }
  };
  // Peers by class: a class whose first member's verdicts did not change is passed over whole.
  const byClass = new Map<string, Pod[]>();
  for (const p of peers) {
    const k = classOf(p);
    const list = byClass.get(k);
    if (list) list.push(p);
    else byClass.set(k, [p]);
  }
  for (const s of [...roles.keys()].sort()) {
    const [ns, name] = s.split('/');
    const pod = b.pod(ns, name);
    if (!usable(pod) || !usable(a.pod(ns, name))) continue;
    const r = roles.get(s)!;
    for (const members of byClass.values()) {
      const others = members.filter((p) => podKey(p) !== s);
      if (others.length < members.length) compare(pod, pod);
      if (others.length === 0) continue;
      // With a hostNetwork end the nodes count: pair by pair (memoised by node).
      const exact = pod.hostNetwork || others[0].hostNetwork;
      if (r.dst && (exact || changesAny(others[0], pod))) for (const peer of others) compare(peer, pod);
      if (r.src && (exact || changesAny(pod, others[0]))) for (const peer of others) compare(pod, peer);
    }
  }
  if (evaluated >= options.maxPairs)
    options.notes.push(
      `policy verdicts: compared the first ${options.maxPairs} pod pairs only; name a namespace (-n) or a pair (SRC DST) for the rest`,
    );
  return grouped(out);
}

/** One line per verdict change, port and destination namespace: the pod pairs within it, sorted. */
function grouped(out: ConnectivityChange[]): ConnectivityChange[] {
  out.sort((x, y) => (x.subject < y.subject ? -1 : x.subject > y.subject ? 1 : 0));
  const groups = new Map<
    string,
    { change: ConnectivityChange; srcs: Set<string>; dsts: Set<string>; port: string }
  >();
  for (const ch of out) {
    const [from, rest] = ch.subject.split(' -> ');
    const [to, port] = [rest.slice(0, rest.lastIndexOf(':')), rest.slice(rest.lastIndexOf(':') + 1)];
    const k = `${ch.class}|${ch.old}|${ch.new}|${port}|${to.split('/')[1]}`;
    const g = groups.get(k) ?? {
      change: { ...ch, causes: [], pairs: [] },
      srcs: new Set(),
      dsts: new Set(),
      port,
    };
    g.srcs.add(from);
    g.dsts.add(to);
    g.change.pairs!.push(ch.subject);
    for (const c of ch.causes) if (!g.change.causes.includes(c)) g.change.causes.push(c);
    groups.set(k, g);
  }
  const few = (xs: Set<string>) =>
    xs.size === 1
      ? [...xs][0]
      : `${xs.size} pods (${[...xs]
          .slice(0, 2)
          .map((x) => x.replace(/^pod\//, ''))
          .join(', ')}${xs.size > 2 ? ', …' : ''})`;
  return [...groups.values()].map((g) => ({
    ...g.change,
    subject: `${few(g.srcs)} -> ${few(g.dsts)}:${g.port}`,
    text: `${g.change.text} (${g.change.pairs!.length} pod pair${g.change.pairs!.length === 1 ? '' : 's'})`,
  }));
}
