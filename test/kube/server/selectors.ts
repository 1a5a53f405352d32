// labelSelector and fieldSelector as the API server parses them (a subset that covers the
// forms kubectl sends: =, ==, !=, in, notin, exists, !exists; field selectors with = and !=).
import type { Raw } from '../../../src/model/normalize.js';

type LabelReq = (labels: Record<string, string>) => boolean;

export class SelectorError extends Error {}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

export function parseLabelSelector(s: string): LabelReq {
  const reqs: LabelReq[] = [];
  for (const part of splitTopLevel(s)) {
    let m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) {
      const [, key, op, list] = m;
      const values = new Set(list.split(',').map((v) => v.trim()));
      reqs.push(
        op === 'in' ? (l) => key in l && values.has(l[key]) : (l) => !(key in l) || !values.has(l[key]),
      );
      continue;
    }
    m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
    if (m) {
      const [, key, op, value] = m;
      reqs.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
      continue;
    }
    m = /^(!?)([\w./-]+)$/.exec(part);
    if (m) {
      const [, not, key] = m;
      reqs.push(not ? (l) => !(key in l) : (l) => key in l);
      continue;
    }
    throw new SelectorError(`unable to parse requirement: ${part}`);
  }
  return (labels) => reqs.every((r) => r(labels));
}

const FIELDS: Record<string, (o: Raw) => string> = {
  'metadata.name': (o) => o.metadata?.name ?? '',
  'metadata.namespace': (o) => o.metadata?.namespace ?? '',
  'spec.nodeName': (o) => o.spec?.nodeName ?? '',
  'status.phase': (o) => o.status?.phase ?? '',
  'status.podIP': (o) => o.status?.podIP ?? '',
};

/** Fields the API serves for pods only. */
const POD_FIELDS = new Set(['spec.nodeName', 'status.phase', 'status.podIP']);

export function parseFieldSelector(s: string, kind: string): (o: Raw) => boolean {
  const reqs: ((o: Raw) => boolean)[] = [];
  for (const part of splitTopLevel(s)) {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`invalid field selector: ${part}`);
    const [, field, op, value] = m;
    const get = FIELDS[field];
    if (!get || (POD_FIELDS.has(field) && kind !== 'Pod')) {
      throw new SelectorError(`field label not supported: ${field}`);
    }
    reqs.push(op === '!=' ? (o) => get(o) !== value : (o) => get(o) === value);
  }
  return (o) => reqs.every((r) => r(o));
}
