// Progress of long work, reported by any layer (reading a bundle, doctor's checks) without
// knowing how it is shown: the CLI installs a sink (render/progress.ts draws it on a terminal);
// without one, reporting costs a function call.

export type ProgressSink = (label: string, done?: number, total?: number) => void;

let sink: ProgressSink | undefined;

/** Where progress goes from now on (undefined: nowhere). */
export function setProgressSink(next: ProgressSink | undefined): void {
  sink = next;
}

/** What is being done now; `done` of `total` when counted. */
export function reportProgress(label: string, done?: number, total?: number): void {
  sink?.(label, done, total);
}
