// knet-pods.jsonl: every pod of an indexed bundle as knet's model holds it (normalised), written
// next to knet-index.json. A command that reads every pod (doctor -A, pods -A) parses this
// digest (~0.8 KB a pod) instead of the pods (~3.7 KB each, mostly spec knet never reads): at
// 5,000 nodes ≈ 1.1 s instead of ≈ 5.6 s and their garbage (issue 25). It is derived data,
// used only when it still describes the bundle: the same object files (names, sizes, and
// modification times to the second, which tar keeps), the same normalising code (a fingerprint
// of knet's normalising modules), every entry of the shape a pod has. Anything else, and
// the pods are read from the object files (KNET_POD_DIGEST=off: always).
//
// Layout, JSON Lines: a header ({version, normalizer, files, count}), the input warnings
// ([pod number, messages] pairs), then the pods in index order, an array of up to 1,000 a line
// (null for a pod knet skips, 0 for one JSON cannot carry exactly, which is read from the
// bundle): each line is parsed on its own, so no string of 100 MB is ever made.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { normalizeObject } from '../../model/build.js';
import type { Pod } from '../../model/types.js';
import type { BundleIndex } from './index.js';
import { indexedSource } from './indexed.js';

export const POD_DIGEST_FILE = 'knet-pods.jsonl';
/** Pods a line. */
const LINE = 1000;
const VERSION = 1;

interface Header {
  version: number;
  normalizer: string;
  /** Each object file's name, size and modification time in whole seconds (what tar keeps). */
  files: { rel: string; bytes: number; mtime: number }[];
  count: number;
}

/** The pods of a digest: a pod, null (skipped), or 0 (read it from the bundle). */
export interface PodDigest {
  pods: (Pod | null | 0)[];
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

/** Writes knet-pods.jsonl for an indexed bundle directory (knet snapshot, writeBundleIndex). */
export function writePodDigest(dir: string, index: BundleIndex): void {
  const source = indexedSource(dir, index, dir);
  const ordinals = source.ordinals('Pod');
  const pods: string[] = new Array(ordinals.length);
  const warnings: [number, string[]][] = [];
  source.read(ordinals, (raw, i) => {
    let said: string[] | undefined;
    const o = normalizeObject(raw, (m) => {
      said ??= [];
      said.push(m);
    });
    pods[i] = o === undefined ? 'null' : 'value' in o && jsonExact(o.value) ? JSON.stringify(o.value) : '0';
    if (said) warnings.push([i, said]);
  });
  warnings.sort((a, b) => a[0] - b[0]);
  const header: Header = {
    version: VERSION,
    normalizer: normalizerFingerprint(),
    files: filesOf(dir, index),
    count: ordinals.length,
  };
  const fd = openSync(path.join(dir, POD_DIGEST_FILE), 'w');
  try {
    writeSync(fd, `${JSON.stringify(header)}\n${JSON.stringify(warnings)}\n`);
    for (let i = 0; i < pods.length; i += LINE) writeSync(fd, `[${pods.slice(i, i + LINE).join(',')}]\n`);
  } finally {
    closeSync(fd);
  }
}

const isString = (v: unknown) => typeof v === 'string';
const optional = (v: unknown, test: (v: unknown) => boolean) => v === undefined || test(v);
const strings = (v: unknown) => Array.isArray(v) && v.every(isString);
const objectOf = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown, test: (o: Record<string, unknown>) => boolean) =>
  Array.isArray(v) && v.every((o) => objectOf(o) && test(o));

/** Whether a digest entry has the shape of a normalised pod (a digest is input too). */
function isPodShape(p: unknown): p is Pod {
  if (!objectOf(p)) return false;
  return (
    isString(p.namespace) &&
    isString(p.name) &&
    optional(p.uid, isString) &&
    objectOf(p.labels) &&
    Object.values(p.labels).every(isString) &&
    list(
      p.ownerReferences,
      (o) => isString(o.kind) && isString(o.name) && typeof o.controller === 'boolean',
    ) &&
    optional(p.nodeName, isString) &&
    typeof p.hostNetwork === 'boolean' &&
    strings(p.ips) &&
    optional(p.hostIP, isString) &&
    isString(p.phase) &&
    typeof p.ready === 'boolean' &&
    typeof p.terminating === 'boolean' &&
    list(
      p.containers,
      (c) =>
        isString(c.name) &&
        optional(c.image, isString) &&
        list(
          c.ports,
          (q) =>
            optional(q.name, isString) &&
            typeof q.containerPort === 'number' &&
            isString(q.protocol) &&
            optional(q.hostPort, (v) => typeof v === 'number'),
        ),
    ) &&
    list(
      p.containerStatuses,
      (s) =>
        isString(s.name) &&
        typeof s.ready === 'boolean' &&
        optional(s.started, (v) => typeof v === 'boolean') &&
        typeof s.restartCount === 'number' &&
        isString(s.state) &&
        optional(s.reason, isString),
    ) &&
    optional(p.hostname, isString) &&
    optional(p.subdomain, isString) &&
    isString(p.dnsPolicy) &&
    optional(
      p.dnsConfig,
      (d) =>
        objectOf(d) &&
        strings(d.nameservers) &&
        strings(d.searches) &&
        list(d.options, (o) => isString(o.name) && optional(o.value, isString)),
    )
  );
}

/** How many pods the index holds. */
function podsIn(index: BundleIndex): number {
  const pod = index.kinds.indexOf('Pod');
  let count = 0;
  for (let r = 0; r < index.runs.length; r += 4) if (index.runs[r + 1] === pod) count += index.runs[r + 3];
  return count;
}

/**
 * The bundle's pod digest when it describes the bundle as it is (see above), else undefined
 * (the pods are then read from the object files).
 */
export function readPodDigest(dir: string, index: BundleIndex): PodDigest | undefined {
  const podCount = podsIn(index);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path.join(dir, POD_DIGEST_FILE));
  } catch {
    return undefined;
  }
  try {
    const first = bytes.indexOf(10);
    const second = bytes.indexOf(10, first + 1);
    if (first < 0 || second < 0) return undefined;
    const header = JSON.parse(bytes.toString('utf8', 0, first)) as Header;
    if (
      header?.version !== VERSION ||
      header.normalizer !== normalizerFingerprint() ||
      header.count !== podCount
    )
      return undefined;
    const now = filesOf(dir, index);
    if (
      !Array.isArray(header.files) ||
      header.files.length !== now.length ||
      header.files.some(
        (f, i) => f?.rel !== now[i].rel || f.bytes !== now[i].bytes || f.mtime !== now[i].mtime,
      )
    )
      return undefined;
    const warnings = JSON.parse(bytes.toString('utf8', first + 1, second)) as unknown;
    if (!Array.isArray(warnings)) return undefined;
    const pods: PodDigest['pods'] = [];
    for (let at = second + 1; at < bytes.length; ) {
      let end = bytes.indexOf(10, at);
      if (end < 0) end = bytes.length;
      const line = JSON.parse(bytes.toString('utf8', at, end)) as unknown;
      if (!Array.isArray(line) || pods.length + line.length > podCount) return undefined;
      for (const p of line) {
        if (p !== null && p !== 0 && !isPodShape(p)) return undefined;
        pods.push(p);
      }
      at = end + 1;
    }
    if (pods.length !== podCount) return undefined;
    const said = new Map<number, string[]>();
    for (const w of warnings) {
      if (!Array.isArray(w) || !Number.isInteger(w[0]) || !strings(w[1])) return undefined;
      said.set(w[0], w[1]);
    }
    return { pods, warnings: said };
  } catch {
    return undefined;
  }
}
