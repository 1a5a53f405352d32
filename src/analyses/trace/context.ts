import { FindingCollector } from '../../findings/collector.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';

/** What one trace accumulates: findings (each once) and notes for the reader. */
export class TraceContext {
  readonly findings = new FindingCollector();
  readonly notes: string[] = [];

  constructor(readonly model: ClusterModel) {}

  /** Records a finding once (same code, message) and returns its code for the hop. */
  add(f: Finding): string {
    return this.findings.add(f);
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
