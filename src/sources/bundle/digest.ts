// knet-objects.jsonl: the objects a cluster-wide command reads whole, as knet's model holds them
// (normalised), written next to knet-index.json: every Pod, Service, EndpointSlice and Node, and
// the namespace/name of every legacy Endpoints object. A command that reads a whole kind
// (doctor -A, pods -A) parses its digest instead of the objects — a pod's is a fifth of its JSON,
// which is mostly spec knet never reads: at 5,000 nodes reading every object goes from ≈ 5.8 to
// ≈ 2 s (issue 25) — and an Endpoints object whose Service has EndpointSlices (it counts for
// nothing then) is not read at all. It is derived data, used only while it describes the bundle:
// the same object files (names, sizes, and modification times to the second, which tar keeps),
// the same normalising code (a fingerprint of knet's normalising modules), every entry of the
// shape its kind has. Anything else, and the objects are read from the object files
// (KNET_DIGEST=off: always).
//
// Layout, JSON Lines: a header ({version, normalizer, files, kinds: {KIND: {count, at, bytes}}}),
// then each kind's section at its byte offset (counted from the end of the header line): a line
// of input warnings ([object number, messages] pairs), then the objects in index order, an array
// of up to 1,000 a line (null for an object knet skips, 0 for one JSON cannot carry exactly,
// which is read from the bundle). A kind's section is read only when that kind is asked for.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeObject } from '../../model/build.js';
import type { ObjectSource } from '../../model/lazy-cluster.js';
import { legacyEndpointsKey } from '../../model/normalize.js';
import { isEndpointSlice, isNode, isPod, isService, strings } from './digest-shapes.js';
import type { BundleIndex } from './index.js';
import { indexedSource } from './indexed.js';
import { readAt } from './read-at.js';

export const DIGEST_FILE = 'knet-objects.jsonl';
const VERSION = 1;
/** Objects a line. */
const LINE = 1000;

/** The kinds a digest holds, with the test an entry of each must pass. */
const KINDS: Record<string, (v: unknown) => boolean> = {
  Pod: isPod,
  Service: isService,
  EndpointSlice: isEndpointSlice,
  Node: isNode,
  // namespace/name, as the model keys a legacy Endpoints object (lazy-cluster.ts slices()).
  Endpoints: (v) => typeof v === 'string',
};
export const DIGEST_KINDS = Object.keys(KINDS);

interface Header {
  version: number;
  normalizer: string;
  /** Each object file's name, size and modification time in whole seconds (what tar keeps). */
  files: { rel: string; bytes: number; mtime: number }[];
  kinds: Record<string, { count: number; at: number; bytes: number }>;
}

/** One kind's entries, in index order: the normalised value, null (skipped), or 0 (read it). */
export interface KindDigest {
  values: unknown[];
  /** Input warnings, by the entry's place. */
  warnings: Map<number, string[]>;
}

let fingerprint: string | undefined;

/**
 * A hash of the code that normalises objects, as built: model/normalize and model/build (which
 * files each kind) and every core/ module (IP parsing and the like).
 */
export function normalizerFingerprint(): string {
  if (fingerprint === undefined) {
    const h = createHash('sha256');
    h.update(String(VERSION));
    for (const [rel, test] of [
      ['../../model/', /^(normalize|build)\.[jt]s$/],
      ['../../core/', /\.[jt]s$/],
    ] as const) {
      const dir = fileURLToPath(new URL(rel, import.meta.url));
      for (const name of readdirSync(dir).sort())
        if (test.test(name))
          h.update(name)
            .update('\0')
            .update(readFileSync(path.join(dir, name)));
    }
    fingerprint = h.digest('hex').slice(0, 32);
  }
  return fingerprint;
}

/** Whether JSON carries a value exactly (no NaN, ±Infinity or -0; an undefined property reads the same absent). */
function jsonExact(v: unknown): boolean {
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (v === null || typeof v !== 'object') return typeof v !== 'bigint' && typeof v !== 'function';
  if (Array.isArray(v)) return v.every(jsonExact);
  for (const k in v) if (!jsonExact((v as Record<string, unknown>)[k])) return false;
  return true;
}

const filesOf = (dir: string, index: BundleIndex): Header['files'] =>
  index.files.map((f) => ({
    rel: f.rel,
    bytes: f.bytes,
    mtime: Math.floor(statSync(path.join(dir, f.rel)).mtimeMs / 1000),
  }));

/** One kind's section: its warnings line, then its entries, LINE a line (JSON text each). */
function section(source: ObjectSource, kind: string): { text: string[]; count: number } {
  const ordinals = source.ordinals(kind);
  const entries: string[] = new Array(ordinals.length);
  const warnings: [number, string[]][] = [];
  source.read(ordinals, (raw, i) => {
    if (kind === 'Endpoints') {
      const key = legacyEndpointsKey(raw);
      entries[i] = jsonExact(key) ? JSON.stringify(key) : '0';
      return;
    }
    let said: string[] | undefined;
    const o = normalizeObject(raw, (m) => {
      said ??= [];
      said.push(m);
    });
    entries[i] =
      o === undefined ? 'null' : 'value' in o && jsonExact(o.value) ? JSON.stringify(o.value) : '0';
    if (said) warnings.push([i, said]);
  });
  warnings.sort((a, b) => a[0] - b[0]);
  const text = [`${JSON.stringify(warnings)}\n`];
  for (let i = 0; i < entries.length; i += LINE) text.push(`[${entries.slice(i, i + LINE).join(',')}]\n`);
  return { text, count: ordinals.length };
}

/** Writes knet-objects.jsonl for an indexed bundle directory (knet snapshot, writeBundleIndex). */
export function writeDigest(dir: string, index: BundleIndex): void {
  const kinds: Header['kinds'] = {};
  const sections: string[][] = [];
  let at = 0;
  const source = indexedSource(dir, index, dir);
  for (const kind of DIGEST_KINDS) {
    const { text, count } = section(source, kind);
    const bytes = text.reduce((n, t) => n + Buffer.byteLength(t), 0);
    kinds[kind] = { count, at, bytes };
    sections.push(text);
    at += bytes;
  }
  const header: Header = {
    version: VERSION,
    normalizer: normalizerFingerprint(),
    files: filesOf(dir, index),
    kinds,
  };
  const fd = openSync(path.join(dir, DIGEST_FILE), 'w');
  try {
    writeSync(fd, `${JSON.stringify(header)}\n`);
    for (const text of sections) for (const t of text) writeSync(fd, t);
  } finally {
    closeSync(fd);
  }
}

/** How many objects of a kind the index holds. */
function countIn(index: BundleIndex, kind: string): number {
  const k = index.kinds.indexOf(kind);
  let count = 0;
  for (let r = 0; r < index.runs.length; r += 4) if (index.runs[r + 1] === k) count += index.runs[r + 3];
  return count;
}

/**
 * The bundle's digest when it describes the bundle as it is (see above): a reader of one kind's
 * entries at a time (undefined for a kind whose section does not hold). Undefined when there is
 * none, or it does not hold: the objects are then read from the object files.
 */
export function openDigest(
  dir: string,
  index: BundleIndex,
): ((kind: string) => KindDigest | undefined) | undefined {
  const file = path.join(dir, DIGEST_FILE);
  let header: Header;
  let start: number;
  try {
    const fd = openSync(file, 'r');
    try {
      // The header: the object files and a few numbers (a 64 KB read holds it, else it is read on).
      let head = readAt(fd, 0, 65536);
      for (let n = 65536 * 2; head.indexOf(10) < 0 && head.length === n / 2; n *= 2) head = readAt(fd, 0, n);
      const end = head.indexOf(10);
      if (end < 0) return undefined;
      header = JSON.parse(head.toString('utf8', 0, end)) as Header;
      start = end + 1;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (header?.version !== VERSION || header.normalizer !== normalizerFingerprint()) return undefined;
  const now = filesOf(dir, index);
  if (
    !Array.isArray(header.files) ||
    header.files.length !== now.length ||
    header.files.some((f, i) => f?.rel !== now[i].rel || f.bytes !== now[i].bytes || f.mtime !== now[i].mtime)
  )
    return undefined;
  const read = new Map<string, KindDigest | undefined>();
  return (kind) => {
    if (!read.has(kind)) read.set(kind, readKind(file, start, header, kind, countIn(index, kind)));
    return read.get(kind);
  };
}

function readKind(
  file: string,
  start: number,
  header: Header,
  kind: string,
  count: number,
): KindDigest | undefined {
  const test = KINDS[kind];
  const place = header.kinds?.[kind];
  if (!test || !place || place.count !== count || !(place.at >= 0) || !(place.bytes > 0)) return undefined;
  try {
    const fd = openSync(file, 'r');
    let bytes: Buffer;
    try {
      bytes = readAt(fd, start + place.at, place.bytes);
    } finally {
      closeSync(fd);
    }
    if (bytes.length !== place.bytes || bytes[bytes.length - 1] !== 10) return undefined;
    const first = bytes.indexOf(10);
    const warnings = JSON.parse(bytes.toString('utf8', 0, first)) as unknown;
    if (!Array.isArray(warnings)) return undefined;
    const said = new Map<number, string[]>();
    for (const w of warnings) {
      if (!Array.isArray(w) || !Number.isInteger(w[0]) || !strings(w[1])) return undefined;
      said.set(w[0], w[1]);
    }
    const values: unknown[] = [];
    for (let at = first + 1; at < bytes.length; ) {
      const end = bytes.indexOf(10, at);
      const line = JSON.parse(bytes.toString('utf8', at, end)) as unknown;
      if (!Array.isArray(line) || values.length + line.length > count) return undefined;
      for (const v of line) {
        if (v !== null && v !== 0 && !test(v)) return undefined;
        values.push(v);
      }
      at = end + 1;
    }
    return values.length === count ? { values, warnings: said } : undefined;
  } catch {
    return undefined;
  }
}
