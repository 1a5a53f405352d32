// knet-index.json: where each cluster object of a bundle is (file, byte range), with its kind
// and namespace, and for pods their node and IPs. With it a command reads only the objects its
// question needs (a trace: its ends' namespaces, the nodes; not 150,000 pods), as a live trace
// asks the API only for its path. `knet snapshot` writes it (BundleWriter); writeBundleIndex
// builds it for a bundle in the same layout (bench/generate.js). A bundle without it, or whose
// files no longer have the sizes it recorded, is read whole, as before (docs/snapshot.md).
import { closeSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeIP } from '../../core/ip.js';
import type { Raw } from '../../model/normalize.js';

export const INDEX_FILE = 'knet-index.json';
const VERSION = 3;

export interface BundleIndex {
  version: number;
  /**
   * The object files, in reading order: the size each had when indexed, where its first
   * object starts, and the kind of a typed List's items (PodList → Pod).
   */
  files: { rel: string; bytes: number; first: number; itemKind?: string }[];
  /** String tables the columns point into. */
  kinds: string[];
  namespaces: string[];
  nodes: string[];
  /**
   * Runs of consecutive objects of one file, kind and namespace, in bundle order: 4 numbers
   * each (file, kind, namespace, count). An object's position in the bundle is its ordinal.
   */
  runs: number[];
  /** Per object, its length in bytes; the next starts 2 bytes after it ends (",\n"). */
  lengths: number[];
  /** Per Node (in order of the nodes): its name, its addresses (canonical) and pod CIDRs. */
  nodeNames: string[];
  nodeIPs: string[];
  nodeCIDRs: string[];
  /** Per Pod (in order of the pods): its spec.nodeName (index into nodes, -1: none). */
  podNode: number[];
  /** Per Pod: its status IPs, canonical (normalizeIP) where they parse, joined by spaces. */
  podIPs: string[];
}

/**
 * What an object is filed under. A NetworkPolicy of another API group (Calico's…) is not
 * networking.k8s.io's: it is filed apart, as the model keeps it apart.
 */
export function indexKind(raw: Raw): string {
  const kind = String(raw.kind);
  if (kind === 'NetworkPolicy' && raw.apiVersion && !String(raw.apiVersion).startsWith('networking.k8s.io/'))
    return `NetworkPolicy@${String(raw.apiVersion)}`;
  return kind;
}

const canonical = (ip: string): string => {
  try {
    return normalizeIP(ip);
  } catch {
    return ip;
  }
};

/** Collects the entries of an index while objects are written or scanned. */
export class IndexBuilder {
  private readonly files: BundleIndex['files'] = [];
  private readonly tables = {
    kinds: new Map<string, number>(),
    namespaces: new Map<string, number>(),
    nodes: new Map<string, number>(),
  };
  private readonly runs: number[] = [];
  private readonly lengths: number[] = [];
  private readonly nodeNames: string[] = [];
  private readonly nodeIPs: string[] = [];
  private readonly nodeCIDRs: string[] = [];
  private readonly podNode: number[] = [];
  private readonly podIPs: string[] = [];
  private next = -1;
  /** An object a bundle reader would not take as one (no kind, a List): no index then. */
  private unindexable = false;

  private id(table: keyof IndexBuilder['tables'], value: string): number {
    const map = this.tables[table];
    let n = map.get(value);
    if (n === undefined) {
      n = map.size;
      map.set(value, n);
    }
    return n;
  }

  /** A new file whose first object starts at byte `first`. */
  file(rel: string, first: number, itemKind?: string): number {
    this.files.push({ rel, bytes: 0, first, ...(itemKind ? { itemKind } : {}) });
    this.next = first;
    return this.files.length - 1;
  }

  fileDone(file: number, bytes: number): void {
    this.files[file].bytes = bytes;
  }

  /** The next object of the current file: it starts where the one before ended + ",\n". */
  add(file: number, start: number, length: number, raw: Raw): void {
    if (start !== this.next) throw new Error(`index: object at ${start}, expected at ${this.next}`);
    if (typeof raw?.kind !== 'string' || (Array.isArray(raw.items) && raw.kind.endsWith('List')))
      this.unindexable = true;
    this.next = start + length + 2;
    const ns = typeof raw.metadata?.namespace === 'string' ? raw.metadata.namespace : '';
    const kind = this.id('kinds', indexKind(raw));
    const namespace = this.id('namespaces', ns);
    const r = this.runs.length - 4;
    if (r >= 0 && this.runs[r] === file && this.runs[r + 1] === kind && this.runs[r + 2] === namespace)
      this.runs[r + 3]++;
    else this.runs.push(file, kind, namespace, 1);
    this.lengths.push(length);
    if (raw.kind === 'Node') {
      this.nodeNames.push(String(raw.metadata?.name));
      const addresses = Array.isArray(raw.status?.addresses) ? raw.status.addresses : [];
      this.nodeIPs.push([...new Set(addresses.map((a: Raw) => canonical(String(a?.address))))].join(' '));
      const cidrs = Array.isArray(raw.spec?.podCIDRs) ? raw.spec.podCIDRs.map(String) : [];
      if (typeof raw.spec?.podCIDR === 'string') cidrs.push(raw.spec.podCIDR);
      this.nodeCIDRs.push(cidrs.join(' '));
    }
    if (raw.kind !== 'Pod') return;
    const node = raw.spec?.nodeName;
    this.podNode.push(typeof node === 'string' ? this.id('nodes', node) : -1);
    const status = raw.status ?? {};
    const ips: string[] = Array.isArray(status.podIPs) ? status.podIPs.map((p: Raw) => String(p?.ip)) : [];
    if (typeof status.podIP === 'string') ips.push(status.podIP);
    this.podIPs.push([...new Set(ips.map(canonical))].join(' '));
  }

  /** The index, undefined when an object was not one a reader takes as it is. */
  finish(): BundleIndex | undefined {
    if (this.unindexable) return undefined;
    return {
      version: VERSION,
      files: this.files,
      kinds: [...this.tables.kinds.keys()],
      namespaces: [...this.tables.namespaces.keys()],
      nodes: [...this.tables.nodes.keys()],
      runs: this.runs,
      lengths: this.lengths,
      nodeNames: this.nodeNames,
      nodeIPs: this.nodeIPs,
      nodeCIDRs: this.nodeCIDRs,
      podNode: this.podNode,
      podIPs: this.podIPs,
    };
  }
}

const NL = 10;
const LIST_HEADER_END = '"items":[';

/**
 * Indexes one object file in the one-object-per-line layout; false when it is in any other
 * layout (pretty-printed kubectl output, YAML): such a bundle is read whole.
 */
function scanFile(b: IndexBuilder, rel: string, buf: Buffer): boolean {
  const nl = buf.indexOf(NL);
  if (nl < 0 || buf[0] !== 0x7b) return false;
  const first = buf.toString('utf8', 0, nl);
  if (!first.endsWith(LIST_HEADER_END)) return false;
  let header: Raw;
  try {
    header = JSON.parse(`${first}]}`);
  } catch {
    return false;
  }
  if (typeof header.kind === 'string' && !header.kind.endsWith('List')) return false;
  const itemKind =
    typeof header.kind === 'string' && header.kind !== 'List' ? header.kind.slice(0, -4) : undefined;
  const end = buf.lastIndexOf('\n]}');
  if (end < nl || buf.toString('utf8', end + 3).trim() !== '') return false;
  const file = b.file(rel, nl + 1, itemKind);
  let start = nl + 1;
  while (start < end) {
    let stop = buf.indexOf(NL, start);
    if (stop < 0 || stop > end) stop = end;
    const last = stop === end;
    let len = stop - start;
    if (!last) {
      if (buf[stop - 1] !== 0x2c) return false;
      len--;
    }
    let item: Raw;
    try {
      item = JSON.parse(buf.toString('utf8', start, start + len));
    } catch {
      return false;
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return false;
    if (!item.kind && itemKind) item.kind = itemKind;
    // A line that is a List, or no object at all: not one object per line.
    if (typeof item.kind !== 'string' || (Array.isArray(item.items) && item.kind.endsWith('List')))
      return false;
    b.add(file, start, len, item);
    start = stop + 1;
  }
  b.fileDone(file, buf.length);
  return true;
}

/** The index of a bundle directory's object files (in readBundle's order), or undefined. */
export function buildBundleIndex(dir: string, objectFiles: readonly string[]): BundleIndex | undefined {
  const b = new IndexBuilder();
  for (const rel of objectFiles) {
    if (!/\.json$/i.test(rel)) return undefined;
    if (!scanFile(b, rel, readFileSync(path.join(dir, rel)))) return undefined;
  }
  return b.finish();
}

/** Writes knet-index.json into a bundle directory; false when its files cannot be indexed. */
export function writeBundleIndex(dir: string, objectFiles: readonly string[]): boolean {
  const index = buildBundleIndex(dir, objectFiles);
  if (!index) return false;
  writeFileSync(path.join(dir, INDEX_FILE), JSON.stringify(index));
  return true;
}

/**
 * The bundle's index when it describes these files as they are (same names, same sizes),
 * else undefined: the bundle is then read whole.
 */
export function readBundleIndex(dir: string, objectFiles: readonly string[]): BundleIndex | undefined {
  let index: BundleIndex;
  try {
    index = JSON.parse(readFileSync(path.join(dir, INDEX_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  if (index?.version !== VERSION || !Array.isArray(index.files) || index.files.length !== objectFiles.length)
    return undefined;
  for (let i = 0; i < objectFiles.length; i++) {
    const f = index.files[i];
    if (f.rel !== objectFiles[i]) return undefined;
    try {
      if (statSync(path.join(dir, f.rel)).size !== f.bytes) return undefined;
    } catch {
      return undefined;
    }
  }
  return index;
}

/** Reads byte ranges of a file: one read per run of nearby ranges. */
export function readRanges(
  file: string,
  ranges: readonly { start: number; length: number }[],
  each: (text: string, i: number) => void,
): void {
  const fd = openSync(file, 'r');
  try {
    let i = 0;
    while (i < ranges.length) {
      // Ranges closer than this are read in one go (the bytes between are cheaper than a read).
      let j = i + 1;
      while (j < ranges.length && ranges[j].start - (ranges[j - 1].start + ranges[j - 1].length) < 65536) j++;
      const from = ranges[i].start;
      const to = ranges[j - 1].start + ranges[j - 1].length;
      const buf = Buffer.allocUnsafe(to - from);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, from + got);
        if (n === 0) break;
        got += n;
      }
      for (let k = i; k < j; k++) {
        const s = ranges[k].start - from;
        each(buf.toString('utf8', s, s + ranges[k].length), k);
      }
      i = j;
    }
  } finally {
    closeSync(fd);
  }
}
