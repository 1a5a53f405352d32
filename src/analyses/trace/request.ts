// A trace as the prompt asks it (`knet trace`, a `--batch` line, `knet diff`'s trace): two target
// words and the request flags, checked before the cluster is read, then turned into the queries
// of one model (a workload becomes its pods) and traced. A target the model does not hold is the
// one-line error of a command that cannot answer (exit 2).
import { UserError } from '../../core/errors.js';
import { parseTarget } from '../../core/target-grammar.js';
import type { ClusterModel } from '../../model/cluster.js';
import { resolveTargetText } from '../targets.js';
import { TraceTargetNotFound, traceConnection } from './trace.js';
import type { TraceQuery, TraceResult } from './types.js';

export const TRACE_SOURCES = ['pod', 'node', 'ip'] as const;
export const TRACE_DESTINATIONS = ['pod', 'svc', 'node', 'ip', 'dns', 'ing', 'httproute'] as const;

/** The words of a trace request, as the flags give them. */
export interface TraceRequest {
  source: string;
  destination: string;
  port?: string;
  protocol?: string;
  viaNode?: string;
  host?: string;
  path?: string;
  /** A workload end: each of its pods, not one ready pod. */
  allPods?: boolean;
}

/** Both ends are targets of their side's kinds; true when the destination is a route (ing/, httproute/). */
export function parseTraceEnds(source: string, destination: string): boolean {
  parseTarget(source, 'default', TRACE_SOURCES);
  return ['ing', 'httproute'].includes(parseTarget(destination, 'default', TRACE_DESTINATIONS).kind);
}

/** The request's words before any cluster is read (exit 2); true when the destination is a route. */
export function checkTraceRequest(r: TraceRequest): boolean {
  const route = parseTraceEnds(r.source, r.destination);
  if (!route && (r.host !== undefined || r.path !== undefined))
    throw new UserError('--host and --path apply to an ing/ or httproute/ destination only');
  if (r.path !== undefined && !r.path.startsWith('/'))
    throw new UserError(`--path must start with "/": ${r.path}`);
  return route;
}

/**
 * Every source pod to every destination of the request on one model. `namespace` is the
 * default of targets without one; `note` hears which pods a workload became.
 */
export function traceQueries(
  model: ClusterModel,
  r: TraceRequest,
  at: { namespace: string; origin?: string },
  note?: (text: string) => void,
): TraceQuery[] {
  const opts = { all: r.allPods, note };
  const sources = resolveTargetText(model, r.source, TRACE_SOURCES, at, opts);
  const destinations = resolveTargetText(model, r.destination, TRACE_DESTINATIONS, at, opts);
  const port = r.port === undefined ? undefined : /^\d+$/.test(r.port) ? Number(r.port) : r.port;
  const protocol = r.protocol?.toUpperCase() as TraceQuery['protocol'];
  return sources.flatMap((source) =>
    destinations.map((destination) => ({
      source,
      destination,
      port,
      protocol,
      viaNode: r.viaNode,
      host: r.host,
      path: r.path,
    })),
  );
}

/** The traces of the queries, in their order; a target that does not exist is one line (exit 2). */
export function runTraces(model: ClusterModel, queries: readonly TraceQuery[]): TraceResult[] {
  return queries.map((query) => {
    try {
      return traceConnection(model, query);
    } catch (err) {
      if (!(err instanceof TraceTargetNotFound)) throw err;
      throw new UserError(err.finding.message.replace(/\.$/, ''));
    }
  });
}
