// The files knet derives from a bundle directory's objects so that it reads the bundle like a
// cluster: knet-index.json (where each object is) and knet-objects.jsonl (whole kinds normalised).
// `knet snapshot` writes them as it writes the objects (BundleWriter); this writes them for a
// directory in the same layout (bench/generate.js).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeDigest } from './digest.js';
import { type BundleIndex, buildBundleIndex, INDEX_FILE, indexText } from './index.js';

/** Writes the derived files of a bundle directory whose objects `index` describes. */
export function writeDerivedFiles(dir: string, index: BundleIndex): void {
  writeFileSync(path.join(dir, INDEX_FILE), indexText(index));
  writeDigest(dir, index);
}

/** Writes knet-index.json and knet-objects.jsonl into a bundle directory; false when its files cannot be indexed. */
export function writeBundleIndex(dir: string, objectFiles: readonly string[]): boolean {
  const index = buildBundleIndex(dir, objectFiles);
  if (!index) return false;
  writeDerivedFiles(dir, index);
  return true;
}
