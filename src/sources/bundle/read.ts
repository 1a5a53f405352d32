// Reads a snapshot bundle (shared/design/snapshot.md): a directory or a .tar.gz of one.
// Cluster objects are read file by file when they are first used: building the model walks
// them once, so each chunk's parsed JSON is dropped as soon as its objects are normalised
// (at 150,000 pods that is the difference between holding every raw object and holding
// none). Node files are read lazily, through NodeFiles, so that a command only reads the
// nodes its analysis touches.
import {
  createReadStream,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineOfOffset, ParseError, parseJsonText, UserError } from '../../core/errors.js';
import { reportProgress } from '../../core/progress.js';
import { flattenObjects } from '../../model/build.js';
import type { ObjectSource } from '../../model/lazy-cluster.js';
import type { NodeFiles } from '../../model/node-files.js';
import type { Raw } from '../../model/normalize.js';
import { chainTableName } from '../../parsers/iptables-save.js';
import { DIGEST_FILE, openDigest } from './digest.js';
import { INDEXED_DUMPS, readIndexedDump } from './dump-index.js';
import { INDEX_FILE, readBundleIndex } from './index.js';
import { indexedSource } from './indexed.js';

export interface BundleMeta {
  capturedAt?: string;
  context?: string;
  server?: string;
  knetVersion?: string;
  /**
   * A derived bundle: every file this bundle lacks is read from the base — `demo`, or a
   * sibling bundle directory named without a path (e.g. a "known good" snapshot next to it).
   */
  base?: string;
}

export interface Bundle {
  /** Where it was read from, as the user named it. */
  location: string;
  /**
   * Every cluster object. Iterating it (as buildModel does) reads the files one at a time
   * and keeps none of them; any other use (length, indexing, find…) reads them all into
   * the array first. A malformed file throws its ParseError at that point.
   */
  /**
   * The cluster objects, streamed from the files on each iteration (never all parsed strings
   * at once). Spread it (`[...bundle.raws]`) for an array.
   */
  raws: Iterable<Raw>;
  /** The objects by position, when the bundle's knet-index.json describes its files. */
  indexed?: ObjectSource;
  nodeFiles: NodeFiles;
  meta: BundleMeta;
}

/** The package root (dist/sources/bundle → ../../..; the same depth from src/). */
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const DEMO_BUNDLE = path.join(PACKAGE_ROOT, 'examples', 'demo');

/** `demo` names the bundled demo cluster from any working directory. */
export function resolveBundlePath(location: string): string {
  return location === 'demo' ? DEMO_BUNDLE : path.resolve(location);
}

/** A tree of files: a real directory, or the contents of a tar.gz held in memory. */
interface FileTree {
  exists(rel: string): boolean;
  read(rel: string): string;
  list(rel: string): string[];
  display(rel: string): string;
}

/** Files above this size are refused before they are read (docs/security.md). */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** A .tar.gz may hold at most this much, counted as it is extracted (a "zip bomb" stops early). */
export const MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024;

const MiB = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`;

function tooLarge(shown: string, bytes: number): UserError {
  return new UserError(
    `${shown}: ${MiB(bytes)}, larger than the limit of ${MiB(MAX_FILE_BYTES)} per file; refused (see docs/security.md)`,
  );
}

function directoryTree(root: string, shown: string): FileTree {
  const realRoot = realpathSync(root);
  /** The file's real path, refused when a link takes it out of the bundle or it is not a file. */
  const real = (rel: string): string => {
    const p = path.join(root, rel);
    const r = realpathSync(p);
    if (r !== realRoot && !r.startsWith(`${realRoot}${path.sep}`)) {
      throw new UserError(
        `${path.join(shown, rel)}: a symbolic link that leaves the bundle (to ${r}); refused (see docs/security.md)`,
      );
    }
    return r;
  };
  return {
    exists: (rel) => existsSync(path.join(root, rel)) || isLink(path.join(root, rel)),
    read: (rel) => {
      const r = real(rel);
      const st = statSync(r);
      if (!st.isFile()) throw new UserError(`${path.join(shown, rel)}: not a regular file; refused`);
      if (st.size > MAX_FILE_BYTES) throw tooLarge(path.join(shown, rel), st.size);
      return readFileSync(r, 'utf8');
    },
    list: (rel) => {
      try {
        real(rel);
        return readdirSync(path.join(root, rel)).sort();
      } catch (err) {
        if (err instanceof UserError) throw err;
        return [];
      }
    },
    display: (rel) => path.join(shown, rel),
  };
}

/** A regular file (not a link, in no linked folder) of the bundle, within the size limit. */
function plainFile(p: string, root: string): boolean {
  try {
    const st = lstatSync(p);
    return (
      st.isFile() &&
      st.size <= MAX_FILE_BYTES &&
      realpathSync(p).startsWith(`${realpathSync(root)}${path.sep}`)
    );
  } catch {
    return false;
  }
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Why a tar member is refused (a path out of the bundle, a link or a device), or undefined. */
function refusedMember(type: string, name: string): string | undefined {
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return 'an absolute path';
  if (name.split(/[\\/]/).includes('..')) return 'a path with ..';
  if (!['File', 'OldFile', 'ContiguousFile', 'Directory'].includes(type))
    return type.includes('Link') ? 'a link' : `a ${type} member`;
  return undefined;
}

async function tarTree(file: string, shown: string): Promise<FileTree> {
  const { Parser } = await import('tar');
  const files = new Map<string, Buffer>();
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const input = createReadStream(file);
    const refuse = (err: Error) => {
      if (failed) return;
      failed = true;
      input.destroy();
      reject(err);
    };
    const parser = new Parser({
      onReadEntry: (entry) => {
        const why = refusedMember(entry.type, entry.path);
        if (why) {
          entry.resume();
          return refuse(
            new UserError(
              `${shown}: member ${JSON.stringify(entry.path)} is ${why}; refused (see docs/security.md)`,
            ),
          );
        }
        if (entry.type === 'Directory') {
          entry.resume();
          return;
        }
        if (entry.size > MAX_FILE_BYTES) {
          entry.resume();
          return refuse(tooLarge(`${shown}:${entry.path}`, entry.size));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        entry.on('data', (c: Buffer) => {
          size += c.length;
          total += c.length;
          if (size > MAX_FILE_BYTES) return refuse(tooLarge(`${shown}:${entry.path}`, size));
          if (total > MAX_ARCHIVE_BYTES) {
            return refuse(
              new UserError(
                `${shown}: more than ${MiB(MAX_ARCHIVE_BYTES)} once extracted; refused (see docs/security.md)`,
              ),
            );
          }
          if (!failed) chunks.push(c);
        });
        entry.on('end', () => {
          if (!failed) files.set(entry.path.replace(/^\.\//, ''), Buffer.concat(chunks));
        });
      },
    });
    parser.on('error', (err: Error) =>
      refuse(new UserError(`cannot read bundle ${shown}: not a valid .tar.gz (${err.message})`)),
    );
    parser.on('end', () => {
      if (!failed) resolve();
    });
    input.on('error', (err) => refuse(new UserError(`cannot read bundle ${shown}: ${err.message}`)));
    input.pipe(parser);
  });
  // A tar of a folder has one top-level directory; the bundle root is where cluster data is.
  let prefix = '';
  const names = [...files.keys()];
  const marker =
    names.find((n) => /(^|\/)cluster\.json$/.test(n)) ?? names.find((n) => /(^|\/)cluster\/[^/]+$/.test(n));
  if (marker) prefix = marker.replace(/cluster(\.json|\/[^/]+)$/, '');
  const key = (rel: string) => `${prefix}${rel}`.replace(/\/+$/, '');
  return {
    exists: (rel) => files.has(key(rel)) || names.some((n) => n.startsWith(`${key(rel)}/`)),
    read: (rel) => {
      const buf = files.get(key(rel));
      if (!buf) throw new UserError(`${shown}: ${rel} not found`);
      return buf.toString('utf8');
    },
    list: (rel) => {
      const dir = `${key(rel)}/`;
      const out = new Set<string>();
      for (const n of names) if (n.startsWith(dir)) out.add(n.slice(dir.length).split('/')[0]);
      return [...out].sort();
    },
    display: (rel) => `${shown}:${rel}`,
  };
}

const OBJECT_FILE = /\.(json|ya?ml)$/i;

type YamlModule = typeof import('yaml');

const deepMessage = (m: string) => (/call stack/i.test(m) ? 'nested too deeply' : m);

/** The objects of one file, in order. */
function* objectsOfFile(
  text: string,
  rel: string,
  shown: string,
  yaml: YamlModule | undefined,
): Generator<Raw> {
  if (/\.json$/i.test(rel) || !yaml) {
    yield* objectsOfJson(text, shown);
    return;
  }
  const out: Raw[] = [];
  try {
    const docs = yaml.parseAllDocuments(text, { prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [docs];
    for (const doc of list) {
      const err = doc.errors[0];
      if (err) {
        const line = lineOfOffset(text, err.pos[0]);
        throw new ParseError(shown, line, `invalid YAML: ${deepMessage(err.message.split('\n')[0])}`);
      }
      flattenObjects(doc.toJS({ maxAliasCount: 1000 }), out);
    }
  } catch (err) {
    if (err instanceof ParseError) throw err;
    // The yaml module recurses on nesting: a document nested thousands deep overflows it.
    throw new ParseError(shown, 1, `invalid YAML: ${deepMessage((err as Error).message)}`);
  }
  yield* out;
}

/**
 * A JSON file's objects. `knet snapshot` (and bench/generate.js) write a List with one item
 * per line: each line is parsed on its own, so an object's raw JSON dies young instead of the
 * whole file's tree staying alive until its last object is read (faster, and a third less
 * memory at 150,000 pods). Any other layout — or a line that is not one item — is parsed as
 * one document, with the same result and the same errors as before.
 */
function* objectsOfJson(text: string, shown: string): Generator<Raw> {
  const header = lineListHeader(text);
  if (!header) {
    yield* flattenObjects(parseJsonText(text, shown));
    return;
  }
  // Items of a typed List (PodList) take their kind from it, as flattenObjects does.
  const itemKind =
    typeof header.kind === 'string' && header.kind !== 'List' ? header.kind.slice(0, -4) : undefined;
  const end = text.lastIndexOf('\n]}');
  let start = text.indexOf('\n') + 1;
  let done = 0;
  while (start < end) {
    let stop = text.indexOf('\n', start);
    if (stop < 0 || stop > end) stop = end;
    const last = stop === end;
    let line = text.slice(start, stop);
    start = stop + 1;
    if (line === '' && last && done === 0) break; // an empty List
    let item: Raw;
    try {
      if (!last) {
        if (!line.endsWith(',')) throw new SyntaxError('not one item per line');
        line = line.slice(0, -1);
      }
      item = JSON.parse(line);
      if (item === null || typeof item !== 'object' || Array.isArray(item))
        throw new SyntaxError('not an object');
    } catch {
      // Not the one-item-per-line layout after all: the whole document decides (or fails).
      yield* flattenObjects(parseJsonText(text, shown)).slice(done);
      return;
    }
    const objects = flattenObjects(item.kind || !itemKind ? item : { ...item, kind: itemKind });
    done += objects.length;
    yield* objects;
  }
}

/** The List header when the text is `{…"items":[` / one item per line / `]}`, else undefined. */
function lineListHeader(text: string): Raw | undefined {
  const nl = text.indexOf('\n');
  if (
    nl < 0 ||
    !text.startsWith('{') ||
    !text.endsWith('"items":[', nl) ||
    !/\n\]\}\s*$/.test(text.slice(-8))
  ) {
    return undefined;
  }
  try {
    const header = JSON.parse(`${text.slice(0, nl)}]}`);
    return Array.isArray(header?.items) && (typeof header.kind !== 'string' || header.kind.endsWith('List'))
      ? header
      : undefined;
  } catch {
    return undefined;
  }
}

/** The base of a derived bundle: `demo` or a sibling directory's bare name, never a path. */
async function baseTree(base: unknown, root: string, shown: string): Promise<FileTree> {
  if (typeof base !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(base) || base === '..') {
    throw new UserError(
      `${shown}/meta.json: base must be "demo" or the name of a sibling bundle directory, not ${JSON.stringify(base)}`,
    );
  }
  const dir = base === 'demo' ? DEMO_BUNDLE : path.join(path.dirname(root), base);
  if (path.resolve(dir) === path.resolve(root) || !existsSync(dir) || !statSync(dir).isDirectory())
    throw new UserError(`${shown}/meta.json: base bundle ${base} not found (next to ${shown})`);
  if (existsSync(path.join(dir, 'meta.json'))) {
    const meta = parseJsonText(readFileSync(path.join(dir, 'meta.json'), 'utf8'), `${base}/meta.json`);
    if ((meta as BundleMeta)?.base !== undefined)
      throw new UserError(`${shown}: base bundle ${base} is itself derived; one level only`);
  }
  return directoryTree(dir, base);
}

/** A derived bundle's files over its base's: the top wins, directory listings are merged. */
function overlayTree(top: FileTree, base: FileTree): FileTree {
  const from = (rel: string) => (top.exists(rel) ? top : base);
  return {
    exists: (rel) => top.exists(rel) || base.exists(rel),
    read: (rel) => from(rel).read(rel),
    list: (rel) => [...new Set([...top.list(rel), ...base.list(rel)])].sort(),
    display: (rel) => from(rel).display(rel),
  };
}

export async function readBundle(location: string): Promise<Bundle> {
  const root = resolveBundlePath(location);
  const shown = location === 'demo' ? 'demo' : location;
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(root);
  } catch {
    throw new UserError(
      location === 'demo'
        ? `the demo bundle is missing from this installation (${root})`
        : `bundle not found: ${location} (give a bundle directory or a .tar.gz; see docs/snapshot.md)`,
    );
  }
  let tree = stat.isDirectory() ? directoryTree(root, shown) : await tarTree(root, shown);
  let meta: BundleMeta = {};
  if (tree.exists('meta.json'))
    meta = parseJsonText(tree.read('meta.json'), tree.display('meta.json')) as BundleMeta;
  if (meta.base !== undefined) tree = overlayTree(tree, await baseTree(meta.base, root, shown));

  const objectFiles: string[] = [];
  if (tree.exists('cluster.json')) objectFiles.push('cluster.json');
  for (const name of tree.list('cluster')) if (OBJECT_FILE.test(name)) objectFiles.push(`cluster/${name}`);
  if (objectFiles.length === 0) {
    throw new UserError(
      `bundle ${shown} has no cluster objects: expected cluster.json or cluster/*.json|yaml`,
    );
  }
  // YAML files need the yaml module: load it now, so that reading the objects stays synchronous.
  const yaml = objectFiles.some((rel) => !/\.json$/i.test(rel)) ? await import('yaml') : undefined;
  function* objects(): Generator<Raw> {
    let count = 0;
    for (const [i, rel] of objectFiles.entries()) {
      reportProgress(`reading ${shown}: file ${i + 1}/${objectFiles.length}, objects`, count);
      for (const raw of objectsOfFile(tree.read(rel), rel, tree.display(rel), yaml)) {
        if (++count % 2000 === 0)
          reportProgress(`reading ${shown}: file ${i + 1}/${objectFiles.length}, objects`, count);
        yield raw;
      }
    }
    if (count === 0) {
      throw new UserError(
        `bundle ${shown} has no cluster objects: ${objectFiles.join(', ')} contain no Kubernetes objects`,
      );
    }
  }

  const nodeFiles: NodeFiles = {
    nodes: () => tree.list('nodes'),
    read: (node, rel) => {
      const p = `nodes/${node}/${rel}`;
      return tree.exists(p) ? tree.read(p) : undefined;
    },
    list: (node, dir) => tree.list(`nodes/${node}/${dir}`),
    describe: (node, rel) => tree.display(`nodes/${node}/${rel}`),
    // By byte range only from a directory of its own, as the objects.
    ...(stat.isDirectory() && meta.base === undefined && process.env.KNET_BUNDLE_INDEX !== 'off'
      ? {
          indexedDump: (node: string, rel: string) => {
            const file = path.join(root, 'nodes', node, rel);
            // A link, or a file over the limit, is read whole: the tree's checks then refuse it.
            if (
              !INDEXED_DUMPS.includes(rel) ||
              !plainFile(file, root) ||
              !plainFile(chainTableName(file), root)
            )
              return undefined;
            return readIndexedDump(file, tree.display(`nodes/${node}/${rel}`));
          },
        }
      : {}),
  };
  // Read by position only from a directory of its own (a tar is in memory anyway; a derived
  // bundle's files come from two places).
  let indexed: ObjectSource | undefined;
  if (stat.isDirectory() && meta.base === undefined && tree.exists(INDEX_FILE)) {
    const index = readBundleIndex(root, objectFiles);
    if (index) {
      indexed = indexedSource(
        root,
        index,
        shown,
        process.env.KNET_DEBUG_READS
          ? (kind, n) =>
              process.stderr.write(
                `read ${n} ${kind}\n${new Error().stack?.split('\n').slice(3, 9).join('\n')}\n`,
              )
          : undefined,
      );
      // Whole kinds from knet-objects.jsonl, when it holds (KNET_DIGEST=off: never); like the
      // chain tables, only a plain file of the bundle's own (no link out, not over the limit).
      // Opened when a whole kind is first asked for: a trace never pays for its header.
      if (process.env.KNET_DIGEST !== 'off') {
        const file = path.join(root, DIGEST_FILE);
        let digest: ReturnType<typeof openDigest> | null = null;
        indexed.digest = (kind) => {
          if (digest === null) digest = plainFile(file, root) ? openDigest(root, index) : undefined;
          return digest?.(kind);
        };
      }
    }
  }
  return { location: shown, raws: { [Symbol.iterator]: objects }, indexed, nodeFiles, meta };
}
