// Chain tables of a bundle's node rule dumps (nodes/NODE/iptables-save.knet-index.bin): where
// each chain's `-A` lines are in iptables-save.txt, so that a trace reads only the chains its
// packet enters, not a 56 MB dump. `knet snapshot` writes one next to each dump it can index
// (bench/generate.js too); a dump without one, or whose size is not the one recorded, is read
// whole, as before (docs/snapshot.md). Binary, and read by position: a trace's few dozen chain
// lookups in a 189,000-chain table read a few bytes each (a hash of the names), not the table.
import {
  closeSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import {
  type ChainTable,
  type ChainTableTable,
  chainTableName,
  chainTableOf,
  dumpFromChainTable,
  type IptablesDump,
} from '../../parsers/iptables-save.js';
import { readAt } from './read-at.js';

/** The node dumps that get a chain table (a pod's own rules are small: read whole). */
export const INDEXED_DUMPS: readonly string[] = ['iptables-save.txt', 'ip6tables-save.txt'];

const MAGIC = 'KNETCHT2';

/** Header of the binary table: everything but the per-chain columns. */
interface Header {
  bytes: number;
  ruleCount: number;
  tables: {
    name: string;
    chains: number;
    namesBytes: number;
    runs: number;
    /** Buckets of the name hash (a power of 2). */
    buckets: number;
    policies: Record<string, string>;
  }[];
}

const pad4 = (n: number) => (n + 3) & ~3;

/** FNV-1a (32 bits) of a chain name: the bucket a lookup starts at, and a check before the name is read. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Where a table's parts start in the file, in bytes. */
interface Layout {
  names: number;
  /** 3 uint32 per chain and one more: where its name starts, its declaration line, its first run. */
  chains: number;
  /** 4 uint32 per run: byte start, byte length, first line, lines. */
  runs: number;
  /** 2 uint32 per bucket: the name's hash and the chain's index + 1 (0: empty). */
  buckets: number;
  end: number;
}

function layoutOf(start: number, t: Header['tables'][number]): Layout {
  const names = start;
  const chains = names + pad4(t.namesBytes);
  const runs = chains + 12 * (t.chains + 1);
  const buckets = runs + 16 * t.runs;
  return { names, chains, runs, buckets, end: buckets + 8 * t.buckets };
}

/**
 * MAGIC, the header's length (uint32 LE) and the header (JSON), padded to 4, then per table its
 * parts (layoutOf): the chain names one after the other (ASCII), padded to 4, then uint32 LE
 * columns: per chain (and one more: the ends) where its name starts, its declaration line and
 * its first run; the runs; the name hash's buckets (linear probing).
 */
function encode(table: ChainTable): Buffer {
  const names = table.tables.map((t) => Buffer.from(t.names().join(''), 'latin1'));
  const chainsOf = table.tables.map((t) => Array.from({ length: t.count }, (_, i) => t.chainAt(i)));
  const runCount = (i: number) => chainsOf[i].reduce((n, c) => n + c.runs.length / 4, 0);
  const header: Header = {
    bytes: table.bytes,
    ruleCount: table.ruleCount,
    tables: table.tables.map((t, i) => ({
      name: t.name,
      chains: t.count,
      namesBytes: names[i].length,
      runs: runCount(i),
      buckets: 2 ** Math.ceil(Math.log2(Math.max(2, t.count * 2))),
      policies: t.policies,
    })),
  };
  const json = Buffer.from(JSON.stringify(header));
  const parts: Buffer[] = [Buffer.from(MAGIC, 'latin1')];
  const u32 = (values: ArrayLike<number>) => Buffer.from(Uint32Array.from(values).buffer);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  parts.push(len, json, Buffer.alloc(pad4(json.length) - json.length));
  table.tables.forEach((t, i) => {
    const chains: number[] = [];
    const runs: number[] = [];
    let nameAt = 0;
    t.names().forEach((name, c) => {
      chains.push(nameAt, chainsOf[i][c].line, runs.length / 4);
      for (const v of Array.from(chainsOf[i][c].runs)) runs.push(v);
      nameAt += name.length;
    });
    chains.push(nameAt, 0, runs.length / 4);
    const size = header.tables[i].buckets;
    const buckets = new Uint32Array(2 * size);
    t.names().forEach((name, c) => {
      const h = nameHash(name);
      let b = h & (size - 1);
      while (buckets[2 * b + 1] !== 0) b = (b + 1) & (size - 1);
      buckets[2 * b] = h;
      buckets[2 * b + 1] = c + 1;
    });
    parts.push(names[i], Buffer.alloc(pad4(names[i].length) - names[i].length));
    parts.push(u32(chains), u32(runs), u32(buckets));
  });
  return Buffer.concat(parts);
}

/** Writes (or, when the dump cannot be indexed, removes) the chain table of a dump file. */
export function writeChainTable(dumpPath: string, text: string = readFileSync(dumpPath, 'utf8')): boolean {
  let table: ChainTable | undefined;
  try {
    table = chainTableOf(text, dumpPath);
  } catch {
    // A dump that does not parse is read whole, where its error names file and line.
    table = undefined;
  }
  const dest = chainTableName(dumpPath);
  // Offsets are uint32: a dump of 4 GiB (far over the bundle's file limit) is read whole.
  if (!table || table.bytes >= 2 ** 32) {
    rmSync(dest, { force: true });
    return false;
  }
  writeFileSync(dest, encode(table));
  return true;
}

/** Reads served by single reads before the whole file is read once (doctor reads every chain). */
const SINGLE_READS = 256;
/** A chain table's: a trace's lookups take 3 reads, each chain it reads one more. */
const TABLE_READS = 1024;

/** Bytes of a file: `length` of them from `at` in `buf`. */
interface Bytes {
  buf: Buffer;
  at: number;
}

/**
 * Reads `length` bytes at `start` of a file, one read each (open, read, close: a bundle of 5,000
 * node dumps keeps no file open) until `single` reads have been made; then the file is read whole,
 * once, and served from memory without a copy.
 */
function positionalReader(file: string, single: number): (start: number, length: number) => Bytes {
  let reads = 0;
  let whole: Buffer | undefined;
  return (start, length) => {
    if (!whole && ++reads > single) whole = readFileSync(file);
    if (whole) return { buf: whole, at: start };
    const fd = openSync(file, 'r');
    try {
      // A file cut short since: the caller sees fewer bytes (a dump's chain is then refused).
      return { buf: readAt(fd, start, length), at: 0 };
    } finally {
      closeSync(fd);
    }
  };
}

/** A table of a chain table file, each answer read from the file when asked for. */
function tableInFile(
  read: (start: number, length: number) => Bytes,
  t: Header['tables'][number],
  at: Layout,
): ChainTableTable {
  // The record read last: a lookup checks the name of the chain it finds, which is then made.
  let recorded = -1;
  let record: Bytes = { buf: Buffer.alloc(0), at: 0 };
  /** Chain i's record and the next one's (where its name and runs end). */
  const records = (i: number): Bytes => {
    if (recorded !== i) {
      record = read(at.chains + 12 * i, 24);
      recorded = i;
    }
    return record;
  };
  const nameAt = (i: number): string => {
    const { buf, at: r } = records(i);
    const start = buf.readUInt32LE(r);
    const name = read(at.names + start, buf.readUInt32LE(r + 12) - start);
    return name.buf.toString('latin1', name.at, name.at + buf.readUInt32LE(r + 12) - start);
  };
  let all: string[] | undefined;
  return {
    name: t.name,
    count: t.chains,
    policies: t.policies,
    nameAt: (i) => all?.[i] ?? nameAt(i),
    names: () => {
      if (!all) {
        const text = read(at.names, t.namesBytes);
        const names = text.buf.toString('latin1', text.at, text.at + t.namesBytes);
        const { buf, at: c } = read(at.chains, 12 * (t.chains + 1));
        all = new Array<string>(t.chains);
        for (let i = 0; i < t.chains; i++)
          all[i] = names.slice(buf.readUInt32LE(c + 12 * i), buf.readUInt32LE(c + 12 * i + 12));
      }
      return all;
    },
    find: (name) => {
      const h = nameHash(name);
      const mask = t.buckets - 1;
      // Buckets are read 8 at a time: a lookup reads one window, and the name it finds.
      for (let b = h & mask, seen = 0; seen < t.buckets; ) {
        const n = Math.min(8, t.buckets - b);
        const { buf, at: w } = read(at.buckets + 8 * b, 8 * n);
        for (let k = 0; k < n; k++, seen++) {
          const chain = buf.readUInt32LE(w + 8 * k + 4);
          if (chain === 0) return undefined;
          if (buf.readUInt32LE(w + 8 * k) === h && (all?.[chain - 1] ?? nameAt(chain - 1)) === name)
            return chain - 1;
        }
        b = (b + n) & mask;
      }
      return undefined;
    },
    chainAt: (i) => {
      const { buf, at: r } = records(i);
      const line = buf.readUInt32LE(r + 4);
      const first = buf.readUInt32LE(r + 8);
      const count = 4 * (buf.readUInt32LE(r + 20) - first);
      const runs = read(at.runs + 16 * first, 4 * count);
      const out = new Array<number>(count);
      for (let k = 0; k < count; k++) out[k] = runs.buf.readUInt32LE(runs.at + 4 * k);
      return { line, runs: out };
    },
  };
}

/**
 * The chain table at `file`, read by position, or undefined when it is not one (or of another
 * version, or not of the size its header gives).
 */
function openChainTable(file: string): ChainTable | undefined {
  const fd = openSync(file, 'r');
  let size: number;
  let header: Header;
  let start: number;
  try {
    size = fstatSync(fd).size;
    const head = Buffer.alloc(12);
    if (size < 12 || readSync(fd, head, 0, 12, 0) !== 12 || head.toString('latin1', 0, 8) !== MAGIC)
      return undefined;
    const jsonLength = head.readUInt32LE(8);
    const json = Buffer.alloc(jsonLength);
    if (readSync(fd, json, 0, jsonLength, 12) !== jsonLength) return undefined;
    header = JSON.parse(json.toString('utf8'));
    start = 12 + pad4(jsonLength);
  } finally {
    closeSync(fd);
  }
  const layouts: Layout[] = [];
  for (const t of header.tables) {
    if (t.buckets < 1 || (t.buckets & (t.buckets - 1)) !== 0 || t.buckets < t.chains) return undefined;
    const layout = layoutOf(start, t);
    layouts.push(layout);
    start = layout.end;
  }
  if (start !== size) return undefined;
  const read = positionalReader(file, TABLE_READS);
  return {
    bytes: header.bytes,
    ruleCount: header.ruleCount,
    tables: header.tables.map((t, i) => tableInFile(read, t, layouts[i])),
  };
}

/**
 * The dump at `dumpPath` read through its chain table, or undefined when it has none or the
 * table is not one of a file of this size (the caller then reads the dump whole).
 */
export function readIndexedDump(dumpPath: string, shown: string): IptablesDump | undefined {
  let table: ChainTable | undefined;
  try {
    table = openChainTable(chainTableName(dumpPath));
    if (!table || statSync(dumpPath).size !== table.bytes) return undefined;
  } catch {
    return undefined;
  }
  const read = positionalReader(dumpPath, SINGLE_READS);
  return dumpFromChainTable(table, shown, (start, length) => {
    const { buf, at } = read(start, length);
    return buf.toString('latin1', at, at + length);
  });
}
