// The Diff document (docs/diff.md): two clusters compared in terms of connectivity.
import type { Finding } from '../../findings/types.js';
import type { Hop, TraceResult, Verdict } from '../trace/types.js';

/** broke: something that worked does not any more; fixed: the reverse; changed: the rest. */
export type ChangeClass = 'broke' | 'fixed' | 'changed';

export interface FieldChange {
  /** Dotted path in knet's model of the object, e.g. `selector.app`, `ports[0].targetPort`. */
  path: string;
  old: unknown;
  new: unknown;
}

/** One object that was added, removed or changed (`svc/ns/name`, `networkpolicy/ns/name`…). */
export interface ObjectChange {
  ref: string;
  change: 'added' | 'removed' | 'changed';
  fields: FieldChange[];
  /** One line: what changed. */
  summary: string;
}

/** A node file whose entries (routes, neighbours, kube-proxy rules…) differ. */
export interface NodeFileChange {
  node: string;
  /** e.g. `ip-route.json`, `iptables-save.txt`. */
  file: string;
  gained: string[];
  lost: string[];
  summary: string;
}

export type ChangeKind =
  | 'trace'
  | 'service-backends'
  | 'service-ports'
  | 'service'
  | 'ingress'
  | 'policy'
  | 'proxy'
  | 'route'
  | 'overlay'
  | 'dns'
  | 'finding';

export interface ConnectivityChange {
  class: ChangeClass;
  kind: ChangeKind;
  /** What changed: `svc/ns/name:port`, `pod/a/x -> pod/b/y:8443/TCP`, `node/NAME`, a DNS name. */
  subject: string;
  /** One line, e.g. "endpoints 3 → 0". */
  text: string;
  /** The object and node-file changes that explain it (one line each). */
  causes: string[];
  /** Policy changes: the deciding rule on each side. */
  old?: string;
  new?: string;
  /** Policy changes: every pod pair (`pod/a -> pod/b:PORT/PROTO`) with this verdict change. */
  pairs?: string[];
  /** Finding changes: the finding, and its comparison key (see findingKey). */
  finding?: Finding;
  key?: string;
}

export interface DifferingHop {
  /** Index of the hop in the paths compared (0 = the first hop). */
  index: number;
  kind: string;
  node?: string;
  old: Hop | null;
  new: Hop | null;
  /** Which paths: the backend each ends at (`pod/ns/name`, an address, or null). */
  oldPath: string | null;
  newPath: string | null;
}

export interface TraceSide {
  verdict: Verdict | 'not-found';
  /** The trace, or null when an end does not exist on that side. */
  trace: TraceResult | null;
  /** Why there is no trace (an end does not exist). */
  error?: string;
}

export interface TraceDiff {
  old: TraceSide;
  new: TraceSide;
  change: ChangeClass | 'same';
  firstDifferingHop: DifferingHop | null;
  causes: string[];
}

export interface Diff {
  old: { origin: string };
  new: { origin: string };
  /** The namespace compared, or null for the whole cluster. */
  namespace: string | null;
  summary: { broke: number; fixed: number; changed: number };
  /** With SRC DST: the two traces compared. */
  trace?: TraceDiff;
  /** Broke first, then fixed, then the rest. */
  changes: ConnectivityChange[];
  /** --objects: every object change (otherwise only those that explain a change, in `causes`). */
  objects?: ObjectChange[];
  nodeFiles?: NodeFileChange[];
  notes: string[];
}
