// Findings that explain: every finding of a document gets a stable id, a consequence names the
// findings that cause it (causedBy), and every root error carries a fix. The analyses stay
// pure and report what they see; this is the one place that relates their findings, after
// they are collected (doctor, trace and the other commands call explainFindings).
import { createHash } from 'node:crypto';
import type { ClusterModel } from '../model/cluster.js';
import { fixFor } from './fixes.js';
import type { Finding } from './types.js';

/** svc/NS/NAME of a finding, if it names one. */
export const svcOf = (f: Finding) => f.objects.find((o) => o.startsWith('svc/'));
/** The node a finding is about (node/NAME), if any. */
export const nodeOf = (f: Finding) => f.objects.find((o) => o.startsWith('node/'))?.slice(5);
const podsOf = (f: Finding) => f.objects.filter((o) => o.startsWith('pod/'));

const hash = (text: string) => createHash('sha1').update(text).digest('hex').slice(0, 10);

/**
 * Ids from content, never from order: CODE-sha1(code|sorted objects) cut to 10 hex digits.
 * Findings that share code and objects (two ports of one Service on one node) are told apart
 * by their message, then their evidence; identical ones by a suffix in content order.
 */
export function assignIds(findings: Finding[]): void {
  const base = (f: Finding) => `${f.code}|${[...f.objects].sort().join(',')}`;
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const k = base(f);
    const list = groups.get(k);
    if (list) list.push(f);
    else groups.set(k, [f]);
  }
  for (const [k, list] of groups) {
    if (list.length === 1) {
      list[0].id = `${list[0].code}-${hash(k)}`;
      continue;
    }
    // Told apart by the message; equal messages (rare) by the evidence, in content order.
    const keyed = list.map((f) => ({ f, key: `${k}|${f.message}`, tie: (f.evidence ?? []).join('\n') }));
    keyed.sort((a, b) => cmp(a.key, b.key) || cmp(a.tie, b.tie));
    const seen = new Map<string, number>();
    for (const { f, key } of keyed) {
      const n = seen.get(key) ?? 0;
      seen.set(key, n + 1);
      f.id = `${f.code}-${hash(n ? `${key}|${n}` : key)}`;
    }
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The Service a consequence is about: its svc/ object, or one its message names. */
function aboutService(f: Finding, svc: string): boolean {
  const own = svcOf(f);
  if (own) return own === svc;
  const nsName = svc.slice(4);
  const re = new RegExp(`(^|[^\\w.-])${nsName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`);
  return re.test(f.message);
}

/** The codes that explain why a Service has no usable endpoint. */
const SERVICE_CAUSES = [
  'SVC_NO_SELECTOR_MATCH',
  'SVC_LABEL_MISMATCH',
  'SVC_TARGET_PORT_MISMATCH',
  'SVC_PROTOCOL_MISMATCH',
  'SVC_NO_READY_ENDPOINTS',
  'SVC_ENDPOINTS_MISSING',
];
const POD_STATE = ['POD_NOT_READY', 'POD_NOT_RUNNING', 'POD_NO_IP'];

/**
 * One rule per consequence code: which findings of the same document can cause it. A rule
 * returns candidates; the link goes to the nearest ones (a candidate that causes another
 * candidate is left to that one: PROXY_REJECT ← SVC_NO_SELECTOR_MATCH ← SVC_LABEL_MISMATCH).
 */
type Rule = (f: Finding, all: Index, model?: ClusterModel) => Finding[];

/** The document's findings by code, by pod and by node (doctor may hold 150,000). */
class Index {
  private readonly codes = new Map<string, Finding[]>();
  private readonly pods = new Map<string, Finding[]>();
  constructor(findings: readonly Finding[]) {
    for (const f of findings) {
      push(this.codes, f.code, f);
      for (const p of podsOf(f)) push(this.pods, p, f);
    }
  }
  filter(codes: readonly string[], keep: (f: Finding) => boolean = () => true): Finding[] {
    return codes.flatMap((c) => (this.codes.get(c) ?? []).filter(keep));
  }
  ofPod(pod: string): readonly Finding[] {
    return this.pods.get(pod) ?? [];
  }
}
function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

const podNode = (model: ClusterModel | undefined, pod: string) => {
  const [, ns, name] = pod.split('/');
  return model?.pod(ns, name)?.nodeName;
};

const byPodState: Rule = (f, all, model) => {
  const pods = podsOf(f);
  const nodes = new Set(pods.map((p) => podNode(model, p)).filter(Boolean));
  return [
    ...pods.flatMap((p) => all.ofPod(p).filter((c) => POD_STATE.includes(c.code))),
    ...(nodes.size ? all.filter(['NODE_NOT_READY'], (c) => nodes.has(nodeOf(c))) : []),
  ];
};

const serviceCauses: Rule = (f, all) =>
  all.filter([...SERVICE_CAUSES, 'SVC_NO_LOCAL_ENDPOINTS'], (c) => {
    const svc = svcOf(c);
    if (!svc || !aboutService(f, svc)) return false;
    // Traffic policy Local: the node's own lack of endpoints.
    return c.code !== 'SVC_NO_LOCAL_ENDPOINTS' || !nodeOf(f) || nodeOf(c) === nodeOf(f);
  });

/** A pod IP named in a consequence's message, mapped to the state findings of its pod. */
const stalePodState: Rule = (f, all, model) => {
  if (!model) return [];
  const ips = f.message.match(/\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:]+:[0-9a-f]+/gi) ?? [];
  const pods = ips.flatMap((ip) => model.podsByIP(ip).map((p) => `pod/${p.namespace}/${p.name}`));
  return pods.flatMap((p) => all.ofPod(p).filter((c) => POD_STATE.includes(c.code)));
};

const sameService =
  (...codes: string[]): Rule =>
  (f, all) =>
    all.filter(codes, (c) => svcOf(c) !== undefined && aboutService(f, svcOf(c)!));

const sameNode =
  (...codes: string[]): Rule =>
  (f, all, model) => {
    const node =
      nodeOf(f) ??
      podsOf(f)
        .map((p) => podNode(model, p))
        .find(Boolean);
    return node ? all.filter(codes, (c) => nodeOf(c) === node) : [];
  };

/** Consequence code → where its causes are. docs/findings.md lists them ("caused by"). */
export const CAUSE_RULES: Record<string, { causes: string[]; rule: Rule }> = {
  SVC_NO_SELECTOR_MATCH: { causes: ['SVC_LABEL_MISMATCH'], rule: sameService('SVC_LABEL_MISMATCH') },
  SVC_NO_READY_ENDPOINTS: { causes: [...POD_STATE, 'NODE_NOT_READY'], rule: byPodState },
  SVC_SOME_ENDPOINTS_NOT_READY: { causes: [...POD_STATE, 'NODE_NOT_READY'], rule: byPodState },
  POD_NOT_READY: { causes: ['NODE_NOT_READY'], rule: sameNode('NODE_NOT_READY') },
  POD_NOT_RUNNING: {
    causes: ['NODE_NOT_READY', 'CNI_CONFIG_MISSING', 'CNI_CONFIG_INVALID'],
    rule: sameNode('NODE_NOT_READY', 'CNI_CONFIG_MISSING', 'CNI_CONFIG_INVALID'),
  },
  POD_NO_IP: {
    causes: ['NODE_NOT_READY', 'CNI_CONFIG_MISSING', 'CNI_CONFIG_INVALID'],
    rule: sameNode('NODE_NOT_READY', 'CNI_CONFIG_MISSING', 'CNI_CONFIG_INVALID'),
  },
  POD_IP_OUTSIDE_NODE_CIDR: {
    causes: ['CNI_CONFIG_CIDR_MISMATCH'],
    rule: sameNode('CNI_CONFIG_CIDR_MISMATCH'),
  },
  PROXY_REJECT: { causes: [...SERVICE_CAUSES, 'SVC_NO_LOCAL_ENDPOINTS'], rule: serviceCauses },
  PROXY_ENDPOINT_STALE: {
    causes: ['SVC_ENDPOINTS_STALE', ...POD_STATE],
    rule: (f, all, model) => [
      ...sameService('SVC_ENDPOINTS_STALE')(f, all, model),
      ...stalePodState(f, all, model),
    ],
  },
  PROXY_ENDPOINT_MISSING: {
    causes: ['SVC_ENDPOINTS_MISSING'],
    rule: sameService('SVC_ENDPOINTS_MISSING'),
  },
  DNS_NO_RESPONSE: {
    causes: ['SVC_NO_READY_ENDPOINTS', 'PROXY_REJECT', 'SVC_NO_SELECTOR_MATCH', 'SVC_LABEL_MISMATCH'],
    rule: (_f, all) =>
      all.filter(
        ['SVC_NO_READY_ENDPOINTS', 'PROXY_REJECT', 'SVC_NO_SELECTOR_MATCH', 'SVC_LABEL_MISMATCH'],
        (c) => svcOf(c) === 'svc/kube-system/kube-dns',
      ),
  },
};

/** Fills causedBy (ids) on the consequences; needs assignIds first. */
export function linkCauses(findings: Finding[], model?: ClusterModel): void {
  const direct = new Map<Finding, Finding[]>();
  const index = new Index(findings);
  for (const f of findings) {
    const r = CAUSE_RULES[f.code];
    if (!r) continue;
    const found = r.rule(f, index, model).filter((c) => c !== f);
    if (found.length) direct.set(f, [...new Set(found)]);
  }
  // Whether a causes b, transitively (the graph is small; cycles are cut).
  const causes = (a: Finding, b: Finding, seen = new Set<Finding>()): boolean => {
    if (seen.has(b)) return false;
    seen.add(b);
    return (direct.get(b) ?? []).some((c) => c === a || causes(a, c, seen));
  };
  for (const [f, found] of direct) {
    // Break a cycle by keeping links in one direction only: a cause that f itself causes drops.
    const usable = found.filter((c) => !causes(f, c));
    const nearest = usable.filter((c) => !usable.some((o) => o !== c && causes(c, o)));
    const ids = nearest.map((c) => c.id).filter((id): id is string => Boolean(id));
    if (ids.length) f.causedBy = [...new Set(ids)].sort();
    else delete f.causedBy;
  }
}

/** The root findings (no causedBy) behind a finding, by id. */
export function rootsOf(f: Finding, byId: ReadonlyMap<string, Finding>, seen = new Set<string>()): Finding[] {
  if (!f.causedBy?.length) return [f];
  const out: Finding[] = [];
  for (const id of f.causedBy) {
    if (seen.has(id)) continue;
    seen.add(id);
    const c = byId.get(id);
    if (c) out.push(...rootsOf(c, byId, seen));
  }
  return out.length ? [...new Set(out)] : [f];
}

/** Ids, links and fixes for one document's findings (in place; returns the same array). */
export function explainFindings(findings: Finding[], model?: ClusterModel): Finding[] {
  assignIds(findings);
  linkCauses(findings, model);
  for (const f of findings) {
    if (f.severity !== 'error' || f.causedBy?.length) continue;
    const fix = fixFor(f, model);
    if (fix) f.fix = fix;
  }
  return findings;
}
