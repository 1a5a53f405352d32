// Node-level raw files (snapshot.md: nodes/NODE/…). Read on demand, so that a command only
// reads the nodes its analysis touches.

import type { IptablesDump } from '../parsers/iptables-save.js';

export interface NodeFiles {
  /** Nodes that have a folder. */
  nodes(): string[];
  /** The file's text (path relative to nodes/NODE/), or undefined when absent. */
  read(node: string, path: string): string | undefined;
  /** Names of the entries in a folder below nodes/NODE/ (e.g. "pods", "cni"). */
  list(node: string, dir: string): string[];
  /** How to name the file in an error or evidence line (bundle path). */
  describe(node: string, path: string): string;
  /**
   * A rule dump read through its chain table (a bundle directory's, docs/snapshot.md), or
   * undefined: the dump is then read whole.
   */
  indexedDump?(node: string, path: string): IptablesDump | undefined;
}

export const EMPTY_NODE_FILES: NodeFiles = {
  nodes: () => [],
  read: () => undefined,
  list: () => [],
  describe: (node, path) => `nodes/${node}/${path}`,
};

/** In-memory node files, for tests and for data collected live. */
export function memoryNodeFiles(files: Record<string, Record<string, string>>, prefix = ''): NodeFiles {
  return {
    // sorted, as a bundle lists its folders: node files collected in parallel arrive in any order
    nodes: () => Object.keys(files).sort(),
    read: (node, path) => files[node]?.[path],
    list: (node, dir) => {
      const seen = new Set<string>();
      for (const p of Object.keys(files[node] ?? {})) {
        if (p.startsWith(`${dir}/`)) seen.add(p.slice(dir.length + 1).split('/')[0]);
      }
      return [...seen].sort();
    },
    describe: (node, path) => `${prefix}nodes/${node}/${path}`,
  };
}
