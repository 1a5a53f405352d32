// knet trace --batch FILE: many traces on one cluster read, as scripts want them. FILE holds
// one trace a line, `SOURCE DESTINATION [--port P] [--protocol tcp|udp|sctp] [--via-node N]
// [--host H] [--path /P] [--all-pods]` (blank lines and # comments skipped; - is stdin); the
// answer is one JSON document a line on stdout, in the order of the lines: the Trace document
// of `knet trace -o json`, or a TraceError naming the line. The model is read once: on an
// indexed bundle each trace reads only what its path adds to what the traces before read.
import { readFileSync } from 'node:fs';
import { checkTraceRequest } from '../analyses/trace/request.js';
import type { TraceResult } from '../analyses/trace/types.js';
import { UserError } from '../core/errors.js';
import { document } from '../render/document.js';
import { traceDocument } from '../render/trace.js';
import type { LoadedCluster } from './base.js';

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
  checkTraceRequest({
    source: ends[0],
    destination: ends[1],
    host: flags.host,
    path: flags.path,
  });
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
  const { traceQueries, runTraces } = await import('../analyses/trace/request.js');
  const { sourceDataplane } = await import('../analyses/trace/source-dataplane.js');
  const results: TraceResult[] = [];
  const errors: string[] = [];
  for (const l of lines) {
    try {
      const b = parseBatchLine(l.text, l.line);
      const queries = traceQueries(
        cluster.model,
        {
          source: b.source,
          destination: b.destination,
          port: b.flags.port,
          protocol: b.flags.protocol,
          viaNode: b.flags['via-node'],
          host: b.flags.host,
          path: b.flags.path,
          allPods: b.flags['all-pods'],
        },
        cluster,
        (t) => note(`line ${l.line}: ${t}`),
      );
      const traced = runTraces(cluster.model, queries);
      // As `knet trace -o json`: with the source node's dataplane when it is not the textbook one.
      const out = traced.map((r) =>
        JSON.stringify(traceDocument(r, sourceDataplane(cluster.model, r, b.flags['via-node']))),
      );
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
