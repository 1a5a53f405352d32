// The base of every knet command: shared flags, loading the cluster (bundle or live), output
// format, the exit code (decided here only, from the command's Answer), and the one-line error
// contract (exit 2, no stack unless --debug).
import { Command, Flags, type Interfaces } from '@oclif/core';
import { ParseError, UserError } from '../core/errors.js';
import { closeNames } from '../core/similar-names.js';
import { hasError } from '../findings/catalog.js';
import type { Finding } from '../findings/types.js';
import type { ClusterModel } from '../model/cluster.js';
import { jsonPieces, type OutputFormat, renderYaml } from '../render/document.js';
import { escapeTerminal, escapeTerminalText } from '../render/escape.js';
import { clearProgress, showProgress } from '../render/progress.js';
import { type ColorMode, c, configureColor, toTerminalText } from '../render/style.js';
import type { ObjectKind } from '../sources/kinds.js';
import type { TracePath } from '../sources/kube/trace-path.js';

/** Flags every cluster-reading command takes (cli.md). */
export const clusterFlags = {
  snapshot: Flags.string({
    description:
      'read this snapshot bundle (a directory or .tar.gz; "demo" = the bundled demo cluster) instead of a live cluster',
    helpValue: 'PATH',
  }),
  kubeconfig: Flags.string({
    description: 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)',
    helpValue: 'FILE',
  }),
  context: Flags.string({ description: 'the kubeconfig context to use', helpValue: 'NAME' }),
  namespace: Flags.string({
    char: 'n',
    description: 'the namespace (default: the context namespace, else "default")',
    helpValue: 'NS',
  }),
  output: Flags.string({
    char: 'o',
    description: 'output format (default: table; wide adds columns)',
    options: ['table', 'wide', 'json', 'yaml'],
  }),
  json: Flags.boolean({ description: 'same as -o json' }),
  color: Flags.string({
    description: 'colour: auto (a terminal, unless NO_COLOR; FORCE_COLOR forces it), always or never',
    options: ['auto', 'always', 'never'],
    helpValue: 'WHEN',
  }),
  'no-color': Flags.boolean({ description: 'same as --color never' }),
  debug: Flags.boolean({ description: 'show stack traces for errors', hidden: true }),
};

export const allNamespacesFlag = {
  'all-namespaces': Flags.boolean({ char: 'A', description: 'all namespaces' }),
};

/** -A on a cluster-scoped list (nodes): accepted as kubectl accepts it, and changes nothing. */
export const clusterScopedAllNamespacesFlag = {
  'all-namespaces': Flags.boolean({
    char: 'A',
    description: 'accepted for kubectl habit: this list is cluster-wide anyway',
  }),
};

export type ClusterFlags = Interfaces.InferredFlags<typeof clusterFlags> & { 'all-namespaces'?: boolean };

/** What a command needs from the cluster; a live read fetches only these kinds. */
export type { ObjectKind } from '../sources/kinds.js';

export interface LoadScope {
  /** The question spans the cluster (e.g. node CIDR usage counts every pod). */
  allNamespaces?: boolean;
  /** Target texts (pod/NS/NAME, svc/NS/NAME…): their namespaces are read too. */
  targets?: string[];
  /** A trace's two ends: live, only the objects on its path are read when they can be bounded. */
  trace?: { source: string; destination: string };
  /**
   * Kinds the command can do without besides Gateway API kinds and Secret names: live, a 403
   * on them is a warning and the rest goes on (read.ts LiveOptions.optional).
   */
  optional?: ObjectKind[];
}

/** The namespaces that target texts name explicitly (KIND/NS/NAME). */
async function targetNamespaces(targets: readonly string[]): Promise<string[]> {
  const { explicitNamespace } = await import('../core/target-grammar.js');
  return [...new Set(targets.map(explicitNamespace).filter((ns): ns is string => ns !== undefined))];
}

/** A trace's ends for the live path read; undefined (the whole-namespace read) when not targets. */
async function tracePath(trace: { source: string; destination: string }): Promise<TracePath | undefined> {
  const { parseTarget } = await import('../core/target-grammar.js');
  try {
    // '' stands for the default namespace, known once the kubeconfig is read.
    const end = (text: string) => {
      const t = parseTarget(text, '');
      return { kind: t.kind, namespace: t.namespace || undefined, name: t.name };
    };
    return { source: end(trace.source), destination: end(trace.destination) };
  } catch {
    return undefined;
  }
}

export interface LoadedCluster {
  model: ClusterModel;
  /** The namespace to use when a target or -n does not name one. */
  namespace: string;
  /** "bundle PATH" or "context NAME": said in messages. */
  origin: string;
  /** Live: what was read, to rebuild the model with node files or save it (cli/live.ts). */
  live?: import('../sources/kube/read.js').LiveCluster;
}

/**
 * What a command's answer says about the cluster, for its exit code (cli.md "Exit codes"). A
 * question that cannot be answered (bad input, a missing object) is thrown as a UserError instead.
 */
export type Answer =
  /** A report: 1 when one of its findings is an error (a breakage), else 0. */
  | { findings: readonly Finding[] }
  /** Verdicts (several traces: the worst counts): 2 when one is unknown, else 1 when one is broken, else 0. */
  | { verdicts: readonly Verdict[] };

export interface Verdict {
  broken: boolean;
  /** The data could not decide it: what is missing, said on stderr after "knet: ". */
  unknown?: string;
}

/** Answered, with nothing to judge (a matrix, a written snapshot, a script): exit 0. */
export const ANSWERED: Answer = { verdicts: [] };

/** The exit code of an answer: 0 nothing broken, 1 a breakage, 2 could not be decided. */
export function exitCodeOf(answer: Answer): 0 | 1 | 2 {
  if ('findings' in answer) return hasError(answer.findings) ? 1 : 0;
  if (answer.verdicts.some((v) => v.unknown !== undefined)) return 2;
  return answer.verdicts.some((v) => v.broken) ? 1 : 0;
}

/** Bytes of output gathered before one write: a streamed document is written in such pieces. */
const WRITE_CHUNK = 1 << 20;

/**
 * Writes text made piece by piece (jsonPieces) to stdout, waiting whenever the pipe is full. A
 * reader that goes away (EPIPE: `| head`) gets no more, but every piece is still made: the
 * answer, and so the exit code, is the one the whole text would have given.
 */
async function writeOut(pieces: Iterable<string>): Promise<void> {
  const out = process.stdout;
  let chunk = '';
  for (const piece of pieces) {
    if (out.destroyed) continue;
    chunk += piece;
    if (chunk.length < WRITE_CHUNK) continue;
    if (!out.write(chunk) && !out.destroyed) await drained(out);
    chunk = '';
  }
  if (chunk && !out.destroyed) out.write(chunk);
}

/** Resolves when `out` can take more, or is closed. */
function drained(out: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

function* mapPieces(pieces: Iterable<string>, f: (piece: string) => string): Generator<string> {
  for (const piece of pieces) yield f(piece);
}

export abstract class KnetCommand extends Command {
  private debugMode = false;

  /** Parses, reads, analyses and prints; returns what the answer says, for the exit code. */
  protected abstract answer(): Promise<Answer>;

  /** The one place that sets the exit code of an answered command (errors: catch below). */
  async run(): Promise<void> {
    showProgress();
    const answer = await this.answer();
    if ('verdicts' in answer)
      for (const v of answer.verdicts)
        if (v.unknown !== undefined) process.stderr.write(`knet: ${v.unknown}\n`);
    process.exitCode = exitCodeOf(answer);
  }

  protected outputFormat(flags: { output?: string; json?: boolean }): OutputFormat {
    return flags.json ? 'json' : ((flags.output ?? 'table') as OutputFormat);
  }

  /** Debug mode, colour, and the flag combinations that contradict each other (exit 2). */
  protected setup(flags: Partial<ClusterFlags> & { debug?: boolean }): void {
    this.debugMode = Boolean(flags.debug || process.env.DEBUG);
    const conflict = (a: string, b: string, why: string) => {
      throw new UserError(`${a} and ${b} cannot be used together: ${why}`);
    };
    if (flags.json && flags.output && flags.output !== 'json')
      conflict('--json', `-o ${flags.output}`, '--json is -o json; give one of them');
    if (flags['no-color'] && flags.color && flags.color !== 'never')
      conflict('--no-color', `--color ${flags.color}`, 'give one of them');
    if (flags.snapshot && flags.context)
      conflict('--snapshot', '--context', 'a snapshot is read offline, a context names a live cluster');
    if (flags.snapshot && flags.kubeconfig)
      conflict('--snapshot', '--kubeconfig', 'a snapshot is read offline, a kubeconfig names a live cluster');
    if (flags['all-namespaces'] && flags.namespace && this.ctor.flags?.namespace)
      conflict('-A', '-n', '-A reads every namespace, -n one of them');
    configureColor({ color: flags['no-color'] ? 'never' : (flags.color as ColorMode | undefined) });
  }

  /**
   * Builds the model from --snapshot, or from the live cluster through the Kubernetes API.
   * Live, namespaced kinds are read from -n (or the context namespace), plus `scope`: every
   * namespace for cluster-wide questions, or the namespaces the command's targets name.
   */
  protected async loadCluster(
    flags: ClusterFlags,
    kinds: ObjectKind[],
    scope: LoadScope = {},
  ): Promise<LoadedCluster> {
    const { buildModel } = await import('../model/build.js');
    if (flags.snapshot) {
      const { readBundle } = await import('../sources/bundle/read.js');
      const { bundleModel } = await import('../sources/bundle/model.js');
      const bundle = await readBundle(flags.snapshot);
      const loaded = {
        model: bundleModel(bundle, inputWarnings()),
        namespace: flags.namespace ?? 'default',
        origin: `bundle ${bundle.location}`,
      };
      if (flags.namespace) {
        const { requireNamespace } = await import('../analyses/targets.js');
        requireNamespace(loaded.model, flags.namespace, loaded.origin);
      }
      return loaded;
    }
    // The Kubernetes client loads only here, never for a bundle.
    const { readLiveCluster, DEFAULT_OPTIONAL } = await import('../sources/kube/read.js');
    const live = await readLiveCluster({
      optional: [...DEFAULT_OPTIONAL, ...(scope.optional ?? [])],
      kubeconfig: flags.kubeconfig,
      context: flags.context,
      namespace: flags.namespace,
      allNamespaces: Boolean(flags['all-namespaces'] || scope.allNamespaces),
      namespaces: scope.targets ? await targetNamespaces(scope.targets) : undefined,
      path: scope.trace ? await tracePath(scope.trace) : undefined,
      kinds,
      progress: process.stderr.isTTY ? (msg: string) => process.stderr.write(`\r\x1b[2K${msg}`) : undefined,
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
    for (const w of live.warnings ?? [])
      process.stderr.write(`knet: warning: ${toTerminalText(escapeTerminal(w))}\n`);
    const loaded = {
      model: buildModel(live.raws, undefined, live.coverage, inputWarnings()),
      namespace: flags.namespace ?? live.defaultNamespace,
      origin: `context ${live.context}`,
      live,
    };
    // Live, -n is checked only when the namespaces were listed (RBAC may hide them).
    if (flags.namespace && live.raws.some((r) => (r as { kind?: string }).kind === 'Namespace')) {
      const { requireNamespace } = await import('../analyses/targets.js');
      requireNamespace(loaded.model, flags.namespace, loaded.origin);
    }
    return loaded;
  }

  /** A one-line remark on stderr (which pod a workload became…), as the terminal can show it. */
  protected note(text: string): void {
    process.stderr.write(`knet: ${toTerminalText(text)}\n`);
  }

  /**
   * Prints a document as JSON/YAML, or the human form: one text, or pieces of whole lines
   * written as they are made (a long table is never held whole).
   */
  protected async emit(
    format: OutputFormat,
    doc: object,
    human: () => string | Iterable<string> | Promise<string>,
  ): Promise<void> {
    clearProgress();
    if (format === 'json') return writeOut(jsonPieces(doc));
    if (format === 'yaml') {
      process.stdout.write(await renderYaml(doc));
      return;
    }
    // Human output shows the control characters of cluster strings instead of obeying them
    // (line by line: neither a colour sequence nor a shown character spans a line break).
    const text = await human();
    const shown = (t: string) => toTerminalText(escapeTerminalText(t, c().level > 0));
    if (typeof text === 'string') process.stdout.write(shown(text));
    else await writeOut(mapPieces(text, shown));
  }

  /**
   * The object the command was asked about does not exist (its *_NOT_FOUND finding names it):
   * the command could not answer, exit 2 with one line that names it and the closest names.
   */
  protected async failIfMissing(findings: readonly Finding[], ref: string): Promise<void> {
    const { NOT_FOUND_CODES } = await import('../analyses/targets.js');
    const f = findings.find((x) => NOT_FOUND_CODES.has(x.code) && x.objects[0] === ref);
    if (f) throw new UserError(f.message.replace(/\.$/, ''));
  }

  override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<void> {
    // 2, or a UserError's own code (130: interrupted).
    process.exitCode = err instanceof UserError ? err.exitCode : 2;
    clearProgress();
    if (this.debugMode || process.argv.includes('--debug')) {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      return;
    }
    // The message may span lines (the usage line): each line is escaped on its own.
    const message = describeError(err, this.usage())
      .split('\n')
      .map((line) => toTerminalText(escapeTerminal(line)))
      .join('\n');
    process.stderr.write(`knet: ${message}\n`);
  }

  /** The command's usage line and where to read more, for argument and flag errors. */
  private usage(): UsageContext {
    const bin = this.config.bin;
    const args = Object.entries(this.ctor.args ?? {}).map(([name, a]) =>
      a.required ? name.toUpperCase() : `[${name.toUpperCase()}]`,
    );
    return {
      line: `usage: ${bin} ${this.id ?? ''} ${[...args, '[flags]'].join(' ')} (${bin} help ${this.id ?? ''})`.replace(
        /\s+/g,
        ' ',
      ),
      flags: Object.entries(this.ctor.flags ?? {})
        .filter(([, f]) => !f.hidden)
        .map(([name]) => `--${name}`),
    };
  }
}

export interface UsageContext {
  /** "usage: knet trace SOURCE DESTINATION [flags] (knet help trace)" */
  line: string;
  /** The command's flags, for did-you-mean. */
  flags: string[];
}

/** Warnings about the input (an object skipped, an address dropped): the first 20 on stderr. */
export function inputWarnings(limit = 20): (message: string) => void {
  let n = 0;
  return (message) => {
    n++;
    if (n <= limit) process.stderr.write(`knet: warning: ${toTerminalText(escapeTerminal(message))}\n`);
    else if (n === limit + 1) process.stderr.write('knet: warning: more input warnings left out\n');
  };
}

/** One line that says what went wrong (and, for internal errors, how to see more). */
export function describeError(err: Error & { oclif?: { exit?: number } }, usage?: UsageContext): string {
  if (err instanceof UserError || err instanceof ParseError) return err.message;
  if (err.oclif && usage && 'parse' in err) {
    // A parse error (missing argument, unknown flag, bad value): all of oclif's message in one
    // line, a did-you-mean for a mistyped flag, then the usage line.
    const lines = err.message
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^See more help with/i.test(l));
    let text = lines.join(' ').replace(/^Error: /, '');
    const required = (err as { args?: { name: string; description?: string }[] }).args;
    if (/^Missing \d+ required arg/.test(text) && required?.length) {
      const list = required.map(
        (a) => `${a.name.toUpperCase()}${a.description ? ` (${a.description})` : ''}`,
      );
      text = `missing ${required.length === 1 ? 'argument' : 'arguments'} ${list.join(' and ')}`;
    }
    const flag = /^Nonexistent flags?: (\S+?)(,|$)/.exec(text);
    if (flag) {
      const close = closeNames(flag[1], usage.flags, 2);
      text = `unknown flag ${text.replace(/^Nonexistent flags?: /, '')}${close.length ? `: did you mean ${close.join(' or ')}?` : ''}`;
    }
    return `${text}\n${usage.line}`;
  }
  if (err.oclif) {
    // oclif may open with a header line ("The following error occurred:"): take the first real one.
    const lines = err.message
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^The following errors? occurred:?$/i.test(l) && !/^See more help with/i.test(l));
    return (lines[0] ?? err.message).replace(/^Error: /, '');
  }
  return `internal error: ${err.message} (run with --debug for details)`;
}
