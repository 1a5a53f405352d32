// The files knet derives from a bundle directory's objects so that it reads the bundle like a
// cluster: knet-index.json (where each object is) and knet-pods.jsonl (every pod normalised).
// `knet snapshot` writes them as it writes the objects (BundleWriter); this writes them for a
// directory in the same layout (bench/generate.js).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildBundleIndex, INDEX_FILE, indexText } from './index.js';
import { writePodDigest } from './pod-digest.js';

/** Writes knet-index.json and knet-pods.jsonl into a bundle directory; false when its files cannot be indexed. */
export function writeBundleIndex(dir: string, objectFiles: readonly string[]): boolean {
  const index = buildBundleIndex(dir, objectFiles);
  if (!index) return false;
  writeFileSync(path.join(dir, INDEX_FILE), indexText(index));
  writePodDigest(dir, index);
  return true;
}
