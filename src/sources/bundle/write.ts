// Writes a snapshot bundle (shared/design/snapshot.md): cluster.json (a v1 List, one object
// per line), further chunks in cluster/ when the objects are large, nodes/NODE/… and
// meta.json — into a new directory, or into a .tar.gz of one. Objects are streamed to disk one
// by one, so no file (and no string) grows past the chunk size.

import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors.js';
import type { NodeFiles } from '../../model/node-files.js';
import type { Raw } from '../../model/normalize.js';
import { writeDerivedFiles } from './derived.js';
import { INDEXED_DUMPS, writeChainTable } from './dump-index.js';
import { IndexBuilder } from './index.js';

/** The files of nodes/NODE/ (snapshot.md), and of nodes/NODE/pods/NS_NAME/. */
export const NODE_FILE_NAMES = [
  'iptables-save.txt',
  'ip6tables-save.txt',
  'ipvsadm.txt',
  'nft.json',
  'ip-addr.json',
  'ip-link.json',
  'ip-route.json',
  'ip-rule.json',
  'ip-neigh.json',
  'bridge-fdb.json',
  'ss.txt',
  'sysctl.txt',
] as const;
export const POD_FILE_NAMES = [
  'ip-addr.json',
  'ip-route.json',
  'resolv.conf',
  'ss.txt',
  'iptables-save.txt',
  'ip6tables-save.txt',
  'nft.json',
] as const;

/** Object files are cut at this size (snapshot.md: no file near ~100 MB). */
export const DEFAULT_CHUNK_BYTES = 32 * 1024 * 1024;

export interface SnapshotMeta {
  capturedAt: string;
  context?: string;
  server?: string;
  knetVersion: string;
  namespace?: string;
  allNamespaces?: boolean;
  objects?: number;
  nodes?: string[];
  nodeErrors?: { node: string; message: string }[];
  /** Kinds the API server does not serve (none of them exists): `ingresses.networking.k8s.io`. */
  absentKinds?: string[];
  /** Kinds RBAC did not let knet read (not known to be empty): `ingresses.networking.k8s.io`. */
  forbiddenKinds?: string[];
}

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function knetVersion(): string {
  try {
    return String(
      JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version ?? 'unknown',
    );
  } catch {
    return 'unknown';
  }
}

const isTarget = (p: string) => /\.(tar\.gz|tgz)$/i.test(p);

/** A relative path below nodes/NODE/ that cannot climb out of it. */
function safeRel(rel: string): boolean {
  return rel !== '' && !path.isAbsolute(rel) && !rel.split(/[\\/]/).some((s) => s === '..' || s === '');
}

/** A bundle being written: objects, node files, then finish(). */
export class BundleWriter {
  private readonly tarFile?: string;
  private readonly tmpRoot?: string;
  /** The bundle directory files go to. */
  readonly dir: string;
  private objectCount = 0;
  private bytes = 0;
  private readonly nodesWritten = new Set<string>();

  private constructor(
    readonly target: string,
    readonly chunkBytes: number,
  ) {
    if (isTarget(target)) {
      const file = path.resolve(target);
      if (existsSync(file)) throw new UserError(`${target} already exists: choose another file name`);
      if (!existsSync(path.dirname(file))) throw new UserError(`the folder of ${target} does not exist`);
      this.tarFile = file;
      this.tmpRoot = mkdtempSync(path.join(path.dirname(file), '.knet-snapshot-'));
      this.dir = path.join(this.tmpRoot, path.basename(file).replace(/\.(tar\.gz|tgz)$/i, ''));
      mkdirSync(this.dir);
    } else {
      this.dir = path.resolve(target);
      if (existsSync(this.dir) && readdirSync(this.dir).length > 0) {
        throw new UserError(`${target} exists and is not empty: give a new directory (or a FILE.tar.gz)`);
      }
      mkdirSync(this.dir, { recursive: true });
    }
  }

  static open(target: string, opts: { chunkBytes?: number } = {}): BundleWriter {
    return new BundleWriter(target, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  }

  /**
   * Writes the objects as v1 Lists: cluster.json, then cluster/objects-0001.json, …, one object
   * per line, and knet-index.json: where each one is (index.ts).
   */
  async writeObjects(raws: Iterable<Raw>): Promise<void> {
    const HEADER = '{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":[\n';
    const index = new IndexBuilder();
    const rels: string[] = [];
    let part = 0;
    let stream: ReturnType<typeof createWriteStream> | undefined;
    let size = 0;
    let file = 0;
    let first = true;
    const open = () => {
      const rel = part === 0 ? 'cluster.json' : `cluster/objects-${String(part).padStart(4, '0')}.json`;
      if (part === 1) mkdirSync(path.join(this.dir, 'cluster'), { recursive: true });
      part++;
      rels.push(rel);
      stream = createWriteStream(path.join(this.dir, rel));
      size = 0;
      first = true;
      file = index.file(rel, Buffer.byteLength(HEADER));
      return write(HEADER);
    };
    const write = async (s: string) => {
      size += Buffer.byteLength(s);
      this.bytes += Buffer.byteLength(s);
      if (!stream!.write(s)) await once(stream!, 'drain');
    };
    const close = async () => {
      await write('\n]}\n');
      stream!.end();
      await once(stream!, 'finish');
      index.fileDone(file, size);
    };
    await open();
    for (const raw of raws) {
      const line = JSON.stringify(raw);
      if (!first && size + line.length > this.chunkBytes) {
        await close();
        await open();
      }
      if (!first) await write(',\n');
      index.add(file, size, Buffer.byteLength(line), raw);
      await write(line);
      first = false;
      this.objectCount++;
    }
    await close();
    const done = index.finish();
    if (done) writeDerivedFiles(this.dir, done);
  }

  /** Writes one node's files (paths relative to nodes/NODE/). */
  writeNodeFiles(node: string, files: Record<string, string>): void {
    if (!safeRel(node) || node.includes('/')) throw new UserError(`invalid node name "${node}"`);
    for (const [rel, text] of Object.entries(files)) {
      if (!safeRel(rel)) throw new UserError(`invalid node file path "${rel}" for node ${node}`);
      const dest = path.join(this.dir, 'nodes', node, rel);
      mkdirSync(path.dirname(dest), { recursive: true });
      writeFileSync(dest, text);
      this.bytes += Buffer.byteLength(text);
      if (INDEXED_DUMPS.includes(rel)) writeChainTable(dest, text);
    }
    this.nodesWritten.add(node);
  }

  /** Copies every known file of a NodeFiles source (a live collection or another bundle). */
  writeNodeFilesFrom(source: NodeFiles, nodes: readonly string[] = source.nodes()): void {
    for (const node of nodes) {
      const files: Record<string, string> = {};
      const put = (rel: string) => {
        const text = source.read(node, rel);
        if (text !== undefined) files[rel] = text;
      };
      for (const f of NODE_FILE_NAMES) put(f);
      for (const f of source.list(node, 'cni')) put(`cni/${f}`);
      for (const dir of source.list(node, 'pods')) for (const f of POD_FILE_NAMES) put(`pods/${dir}/${f}`);
      this.writeNodeFiles(node, files);
    }
  }

  get objects(): number {
    return this.objectCount;
  }

  /** Writes meta.json and, for a .tar.gz, packs the folder; returns where the bundle is. */
  async finish(
    meta: Omit<SnapshotMeta, 'knetVersion' | 'objects'> & Partial<SnapshotMeta>,
  ): Promise<{ path: string; bytes: number }> {
    const full: SnapshotMeta = {
      knetVersion: knetVersion(),
      objects: this.objectCount,
      ...meta,
      nodes: meta.nodes ?? [...this.nodesWritten].sort(),
    };
    writeFileSync(path.join(this.dir, 'meta.json'), `${JSON.stringify(full, null, 2)}\n`);
    if (!this.tarFile || !this.tmpRoot) return { path: this.dir, bytes: this.bytes };
    const tar = await import('tar');
    const partial = `${this.tarFile}.partial`;
    try {
      await tar.create({ gzip: true, file: partial, cwd: this.tmpRoot, portable: true }, [
        path.basename(this.dir),
      ]);
      renameSync(partial, this.tarFile);
    } finally {
      rmSync(partial, { force: true });
      rmSync(this.tmpRoot, { recursive: true, force: true });
    }
    return { path: this.tarFile, bytes: this.bytes };
  }

  /** Removes what was written (after a failure). */
  abort(): void {
    if (this.tmpRoot) rmSync(this.tmpRoot, { recursive: true, force: true });
    else rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Writes a whole bundle at once. */
export async function writeBundle(
  target: string,
  contents: { raws: Iterable<Raw>; nodeFiles?: NodeFiles; meta: Omit<SnapshotMeta, 'knetVersion'> },
  opts: { chunkBytes?: number } = {},
): Promise<{ path: string; bytes: number }> {
  const w = BundleWriter.open(target, opts);
  try {
    await w.writeObjects(contents.raws);
    if (contents.nodeFiles) w.writeNodeFilesFrom(contents.nodeFiles);
    return await w.finish(contents.meta);
  } catch (err) {
    w.abort();
    throw err;
  }
}
