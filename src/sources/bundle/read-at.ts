// Reads by position in a bundle's files (the object index, the chain tables, the digest): the
// bytes at an offset of an open file, read until they are all in or the file ends.
import { readSync } from 'node:fs';

/** `bytes` bytes at `at` of the open file `fd`; fewer when the file ends before. */
export function readAt(fd: number, at: number, bytes: number): Buffer {
  const buf = Buffer.allocUnsafe(bytes);
  let got = 0;
  while (got < bytes) {
    const n = readSync(fd, buf, got, bytes - got, at + got);
    if (n === 0) break;
    got += n;
  }
  return got < bytes ? buf.subarray(0, got) : buf;
}
