// Chain tables of a bundle's node rule dumps (nodes/NODE/iptables-save.knet-index.json): where
// each chain's `-A` lines are in iptables-save.txt, so that a trace reads only the chains its
// packet enters, not a 56 MB dump. `knet snapshot` writes one next to each dump it can index
// (bench/generate.js too); a dump without one, or whose size is not the one recorded, is read
// whole, as before (docs/snapshot.md).
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import {
  type ChainTable,
  chainTableName,
  chainTableOf,
  dumpFromChainTable,
  type IptablesDump,
} from '../../parsers/iptables-save.js';

/** The node dumps that get a chain table (a pod's own rules are small: read whole). */
export const INDEXED_DUMPS: readonly string[] = ['iptables-save.txt', 'ip6tables-save.txt'];

const VERSION = 1;

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
  if (!table) {
    rmSync(dest, { force: true });
    return false;
  }
  writeFileSync(dest, JSON.stringify({ version: VERSION, ...table }));
  return true;
}

/** Reads served by single reads before the whole file is read once (doctor reads every chain). */
const SINGLE_READS = 256;

/**
 * The dump at `dumpPath` read through its chain table, or undefined when it has none or the
 * table is of a file of another size (the caller then reads the dump whole).
 */
export function readIndexedDump(dumpPath: string, shown: string): IptablesDump | undefined {
  let table: ChainTable & { version: number };
  try {
    table = JSON.parse(readFileSync(chainTableName(dumpPath), 'utf8'));
    if (table?.version !== VERSION || !Array.isArray(table.tables)) return undefined;
    if (statSync(dumpPath).size !== table.bytes) return undefined;
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
