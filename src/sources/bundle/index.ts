// knet-index.json: where each cluster object of a bundle is (file, byte range), with its kind,
// namespace and name, and for pods their node and IPs. With it a command reads only the
// objects its question needs (a trace: its ends' namespaces, the nodes; not 150,000 pods), as
// a live trace asks the API only for its path. `knet snapshot` writes it (BundleWriter);
// writeBundleIndex (derived.ts) builds it for a bundle in the same layout (bench/generate.js). A bundle
// without it, or whose files no longer have the sizes it recorded, is read whole, as before
// (docs/snapshot.md).
//
// Version 4 keeps the per-object columns packed (numbers as base64 of little-endian typed
// arrays, the pods' IPs joined by "\n"), and each object's name as a hash (a lookup by name
// reads its candidates and the model keeps those of that name): loading it parses a handful
// of long strings, not 185,000 numbers and 150,000 short strings (a trace at 5,000 nodes
// paid ≈ 40 ms and their garbage).

import { isAscii } from 'node:buffer';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { normalizeIP } from '../../core/ip.js';
import type { Raw } from '../../model/normalize.js';
import { readAt } from './read-at.js';

export const INDEX_FILE = 'knet-index.json';
const VERSION = 4;

/**
 * Strings of one column joined by "\n", with each one's length: an entry that holds a "\n" (or
 * is longer than a uint16) is stored as "".
 */
export interface StringColumn {
  text: string;
  lengths: Uint16Array;
}

export interface BundleIndex {
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
  lengths: Uint32Array;
  /** Per object, nameHash of its metadata.name (0: not a string, the object itself tells). */
  names: Uint32Array;
  /** Per Node (in order of the nodes): its name, its addresses (canonical) and pod CIDRs. */
  nodeNames: string[];
  nodeIPs: string[];
  nodeCIDRs: string[];
  /** Per Pod (in order of the pods): its spec.nodeName (index into nodes, -1: none). */
  podNode: Int32Array;
  /** Per Pod: its status IPs, canonical (normalizeIP) where they parse, joined by spaces. */
  podIPs: StringColumn;
}

/** knet-index.json as stored: the typed columns as base64, the string columns as text + lengths. */
type StoredIndex = Omit<BundleIndex, 'lengths' | 'names' | 'podNode' | 'podIPs'> & {
  version: number;
  lengths: string;
  names: string;
  podNode: string;
  podIPs: string;
  podIPLengths: string;
};

/** FNV-1a of a name's UTF-16 code units, never 0 (0 marks a name the index does not know). */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

const base64 = (a: Uint32Array | Uint16Array | Int32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** A typed array over base64 text, undefined when its bytes are not a whole number of items. */
function fromBase64<T>(
  text: unknown,
  bytes: number,
  make: (b: ArrayBuffer, at: number, n: number) => T,
): T | undefined {
  if (typeof text !== 'string') return undefined;
  const buf = Buffer.from(text, 'base64');
  if (buf.length % bytes !== 0) return undefined;
  // Aligned views need an aligned copy when the buffer's memory is not at a multiple of the size.
  const b = buf.byteOffset % bytes === 0 ? buf : Buffer.from(buf);
  return make(b.buffer as ArrayBuffer, b.byteOffset, b.length / bytes);
}

function stringColumn(values: readonly string[]): StringColumn {
  const kept = values.map((v) => (v.includes('\n') || v.length > 0xffff ? '' : v));
  return { text: kept.join('\n'), lengths: Uint16Array.from(kept, (v) => v.length) };
}

/** A stored column, undefined when its text and lengths do not agree. */
function readColumn(text: unknown, lengths: unknown, count: number): StringColumn | undefined {
  const l = fromBase64(lengths, 2, (b, at, n) => new Uint16Array(b, at, n));
  if (typeof text !== 'string' || !l || l.length !== count) return undefined;
  let total = Math.max(count - 1, 0);
  for (let i = 0; i < l.length; i++) total += l[i];
  return total === text.length ? { text, lengths: l } : undefined;
}

/** Where each entry of a column starts in its text (one more: the end + 1). */
export function columnStarts(column: StringColumn): Float64Array {
  const starts = new Float64Array(column.lengths.length + 1);
  for (let i = 0; i < column.lengths.length; i++) starts[i + 1] = starts[i] + column.lengths[i] + 1;
  return starts;
}

/** The text of a whole index (knet-index.json). */
export function indexText(index: BundleIndex): string {
  const stored: StoredIndex = {
    version: VERSION,
    files: index.files,
    kinds: index.kinds,
    namespaces: index.namespaces,
    nodes: index.nodes,
    runs: index.runs,
    lengths: base64(index.lengths),
    names: base64(index.names),
    nodeNames: index.nodeNames,
    nodeIPs: index.nodeIPs,
    nodeCIDRs: index.nodeCIDRs,
    podNode: base64(index.podNode),
    podIPs: index.podIPs.text,
    podIPLengths: base64(index.podIPs.lengths),
  };
  return JSON.stringify(stored);
}

/** The index in knet-index.json's text, undefined when it is not one of this version. */
function parseIndex(text: string): BundleIndex | undefined {
  const s = JSON.parse(text) as StoredIndex;
  if (s?.version !== VERSION || !Array.isArray(s.files) || !Array.isArray(s.runs)) return undefined;
  let count = 0;
  for (let r = 3; r < s.runs.length; r += 4) count += s.runs[r];
  const pods = s.kinds.indexOf('Pod');
  let podCount = 0;
  for (let r = 0; r < s.runs.length; r += 4) if (s.runs[r + 1] === pods) podCount += s.runs[r + 3];
  const lengths = fromBase64(s.lengths, 4, (b, at, n) => new Uint32Array(b, at, n));
  const podNode = fromBase64(s.podNode, 4, (b, at, n) => new Int32Array(b, at, n));
  const names = fromBase64(s.names, 4, (b, at, n) => new Uint32Array(b, at, n));
  const podIPs = readColumn(s.podIPs, s.podIPLengths, podCount);
  if (lengths?.length !== count || names?.length !== count || podNode?.length !== podCount || !podIPs)
    return undefined;
  return {
    files: s.files,
    kinds: s.kinds,
    namespaces: s.namespaces,
    nodes: s.nodes,
    runs: s.runs,
    lengths,
    names,
    nodeNames: s.nodeNames,
    nodeIPs: s.nodeIPs,
    nodeCIDRs: s.nodeCIDRs,
    podNode,
    podIPs,
  };
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
  private readonly names: number[] = [];
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
    this.names.push(typeof raw.metadata?.name === 'string' ? nameHash(raw.metadata.name) : 0);
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
    // An entry with a space or line break is no address a lookup can ask for (nor the model keep).
    this.podIPs.push([...new Set(ips.map(canonical))].filter((ip) => !/\s/.test(ip)).join(' '));
  }

  /** The index, undefined when an object was not one a reader takes as it is. */
  finish(): BundleIndex | undefined {
    if (this.unindexable) return undefined;
    return {
      files: this.files,
      kinds: [...this.tables.kinds.keys()],
      namespaces: [...this.tables.namespaces.keys()],
      nodes: [...this.tables.nodes.keys()],
      runs: this.runs,
      lengths: Uint32Array.from(this.lengths),
      names: Uint32Array.from(this.names),
      nodeNames: this.nodeNames,
      nodeIPs: this.nodeIPs,
      nodeCIDRs: this.nodeCIDRs,
      podNode: Int32Array.from(this.podNode),
      podIPs: stringColumn(this.podIPs),
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

/**
 * The bundle's index when it describes these files as they are (same names, same sizes),
 * else undefined: the bundle is then read whole.
 */
export function readBundleIndex(dir: string, objectFiles: readonly string[]): BundleIndex | undefined {
  let index: BundleIndex | undefined;
  try {
    // Its text is ASCII but for names of non-ASCII namespaces or nodes: decoding ASCII as
    // latin1 is a plain copy (half the time of utf8 on the 5.7 MB of a 5,000-node bundle).
    const bytes = readFileSync(path.join(dir, INDEX_FILE));
    index = parseIndex(bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8'));
  } catch {
    return undefined;
  }
  if (!index || index.files.length !== objectFiles.length) return undefined;
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

/** Reads `count` byte ranges of a file, in ascending order: one read per run of nearby ranges. */
export function readRanges(
  file: string,
  count: number,
  startOf: (k: number) => number,
  lengthOf: (k: number) => number,
  each: (text: string, k: number) => void,
): void {
  const fd = openSync(file, 'r');
  try {
    let i = 0;
    while (i < count) {
      // Ranges closer than this are read in one go (the bytes between are cheaper than a read).
      let j = i + 1;
      let to = startOf(i) + lengthOf(i);
      while (j < count && startOf(j) - to < 65536) {
        to = startOf(j) + lengthOf(j);
        j++;
      }
      const from = startOf(i);
      const buf = readAt(fd, from, to - from);
      for (let k = i; k < j; k++) {
        const s = startOf(k) - from;
        each(buf.toString('utf8', s, s + lengthOf(k)), k);
      }
      i = j;
    }
  } finally {
    closeSync(fd);
  }
}
