// Object-level and node-file-level differences between two models. Objects are compared as
// knet models them (normalised), so a change that knet does not read is not a change.
import type { ClusterModel } from '../../model/cluster.js';
import type { FieldChange, NodeFileChange, ObjectChange } from './types.js';

interface Named {
  namespace?: string;
  name: string;
}

/** Every object of both models by ref (`kind/ns/name`), for comparison. */
export function objectsByRef(model: ClusterModel): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const add = (kind: string, list: readonly Named[]) => {
    for (const o of list) out.set(o.namespace ? `${kind}/${o.namespace}/${o.name}` : `${kind}/${o.name}`, o);
  };
  add('namespace', model.namespaces);
  add('node', model.nodes);
  add('pod', model.pods);
  add('svc', model.services);
  add('endpointslice', model.endpointSlices);
  add('networkpolicy', model.networkPolicies);
  add('ing', model.ingresses);
  add('ingressclass', model.ingressClasses);
  add('ds', model.daemonSets);
  add('configmap', model.configMaps);
  add('gateway', model.gateways);
  add('gatewayclass', model.gatewayClasses);
  // A reference keeps its text as written, for evidence: compared by its parts only.
  const parts = (o: object): Named =>
    JSON.parse(JSON.stringify(o, (k, v) => (k === 'written' ? undefined : v)));
  add('httproute', model.httpRoutes.map(parts));
  add('referencegrant', model.referenceGrants);
  for (const o of model.others) {
    const raw = { ...o.raw } as Record<string, unknown>;
    // What changes on every write, or is the controller's to report.
    const meta = { ...(raw.metadata as Record<string, unknown> | undefined) };
    for (const k of ['resourceVersion', 'managedFields', 'generation', 'uid', 'creationTimestamp'])
      delete meta[k];
    raw.metadata = meta;
    out.set(`${o.kind.toLowerCase()}/${o.namespace ? `${o.namespace}/` : ''}${o.name}`, raw);
  }
  return out;
}

/** Deep equality of two JSON-like values (key order aside), without building their texts. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x).filter((k) => x[k] !== undefined);
  if (keys.length !== Object.keys(y).filter((k) => y[k] !== undefined).length) return false;
  for (const k of keys) if (!sameValue(x[k], y[k])) return false;
  return true;
}

const MAX_FIELDS = 20;

function diffValues(a: unknown, b: unknown, path: string, out: FieldChange[]): void {
  if (out.length >= MAX_FIELDS || a === b) return;
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) diffValues(a[i], b[i], `${path}[${i}]`, out);
    return;
  }
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) diffValues(a[k], b[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path: path || '.', old: a, new: b });
}

/** A value in one short line. */
export function showValue(v: unknown): string {
  if (v === undefined) return '(none)';
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** A multi-line text (a Corefile, a config) by its lines: `+ added line`, `- removed line`. */
function fieldChangeText(f: FieldChange): string {
  if (
    typeof f.old === 'string' &&
    typeof f.new === 'string' &&
    (f.old.includes('\n') || f.new.includes('\n'))
  ) {
    const a = f.old.split('\n').map((l) => l.trim());
    const b = f.new.split('\n').map((l) => l.trim());
    const lines = [
      ...a.filter((l) => l && !b.includes(l)).map((l) => `- ${l}`),
      ...b.filter((l) => l && !a.includes(l)).map((l) => `+ ${l}`),
    ];
    if (lines.length)
      return (
        lines
          .slice(0, 3)
          .map((l) => `\`${l}\``)
          .join(', ') + (lines.length > 3 ? ', …' : '')
      );
  }
  return `${showValue(f.old)} → ${showValue(f.new)}`;
}

export function summarizeObjectChange(c: Omit<ObjectChange, 'summary'>): string {
  if (c.change !== 'changed') return `${c.ref} ${c.change}`;
  const parts = c.fields
    .slice(0, 4)
    .map((f) => `${f.path} ${fieldChangeText(f)}`)
    .join('; ');
  return `${c.ref} changed: ${parts}${c.fields.length > 4 ? `; and ${c.fields.length - 4} more` : ''}`;
}

/** Every added, removed or changed object; `keep` limits the refs compared (namespace scope). */
export function diffObjects(
  oldModel: ClusterModel,
  newModel: ClusterModel,
  keep: (ref: string) => boolean = () => true,
): ObjectChange[] {
  const a = objectsByRef(oldModel);
  const b = objectsByRef(newModel);
  const out: ObjectChange[] = [];
  const push = (c: Omit<ObjectChange, 'summary'>) => out.push({ ...c, summary: summarizeObjectChange(c) });
  for (const [ref, o] of a) {
    if (!keep(ref)) continue;
    const n = b.get(ref);
    if (n === undefined) {
      push({ ref, change: 'removed', fields: [] });
      continue;
    }
    if (sameValue(o, n)) continue;
    const fields: FieldChange[] = [];
    diffValues(o, n, '', fields);
    if (fields.length) push({ ref, change: 'changed', fields });
  }
  for (const ref of b.keys()) if (!a.has(ref) && keep(ref)) push({ ref, change: 'added', fields: [] });
  return out.sort((x, y) => x.ref.localeCompare(y.ref));
}

// ---------------------------------------------------------------------------------------------
// Node files

type Entry = Record<string, unknown>;
const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

function routeLine(r: Entry): string {
  const parts = [str(r.type) && r.type !== 'unicast' ? String(r.type) : '', String(r.dst ?? '?')];
  if (r.gateway) parts.push(`via ${r.gateway}`);
  if (r.dev) parts.push(`dev ${r.dev}`);
  if (r.table && r.table !== 'main') parts.push(`table ${r.table}`);
  return parts.filter(Boolean).join(' ');
}
const neighLine = (r: Entry) => `${r.dst ?? '?'} lladdr ${r.lladdr ?? '-'} dev ${r.dev ?? '?'}`;
const fdbLine = (r: Entry) =>
  [`${r.mac ?? '?'}`, `dev ${r.ifname ?? r.dev ?? '?'}`, r.dst ? `dst ${r.dst}` : '']
    .filter(Boolean)
    .join(' ');

/** The files compared, and how one of their entries is written. */
const JSON_FILES: Record<string, { what: string; line: (e: Entry) => string }> = {
  'ip-route.json': { what: 'routes', line: routeLine },
  'ip-neigh.json': { what: 'neighbour entries', line: neighLine },
  'bridge-fdb.json': { what: 'forwarding entries', line: fdbLine },
};
const RULE_FILES = ['iptables-save.txt', 'ip6tables-save.txt', 'ipvsadm.txt'];
const OTHER_FILES = ['nft.json', 'ip-addr.json', 'ip-link.json', 'ip-rule.json', 'sysctl.txt', 'ss.txt'];

function jsonLines(text: string | undefined, line: (e: Entry) => string): string[] {
  if (text === undefined) return [];
  try {
    const v = JSON.parse(text);
    return Array.isArray(v) ? v.map((e) => line(e as Entry)) : [];
  } catch {
    return [];
  }
}

/** A rule line without its counters: what kube-proxy programmed, not how often it hit. */
const ruleText = (l: string) => l.replace(/^(:\S+ \S+) \[\d+:\d+\]$/, '$1').replace(/^\[\d+:\d+\] /, '');
/** Whether raw line l is rule c once its counters are gone (cheap tests first). */
const isRule = (l: string, c: string) => l === c || ((l.startsWith(c) || l.endsWith(c)) && ruleText(l) === c);

/**
 * Rule lines gained and lost (comments aside). Two dumps a day apart hold mostly the same lines
 * in the same order: the common head and tail are skipped before the sets are built, and a
 * line of one middle that stands in the common part (a repeated rule) is no change.
 */
function ruleDiff(a: string | undefined, b: string | undefined): { gained: string[]; lost: string[] } {
  const x = a === undefined ? [] : a.split('\n');
  const y = b === undefined ? [] : b.split('\n');
  const same = (p: string, q: string) => p === q || ruleText(p) === ruleText(q);
  let head = 0;
  while (head < x.length && head < y.length && same(x[head], y[head])) head++;
  let tail = 0;
  while (
    tail < x.length - head &&
    tail < y.length - head &&
    same(x[x.length - 1 - tail], y[y.length - 1 - tail])
  )
    tail++;
  const middle = (lines: string[]) =>
    lines
      .slice(head, lines.length - tail)
      .map(ruleText)
      .filter((l) => l && !l.startsWith('#'));
  const d = setDiff(middle(x), middle(y));
  const inCommon = (c: string) => {
    for (let i = 0; i < head; i++) if (isRule(x[i], c)) return true;
    for (let i = x.length - tail; i < x.length; i++) if (isRule(x[i], c)) return true;
    return false;
  };
  return { gained: d.gained.filter((c) => !inCommon(c)), lost: d.lost.filter((c) => !inCommon(c)) };
}

function setDiff(a: string[], b: string[]): { gained: string[]; lost: string[] } {
  const sa = new Set(a);
  const sb = new Set(b);
  return { gained: b.filter((x) => !sa.has(x)), lost: a.filter((x) => !sb.has(x)) };
}

/**
 * Node files that differ, node by node: routes, neighbour and FDB (overlay) entries and
 * kube-proxy rules entry by entry; other files as a whole. Identical texts are not parsed.
 * `changed`: the files known to differ, by node (changedNodeFiles); the others are not read.
 */
export function diffNodeFiles(
  oldModel: ClusterModel,
  newModel: ClusterModel,
  changed?: ReadonlyMap<string, readonly string[]>,
): NodeFileChange[] {
  const all = [...new Set([...oldModel.nodeFiles.nodes(), ...newModel.nodeFiles.nodes()])].sort();
  const out: NodeFileChange[] = [];
  for (const node of all) {
    if (changed && !changed.has(node)) continue;
    const files = [...Object.keys(JSON_FILES), ...RULE_FILES, ...OTHER_FILES].filter(
      (f) => !changed || changed.get(node)!.includes(f),
    );
    for (const file of files) {
      const a = oldModel.nodeFiles.read(node, file);
      const b = newModel.nodeFiles.read(node, file);
      if (a === b) continue;
      let d: { gained: string[]; lost: string[] };
      let what: string;
      if (file in JSON_FILES) {
        what = JSON_FILES[file].what;
        d = setDiff(jsonLines(a, JSON_FILES[file].line), jsonLines(b, JSON_FILES[file].line));
      } else if (RULE_FILES.includes(file)) {
        what = 'rules';
        d = ruleDiff(a, b);
      } else {
        what = 'content';
        d = { gained: [], lost: [] };
      }
      if (a === undefined || b === undefined) {
        out.push({
          node,
          file,
          ...d,
          summary: `node ${node}: ${file} ${a === undefined ? 'added' : 'removed'}`,
        });
        continue;
      }
      if (what !== 'content' && d.gained.length === 0 && d.lost.length === 0) continue;
      const parts: string[] = [];
      if (d.lost.length)
        parts.push(
          `lost ${d.lost.length === 1 ? `\`${d.lost[0]}\`` : `${d.lost.length} ${what} (\`${d.lost[0]}\`, …)`}`,
        );
      if (d.gained.length)
        parts.push(
          `gained ${d.gained.length === 1 ? `\`${d.gained[0]}\`` : `${d.gained.length} ${what} (\`${d.gained[0]}\`, …)`}`,
        );
      out.push({
        node,
        file,
        ...d,
        summary: `node ${node} ${file}: ${parts.length ? parts.join('; ') : 'changed'}`,
      });
    }
  }
  return out;
}
