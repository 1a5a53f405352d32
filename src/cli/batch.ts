// knet trace --batch FILE: many traces on one cluster read, as scripts want them. FILE holds
// one trace a line, `SOURCE DESTINATION [--port P] [--protocol tcp|udp|sctp] [--via-node N]
// [--host H] [--path /P] [--all-pods]` (blank lines and # comments skipped; - is stdin); the
// answer is one JSON document a line on stdout, in the order of the lines: the Trace document
// of `knet trace -o json`, or a TraceError naming the line. The model is read once: on an
// indexed bundle each trace reads only what its path adds to what the traces before read.
import { readFileSync } from 'node:fs';
import type { TraceResult } from '../analyses/trace/types.js';
import { UserError } from '../core/errors.js';
import { parseTarget, type Target } from '../core/target-grammar.js';
import { document } from '../render/document.js';
import type { LoadedCluster } from './base.js';

const SOURCES = ['pod', 'node', 'ip'] as const;
const DESTINATIONS = ['pod', 'svc', 'node', 'ip', 'dns', 'ing', 'httproute'] as const;
const VALUE_FLAGS = new Set(['port', 'protocol', 'via-node', 'host', 'path']);
const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);

export interface BatchLine {
  /** 1-based line number in FILE. */
  line: number;
  text: string;
  source: string;
  destination: string;
  flags: {
    port?: string;
    protocol?: string;
    'via-node'?: string;
    host?: string;
    path?: string;
    'all-pods'?: boolean;
  };
}

/** One line's trace, or why it cannot be one. */
export function parseBatchLine(text: string, line: number): BatchLine {
  const words = text.trim().split(/\s+/);
  const ends: string[] = [];
  const flags: BatchLine['flags'] = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (!w.startsWith('--')) {
      ends.push(w);
      continue;
    }
    const [name, inline] = w.slice(2).split(/=(.*)/s, 2);
    if (name === 'all-pods' && inline === undefined) {
      flags['all-pods'] = true;
      continue;
    }
    if (!VALUE_FLAGS.has(name))
      throw new UserError(
        `unknown flag --${name} (a line takes --port, --protocol, --via-node, --host, --path, --all-pods)`,
      );
    const value = inline ?? words[++i];
    if (value === undefined) throw new UserError(`--${name} needs a value`);
    (flags as Record<string, string>)[name] = value;
  }
  if (ends.length !== 2)
    throw new UserError(
      `expected SOURCE DESTINATION, found ${ends.length} target${ends.length === 1 ? '' : 's'}`,
    );
  if (flags.protocol !== undefined && !PROTOCOLS.has(flags.protocol))
    throw new UserError(`--protocol must be tcp, udp or sctp, not ${flags.protocol}`);
  const route = ['ing', 'httproute'].includes(parseTarget(ends[1], 'default', DESTINATIONS).kind);
  parseTarget(ends[0], 'default', SOURCES);
  if (!route && (flags.host !== undefined || flags.path !== undefined))
    throw new UserError('--host and --path apply to an ing/ or httproute/ destination only');
  if (flags.path !== undefined && !flags.path.startsWith('/'))
    throw new UserError(`--path must start with "/": ${flags.path}`);
  return { line, text: text.trim(), source: ends[0], destination: ends[1], flags };
}

/** The lines of FILE (- = stdin) that hold a trace. */
export function readBatchFile(file: string): { line: number; text: string }[] {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UserError(
      `cannot read --batch ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  return text
    .split('\n')
    .map((t, i) => ({ line: i + 1, text: t.trim() }))
    .filter((l) => l.text !== '' && !l.text.startsWith('#'));
}

/**
 * Runs every trace of FILE on one cluster read and writes a document a line; returns the
 * traces (their verdicts make the exit code, as several traces of `knet trace`) and, for each
 * line that could not be traced, what stderr says of it.
 */
export async function runTraceBatch(
  file: string,
  load: () => Promise<LoadedCluster>,
  write: (line: string) => void,
  note: (text: string) => void,
): Promise<{ results: TraceResult[]; errors: string[] }> {
  const lines = readBatchFile(file);
  const cluster = await load();
  const { resolvePodTargets } = await import('../analyses/targets.js');
  const { traceConnection, TraceTargetNotFound } = await import('../analyses/trace/trace.js');
  const { sourceDataplane } = await import('../analyses/trace/source-dataplane.js');
  const results: TraceResult[] = [];
  const errors: string[] = [];
  for (const l of lines) {
    try {
      const b = parseBatchLine(l.text, l.line);
      const resolve = (text: string, kinds: typeof SOURCES | typeof DESTINATIONS) => {
        const r = resolvePodTargets(cluster.model, parseTarget(text, cluster.namespace, kinds), {
          all: b.flags['all-pods'],
          origin: cluster.origin,
        });
        if (r.note) note(`line ${l.line}: ${r.note}`);
        return r.targets;
      };
      const sources = resolve(b.source, SOURCES) as Target<(typeof SOURCES)[number]>[];
      const destinations = resolve(b.destination, DESTINATIONS) as Target<(typeof DESTINATIONS)[number]>[];
      const port =
        b.flags.port === undefined
          ? undefined
          : /^\d+$/.test(b.flags.port)
            ? Number(b.flags.port)
            : b.flags.port;
      const protocol = b.flags.protocol?.toUpperCase() as 'TCP' | 'UDP' | 'SCTP' | undefined;
      const out: string[] = [];
      const traced: TraceResult[] = [];
      for (const source of sources) {
        for (const destination of destinations) {
          let result: TraceResult;
          try {
            result = traceConnection(cluster.model, {
              source,
              destination,
              port,
              protocol,
              viaNode: b.flags['via-node'],
              host: b.flags.host,
              path: b.flags.path,
            });
          } catch (err) {
            if (err instanceof TraceTargetNotFound)
              throw new UserError(err.finding.message.replace(/\.$/, ''));
            throw err;
          }
          // As `knet trace -o json`: with the source node's dataplane when it is not the textbook one.
          const dataplane = sourceDataplane(cluster.model, result, b.flags['via-node']);
          out.push(JSON.stringify(document('Trace', dataplane ? { ...result, dataplane } : result)));
          traced.push(result);
        }
      }
      for (const o of out) write(`${o}\n`);
      results.push(...traced);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      write(
        `${JSON.stringify(document('TraceError', { line: l.line, input: l.text, error: err.message }))}\n`,
      );
      errors.push(`--batch line ${l.line}: ${err.message}`);
    }
  }
  return { results, errors };
}
