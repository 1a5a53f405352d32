// One progress line on stderr for long work (reading a large bundle, doctor's checks), with
// counts: "reading pods 40,000/150,000". Only on a terminal, only once the work has taken
// about a second, redrawn at most ten times a second, and erased before the output is
// written. KNET_NO_PROGRESS=1 turns it off (tests, screen recordings).

import { setProgressSink } from '../core/progress.js';

const SHOW_AFTER_MS = 1000;
const REDRAW_MS = 100;

const count = (n: number) => n.toLocaleString('en-US');

export class Progress {
  private readonly enabled: boolean;
  private started = 0;
  private drawn = 0;
  private visible = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.enabled = Boolean(out.isTTY) && !/^(1|true|yes)$/i.test(process.env.KNET_NO_PROGRESS ?? '');
    if (this.enabled) process.once('exit', () => this.clear());
  }

  /** What is being done now; `done` of `total` when counted. Cheap when nothing is drawn. */
  // (arrow functions: handed around as callbacks, e.g. doctor's onProgress)
  readonly set = (label: string, done?: number, total?: number): void => {
    if (!this.enabled) return;
    const now = Date.now();
    if (this.started === 0) this.started = now;
    if (now - this.started < SHOW_AFTER_MS || now - this.drawn < REDRAW_MS) return;
    this.drawn = now;
    const counts =
      done === undefined ? '' : ` ${count(done)}${total === undefined ? '' : `/${count(total)}`}`;
    const line = `${label}${counts}`.slice(0, Math.max(20, (this.out.columns || 80) - 1));
    this.out.write(`\r\x1b[2K${line}`);
    this.visible = true;
  };

  /** Erases the line (before the output, or an error, is written). */
  readonly clear = (): void => {
    if (!this.visible) return;
    this.out.write('\r\x1b[2K');
    this.visible = false;
  };
}

let current: Progress | undefined;

/** The process's progress line. */
export function progress(): Progress {
  current ??= new Progress();
  return current;
}

/** Progress reported by any layer (core/progress.ts) is drawn on this process's line. */
export function showProgress(): void {
  setProgressSink(progress().set);
}

/** Erases the progress line if one is shown (a no-op otherwise). */
export function clearProgress(): void {
  current?.clear();
}
