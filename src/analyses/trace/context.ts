import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';

/** What one trace accumulates: findings (each once) and notes for the reader. */
export class TraceContext {
  readonly findings: Finding[] = [];
  readonly notes: string[] = [];
  private readonly seen = new Set<string>();

  constructor(readonly model: ClusterModel) {}

  /** Records a finding once (same code, message) and returns its code for the hop. */
  add(f: Finding): string {
    const key = `${f.code}\u0000${f.message}`;
    if (!this.seen.has(key)) {
      this.seen.add(key);
      this.findings.push(f);
    }
    return f.code;
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** Pods whose own netfilter rules were not in the bundle and were taken as empty. */
  readonly assumedNoRules: string[] = [];

  assumeNoRules(pod: string): void {
    if (!this.assumedNoRules.includes(pod)) this.assumedNoRules.push(pod);
  }
}
