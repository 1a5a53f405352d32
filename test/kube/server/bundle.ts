// Loads a bundle directory for the test server: its objects (cluster.json, cluster/*) and its
// node files. Independent of knet's own bundle reader, which the tests check against it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Raw } from '../../../src/model/normalize.js';

function flatten(doc: Raw, out: Raw[]): void {
  if (!doc || typeof doc !== 'object') return;
  if (Array.isArray(doc)) {
    for (const d of doc) flatten(d, out);
    return;
  }
  if (Array.isArray(doc.items)) {
    const itemKind =
      typeof doc.kind === 'string' && doc.kind !== 'List' ? doc.kind.replace(/List$/, '') : undefined;
    for (const item of doc.items)
      flatten(
        item.kind || !itemKind
          ? item
          : { ...item, kind: itemKind, apiVersion: item.apiVersion ?? doc.apiVersion },
        out,
      );
    return;
  }
  if (doc.kind) out.push(doc);
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(path.join(dir, r)).isDirectory()) out.push(...walk(dir, r));
    else out.push(r);
  }
  return out;
}

export interface LoadedBundle {
  objects: Raw[];
  nodeFiles: Record<string, Record<string, string>>;
}

export function loadBundleDir(dir: string): LoadedBundle {
  const objects: Raw[] = [];
  const files = ['cluster.json', ...(existsSync(path.join(dir, 'cluster')) ? walk(dir, 'cluster') : [])];
  for (const f of files) {
    const p = path.join(dir, f);
    if (!existsSync(p)) continue;
    const text = readFileSync(p, 'utf8');
    if (f.endsWith('.json')) flatten(JSON.parse(text), objects);
    else if (/\.ya?ml$/.test(f))
      for (const d of parseAllDocuments(text)) flatten((d as { toJS(): Raw }).toJS(), objects);
  }
  const nodeFiles: Record<string, Record<string, string>> = {};
  if (existsSync(path.join(dir, 'nodes'))) {
    for (const node of readdirSync(path.join(dir, 'nodes')).sort()) {
      const base = path.join(dir, 'nodes', node);
      if (!statSync(base).isDirectory()) continue;
      nodeFiles[node] = {};
      for (const rel of walk(base)) nodeFiles[node][rel] = readFileSync(path.join(base, rel), 'utf8');
    }
  }
  return { objects, nodeFiles };
}
