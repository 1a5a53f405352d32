// doctor -A with its node checks on a second core (opt-in: KNET_DOCTOR_WORKER=on). A worker
// thread opens the same bundle and runs each node's checks (kube-proxy drift and node health:
// two 56 MB rule dumps at 5,000 nodes, ~5 s of CPU) while this thread reads the objects and
// runs the other checks. The report is the same as with one thread: node results are taken in
// doctor's order, an error in a node's check is raised in that check's turn, and if the worker
// fails (its heap is capped: WORKER_HEAP_MB) this thread runs the node checks it did not finish.
//
// Not the default: measured on the 2-core bench machine at 5,000 nodes (issue 25), the worker
// brought doctor from ~2 × to ~1.6 × the floor while every pod was parsed from the object
// files; since the digest (knet-objects.jsonl) it ends level with one thread (7.5–8.6 s against
// 7.4–8.3 s, same sitting) for ~3 s more CPU (the worker reads Services, EndpointSlices and
// Nodes again; two heaps to collect) and ~180 MB more peak RSS (0.95–0.96 GB, at the 1 GB
// limit). Where cores are spare it overlaps the drift check with the read; docs/performance.md.
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { checkNodeFiles, type NodeCheckRequest, type NodeCheckResult } from '../analyses/doctor.js';
import { ParseError, UserError } from '../core/errors.js';
import type { Finding } from '../findings/types.js';
import type { ClusterModel } from '../model/cluster.js';
import { resolveBundlePath } from '../sources/bundle/read.js';

/** What the worker is given (structured-clone data). */
export interface DoctorWorkerInput {
  location: string;
}

/** An error as data: the classes knet prints as one line keep their class. */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  file?: string;
  line?: number;
  exitCode?: number;
}

export type ResultData = { findings: Finding[] } | { error: ErrorData };

/** The worker's messages: each node's results in doctor's order, or why it stopped. */
export type DoctorWorkerMessage =
  | { node: string; proxy: ResultData; health?: ResultData }
  | { failed: ErrorData };

export function errorData(err: unknown): ErrorData {
  const e = (err instanceof Error ? err : new Error(String(err))) as Error & {
    file?: string;
    line?: number;
    exitCode?: number;
  };
  return {
    name: e.name,
    message: e.message,
    stack: e.stack,
    file: e.file,
    line: e.line,
    exitCode: e.exitCode,
  };
}

export function toData(result: Finding[] | Error): ResultData {
  return result instanceof Error ? { error: errorData(result) } : { findings: result };
}

function fromData(data: ResultData): Finding[] | Error {
  if ('findings' in data) return data.findings;
  const d = data.error;
  const proto =
    d.name === 'ParseError'
      ? ParseError.prototype
      : d.name === 'UserError'
        ? UserError.prototype
        : Error.prototype;
  const e = Object.create(proto) as Error;
  Object.assign(e, { message: d.message, name: d.name, stack: d.stack });
  if (d.file !== undefined) Object.assign(e, { file: d.file, line: d.line });
  if (d.exitCode !== undefined) Object.assign(e, { exitCode: d.exitCode });
  return e;
}

/**
 * The worker's old generation, in MB: its live data at 5,000 nodes is ~250 MB (Services,
 * EndpointSlices, Nodes, one node's rules); without a cap V8 lets garbage grow it past 800 MB
 * while the main thread holds ~500 MB (the limit of issue 25 is 1 GB for the process).
 */
const WORKER_HEAP_MB = 384;

export interface DoctorWorker {
  /** One node's results, in doctor's order (runDoctorWith). */
  check(request: NodeCheckRequest): Promise<NodeCheckResult>;
  close(): Promise<void>;
}

/**
 * Starts the worker for doctor -A when asked to (KNET_DOCTOR_WORKER=on), on a bundle directory
 * with node files. Only with -A: this thread then reads every object the node checks read, and
 * says their input warnings. Undefined: doctor runs in this thread alone (runDoctor).
 */
export function startDoctorWorker(location: string, model: ClusterModel): DoctorWorker | undefined {
  if (process.env.KNET_DOCTOR_WORKER !== 'on' || model.nodeFiles.nodes().length === 0) return undefined;
  const entry = fileURLToPath(new URL('./doctor-worker-thread.js', import.meta.url));
  try {
    // A .tar.gz is held in memory (a second copy is not worth it); from sources (tests) there
    // is no built worker to start.
    if (!statSync(resolveBundlePath(location)).isDirectory() || !statSync(entry).isFile()) return undefined;
  } catch {
    return undefined;
  }
  const input: DoctorWorkerInput = { location };
  const worker = new Worker(entry, {
    workerData: input,
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
  });
  const results = new Map<string, DoctorWorkerMessage>();
  let gone = false;
  let wake: (() => void) | undefined;
  const ready = (test: () => boolean) =>
    new Promise<void>((resolve) => {
      wake = () => {
        if (!test() && !gone) return;
        wake = undefined;
        resolve();
      };
      wake();
    });
  worker.on('message', (m: DoctorWorkerMessage) => {
    if ('failed' in m) gone = true;
    else results.set(m.node, m);
    wake?.();
  });
  const stop = () => {
    gone = true;
    wake?.();
  };
  worker.on('error', stop);
  worker.on('exit', stop);

  let touched = false;
  return {
    async check(request) {
      if (!touched) {
        // What the node checks read that doctor's other checks may not have, read in the same
        // turn as when they run in this thread (input warnings come in the same order).
        touched = true;
        void model.daemonSets;
        void model.configMaps;
      }
      await ready(() => results.has(request.node));
      const m = results.get(request.node);
      results.delete(request.node);
      if (!m || !('proxy' in m)) return checkNodeFiles(model, request, undefined);
      return { proxy: fromData(m.proxy), health: m.health && fromData(m.health) };
    },
    async close() {
      worker.removeAllListeners();
      await worker.terminate();
    },
  };
}
