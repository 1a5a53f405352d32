// The objects of an indexed bundle (knet-index.json), read by position: the source of a
// LazyClusterModel. Each read parses only the lines it is asked for; each question to the index
// builds only what it needs (a trace asks a few: no map of every object is made).
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { cidrContains } from '../../core/ip.js';
import { reportProgress } from '../../core/progress.js';
import type { ObjectSource } from '../../model/lazy-cluster.js';
import type { Raw } from '../../model/normalize.js';
import { type BundleIndex, columnStarts, INDEX_FILE, indexKind, nameHash, readRanges } from './index.js';

/** "pods", "endpointslices", "networkpolicies", "endpoints": the kind as a progress line says it. */
const plural = (kind: string) => {
  const k = kind.toLowerCase().replace(/@.*/, '');
  return k.endsWith('s') ? k : k.endsWith('y') ? `${k.slice(0, -1)}ies` : `${k}s`;
};

/** Each object's file, start and kind. */
interface Layout {
  file: Int32Array;
  start: Float64Array;
  kind: Int32Array;
}

function layoutOf(index: BundleIndex): Layout {
  const count = index.lengths.length;
  const layout: Layout = {
    file: new Int32Array(count),
    start: new Float64Array(count),
    kind: new Int32Array(count),
  };
  let n = 0;
  let file = -1;
  let next = 0;
  for (let r = 0; r < index.runs.length; r += 4) {
    const f = index.runs[r];
    if (f !== file) {
      file = f;
      next = index.files[f].first;
    }
    for (let end = n + index.runs[r + 3]; n < end; n++) {
      layout.file[n] = f;
      layout.start[n] = next;
      layout.kind[n] = index.runs[r + 1];
      next += index.lengths[n] + 2;
    }
  }
  return layout;
}

/** Whether the text at `at` (of length `length`) is a whole entry: bounded by a space or line break. */
function wholeEntry(text: string, at: number, length: number): boolean {
  const before = at === 0 ? 32 : text.charCodeAt(at - 1);
  const after = at + length === text.length ? 32 : text.charCodeAt(at + length);
  return (before === 32 || before === 10) && (after === 32 || after === 10);
}

/** The entry of a column that holds the character at `at` (bisection over the starts). */
function entryAt(starts: Float64Array, at: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function indexedSource(
  dir: string,
  index: BundleIndex,
  shown: string,
  onRead?: (kind: string, count: number) => void,
): ObjectSource {
  let layout: Layout | undefined;
  const L = () => {
    layout ??= layoutOf(index);
    return layout;
  };
  const lists = new Map<string, number[]>();
  /** The ordinals of a kind (in one namespace when given), from the runs, once per question. */
  const ordinals = (kind: string, namespace?: string): number[] => {
    const key = namespace === undefined ? kind : `${kind}\u0000${namespace}`;
    let list = lists.get(key);
    if (!list) {
      list = [];
      const k = index.kinds.indexOf(kind);
      const ns = namespace === undefined ? -1 : index.namespaces.indexOf(namespace);
      if (k >= 0 && (namespace === undefined || ns >= 0)) {
        for (let r = 0, n = 0; r < index.runs.length; n += index.runs[r + 3], r += 4) {
          if (index.runs[r + 1] !== k || (ns >= 0 && index.runs[r + 2] !== ns)) continue;
          for (let i = 0; i < index.runs[r + 3]; i++) list.push(n + i);
        }
      }
      lists.set(key, list);
    }
    return list;
  };
  let podIPStarts: Float64Array | undefined;
  let nodeIds: Map<string, number> | undefined;
  let nodeByName: Map<string, number> | undefined;
  const pods = () => ordinals('Pod');
  return {
    kinds: () => {
      const seen = new Set<number>();
      for (let r = 0; r < index.runs.length; r += 4) seen.add(index.runs[r + 1]);
      return [...seen].map((k) => index.kinds[k]);
    },
    namespaces: () => index.namespaces,
    ordinals,
    named: (kind, namespace, name) => {
      // A hash that is the name's or 0 (a name the index does not know): the objects tell.
      const h = nameHash(name);
      return ordinals(kind, namespace).filter((n) => index.names[n] === h || index.names[n] === 0);
    },
    podsOnNode: (node) => {
      nodeIds ??= new Map(index.nodes.map((n, i) => [n, i]));
      const id = nodeIds.get(node);
      if (id === undefined) return [];
      const all = pods();
      const out: number[] = [];
      for (let i = 0; i < index.podNode.length; i++) if (index.podNode[i] === id) out.push(all[i]);
      return out;
    },
    podsWithIP: (ip) => {
      // One search of the joined IPs: no map of every pod's addresses.
      podIPStarts ??= columnStarts(index.podIPs);
      const { text } = index.podIPs;
      const all = pods();
      const out: number[] = [];
      for (let at = text.indexOf(ip); at >= 0 && ip !== ''; at = text.indexOf(ip, at + 1)) {
        if (!wholeEntry(text, at, ip.length)) continue;
        const n = all[entryAt(podIPStarts, at)];
        if (out[out.length - 1] !== n) out.push(n);
      }
      return out;
    },
    nodesWithIP: (ip) => {
      const nodes = ordinals('Node');
      return nodes.filter(
        (_, i) => index.nodeIPs[i].includes(ip) && index.nodeIPs[i].split(' ').includes(ip),
      );
    },
    nodesWithPodCIDR: (ip) => {
      const nodes = ordinals('Node');
      return nodes.filter((_, i) =>
        index.nodeCIDRs[i].split(' ').some((c) => {
          try {
            return c !== '' && cidrContains(c, ip);
          } catch {
            return false;
          }
        }),
      );
    },
    nodeNamed: (name: string) => {
      if (!nodeByName) {
        const nodes = ordinals('Node');
        nodeByName = new Map(index.nodeNames.map((n, i) => [n, nodes[i]]));
      }
      return nodeByName.get(name);
    },
    read: (wanted, each) => {
      const { file, start, kind } = L();
      let done = 0;
      const label = wanted.length > 0 ? plural(index.kinds[kind[wanted[0]]]) : '';
      // Per file, by position: one pass over each file's ranges (places in `wanted`).
      const perFile = new Map<number, number[]>();
      for (let i = 0; i < wanted.length; i++) {
        const list = perFile.get(file[wanted[i]]);
        if (list) list.push(i);
        else perFile.set(file[wanted[i]], [i]);
      }
      for (const [f, places] of perFile) {
        const ascending = places.every((p, i) => i === 0 || start[wanted[p]] > start[wanted[places[i - 1]]]);
        if (!ascending) places.sort((a, b) => start[wanted[a]] - start[wanted[b]]);
        const info = index.files[f];
        readRanges(
          path.join(dir, info.rel),
          places.length,
          (k) => start[wanted[places[k]]],
          (k) => index.lengths[wanted[places[k]]],
          (text, k) => {
            const n = wanted[places[k]];
            if (++done % 1000 === 0) reportProgress(`reading ${label}`, done, wanted.length);
            let raw: Raw;
            try {
              raw = JSON.parse(text);
            } catch {
              raw = undefined;
            }
            if (raw && typeof raw === 'object' && !raw.kind && info.itemKind) raw.kind = info.itemKind;
            if (!raw || typeof raw !== 'object' || indexKind(raw) !== index.kinds[kind[n]]) {
              throw new UserError(
                `${shown}/${INDEX_FILE} does not match ${shown}/${info.rel} (was the file changed after it was indexed?): delete ${INDEX_FILE} to read the bundle whole`,
              );
            }
            each(raw, places[k]);
          },
        );
      }
      if (onRead) {
        const kinds = new Map<string, number>();
        for (const n of wanted) {
          const k = index.kinds[kind[n]];
          kinds.set(k, (kinds.get(k) ?? 0) + 1);
        }
        for (const [k, c] of kinds) onRead(k, c);
      }
    },
  };
}
