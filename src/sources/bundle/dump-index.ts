// Chain tables of a bundle's node rule dumps (nodes/NODE/iptables-save.knet-index.bin): where
// each chain's `-A` lines are in iptables-save.txt, so that a trace reads only the chains its
// packet enters, not a 56 MB dump. `knet snapshot` writes one next to each dump it can index
// (bench/generate.js too); a dump without one, or whose size is not the one recorded, is read
// whole, as before (docs/snapshot.md). Binary: a 189,000-chain table is read with no parsing
// but the chain names it looks up.
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import {
  type ChainNames,
  type ChainTable,
  chainTableName,
  chainTableOf,
  dumpFromChainTable,
  type IptablesDump,
} from '../../parsers/iptables-save.js';

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
    policies: Record<string, string>;
  }[];
}

const pad4 = (n: number) => (n + 3) & ~3;

/**
 * MAGIC, the header's length (uint32 LE) and the header (JSON), then per table: its chain names
 * one after the other (ASCII), then where each starts (one more: the end), lines, order, first
 * and runs as uint32 LE; each part padded to 4.
 */
function encode(table: ChainTable): Buffer {
  const names = table.tables.map((t) => Buffer.from(t.chains.all().join(''), 'latin1'));
  const header: Header = {
    bytes: table.bytes,
    ruleCount: table.ruleCount,
    tables: table.tables.map((t, i) => ({
      name: t.name,
      chains: t.chains.length,
      namesBytes: names[i].length,
      runs: t.runs.length / 4,
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
    const offsets = [0];
    for (const name of t.chains.all()) offsets.push(offsets[offsets.length - 1] + name.length);
    parts.push(names[i], Buffer.alloc(pad4(names[i].length) - names[i].length));
    parts.push(u32(offsets), u32(t.lines), u32(t.order), u32(t.first), u32(t.runs));
  });
  return Buffer.concat(parts);
}

/**
 * The names of a table read from its file: each read when asked for (a trace compares a few
 * hundred in its lookups), all of them made once for a command that reads every chain.
 */
function namesIn(bytes: Buffer, start: number, offsets: Uint32Array): ChainNames {
  let all: string[] | undefined;
  return {
    length: offsets.length - 1,
    at: (i) => all?.[i] ?? bytes.toString('latin1', start + offsets[i], start + offsets[i + 1]),
    all: () => {
      if (!all) {
        const text = bytes.toString('latin1', start, start + offsets[offsets.length - 1]);
        all = new Array<string>(offsets.length - 1);
        for (let i = 0; i < all.length; i++) all[i] = text.slice(offsets[i], offsets[i + 1]);
      }
      return all;
    },
  };
}

/** The table of a binary chain table, or undefined when it is not one (or of another version). */
function decode(buf: Buffer): ChainTable | undefined {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return undefined;
  const jsonLength = buf.readUInt32LE(8);
  let at = 12;
  const header: Header = JSON.parse(buf.toString('utf8', at, at + jsonLength));
  at += pad4(jsonLength);
  // Aligned views need an aligned copy when the buffer's memory is not at a multiple of 4.
  const bytes = buf.byteOffset % 4 === 0 ? buf : Buffer.from(buf);
  const view = (count: number): Uint32Array => {
    if (at + count * 4 > bytes.length) throw new Error('short chain table');
    const v = new Uint32Array(bytes.buffer, bytes.byteOffset + at, count);
    at += count * 4;
    return v;
  };
  const tables = header.tables.map((t) => {
    const start = at;
    at += pad4(t.namesBytes);
    const offsets = view(t.chains + 1);
    if (offsets[0] !== 0 || offsets[t.chains] !== t.namesBytes)
      throw new Error('chain names do not match their offsets');
    return {
      name: t.name,
      chains: namesIn(bytes, start, offsets),
      policies: t.policies,
      lines: view(t.chains),
      order: view(t.chains),
      first: view(t.chains + 1),
      runs: view(t.runs * 4),
    };
  });
  if (at !== bytes.length) return undefined;
  return { bytes: header.bytes, ruleCount: header.ruleCount, tables };
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

/**
 * The dump at `dumpPath` read through its chain table, or undefined when it has none or the
 * table is not one of a file of this size (the caller then reads the dump whole).
 */
export function readIndexedDump(dumpPath: string, shown: string): IptablesDump | undefined {
  let table: ChainTable | undefined;
  try {
    table = decode(readFileSync(chainTableName(dumpPath)));
    if (!table || statSync(dumpPath).size !== table.bytes) return undefined;
  } catch {
    return undefined;
  }
  let reads = 0;
  let whole: Buffer | undefined;
  const read = (start: number, length: number): string => {
    if (!whole && ++reads > SINGLE_READS) whole = readFileSync(dumpPath);
    if (whole) return whole.toString('latin1', start, start + length);
    const buf = Buffer.allocUnsafe(length);
    const fd = openSync(dumpPath, 'r');
    try {
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, start + got);
        if (n === 0) break;
        got += n;
      }
      return buf.toString('latin1', 0, got);
    } finally {
      closeSync(fd);
    }
  };
  return dumpFromChainTable(table, shown, read);
}
