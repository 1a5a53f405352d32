// The objects of an indexed bundle (knet-index.json), read by position: the source of a
// LazyClusterModel. Each read parses only the lines it is asked for.
import path from 'node:path';
import { UserError } from '../../core/errors.js';
import { cidrContains } from '../../core/ip.js';
import { reportProgress } from '../../core/progress.js';
import type { ObjectSource } from '../../model/lazy-cluster.js';
import type { Raw } from '../../model/normalize.js';
import { type BundleIndex, INDEX_FILE, indexKind, readRanges } from './index.js';

/** "pods", "endpointslices", "networkpolicies", "endpoints": the kind as a progress line says it. */
const plural = (kind: string) => {
  const k = kind.toLowerCase().replace(/@.*/, '');
  return k.endsWith('s') ? k : k.endsWith('y') ? `${k.slice(0, -1)}ies` : `${k}s`;
};

function group<K>(map: Map<K, number[]>, key: K, n: number): void {
  const list = map.get(key);
  if (list) list.push(n);
  else map.set(key, [n]);
}

/** Ordinals by kind and by kind and namespace, each object's file, start and kind. */
interface Layout {
  byKind: Map<string, number[]>;
  byKindNs: Map<string, number[]>;
  file: Int32Array;
  start: Float64Array;
  kind: Int32Array;
}

function layoutOf(index: BundleIndex): Layout {
  const count = index.lengths.length;
  const layout: Layout = {
    byKind: new Map(),
    byKindNs: new Map(),
    file: new Int32Array(count),
    start: new Float64Array(count),
    kind: new Int32Array(count),
  };
  let n = 0;
  let file = -1;
  let next = 0;
  for (let r = 0; r < index.runs.length; r += 4) {
    const [f, kind, ns, runLength] = index.runs.slice(r, r + 4);
    if (f !== file) {
      file = f;
      next = index.files[f].first;
    }
    const kindName = index.kinds[kind];
    const nsKey = `${kindName}\u0000${index.namespaces[ns]}`;
    for (let i = 0; i < runLength; i++, n++) {
      layout.file[n] = f;
      layout.start[n] = next;
      layout.kind[n] = kind;
      next += index.lengths[n] + 2;
      group(layout.byKind, kindName, n);
      group(layout.byKindNs, nsKey, n);
    }
  }
  return layout;
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
  let byNode: Map<string, number[]> | undefined;
  let nodeByName: Map<string, number> | undefined;
  const pods = () => L().byKind.get('Pod') ?? [];
  return {
    kinds: () => [...L().byKind.keys()],
    namespaces: () => index.namespaces,
    ordinals: (kind, namespace) =>
      (namespace === undefined ? L().byKind.get(kind) : L().byKindNs.get(`${kind}\u0000${namespace}`)) ?? [],
    podsOnNode: (node) => {
      if (!byNode) {
        byNode = new Map();
        const all = pods();
        for (let i = 0; i < all.length; i++) {
          const n = index.podNode[i];
          if (n >= 0) group(byNode, index.nodes[n], all[i]);
        }
      }
      return byNode.get(node) ?? [];
    },
    podsWithIP: (ip) => {
      // One lookup is a scan of short strings: cheaper than a map of every pod's IPs.
      const all = pods();
      const out: number[] = [];
      for (let i = 0; i < all.length; i++) {
        const ips = index.podIPs[i];
        if (ips.includes(ip) && ips.split(' ').includes(ip)) out.push(all[i]);
      }
      return out;
    },
    nodesWithIP: (ip) => {
      const nodes = L().byKind.get('Node') ?? [];
      return nodes.filter(
        (_, i) => index.nodeIPs[i].includes(ip) && index.nodeIPs[i].split(' ').includes(ip),
      );
    },
    nodesWithPodCIDR: (ip) => {
      const nodes = L().byKind.get('Node') ?? [];
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
        const nodes = L().byKind.get('Node') ?? [];
        nodeByName = new Map(index.nodeNames.map((n, i) => [n, nodes[i]]));
      }
      return nodeByName.get(name);
    },
    read: (ordinals, each) => {
      const { file, start, kind } = L();
      // Per file, by position: one pass over each file's ranges.
      let done = 0;
      const label = ordinals.length > 0 ? plural(index.kinds[kind[ordinals[0]]]) : '';
      const perFile = new Map<number, number[]>();
      ordinals.forEach((n, i) => {
        group(perFile, file[n], i);
      });
      for (const [f, positions] of perFile) {
        positions.sort((a, b) => start[ordinals[a]] - start[ordinals[b]]);
        const info = index.files[f];
        const ranges = positions.map((i) => ({
          start: start[ordinals[i]],
          length: index.lengths[ordinals[i]],
        }));
        readRanges(path.join(dir, info.rel), ranges, (text, k) => {
          const n = ordinals[positions[k]];
          if (++done % 1000 === 0) reportProgress(`reading ${label}`, done, ordinals.length);
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
          each(raw, positions[k]);
        });
      }
      if (onRead) {
        const kinds = new Map<string, number>();
        for (const n of ordinals) {
          const k = index.kinds[kind[n]];
          kinds.set(k, (kinds.get(k) ?? 0) + 1);
        }
        for (const [k, c] of kinds) onRead(k, c);
      }
    },
  };
}
