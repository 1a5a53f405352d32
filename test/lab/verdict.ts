// The knet side of the fault matrix: what `knet trace SOURCE DESTINATION` answers on a bundle
// captured from the lab while a fault is in place, through the same calls as the command
// (src/commands/trace.ts): read the bundle, build the model, parse the targets, trace.
//
// The matrix (fault-matrix.test.ts) still lists the comparisons as todos: knet trace is being
// written; once it is final, each todo becomes
//   expect(await knetVerdict(bundle, `pod/${f.probe.from}`, f.probe.target))
//     .toMatchObject({ verdict: f.verdict, findings: expect.arrayContaining([f.finding]) })
import { traceConnection } from '../../src/analyses/trace/trace.js';
import { parseTarget } from '../../src/core/target-grammar.js';
import { buildModel } from '../../src/model/build.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import type { TraceVerdict } from './faults.js';

export interface KnetVerdict {
  verdict: TraceVerdict;
  /** Finding codes of the trace, in the order knet reports them. */
  findings: string[];
  /** Every hop of every path, in order (`kind`, `node`, `status`). */
  hops: { kind: string; node?: string; status: string }[];
}

export async function knetVerdict(
  bundle: string,
  source: string,
  destination: string,
  protocol?: 'TCP' | 'UDP',
): Promise<KnetVerdict> {
  const b = await readBundle(bundle);
  const model = buildModel(b.raws, b.nodeFiles);
  const result = traceConnection(model, {
    source: parseTarget(source, 'default', ['pod', 'node', 'ip']),
    destination: parseTarget(destination, 'default', ['pod', 'svc', 'node', 'ip']),
    protocol,
  });
  return {
    verdict: result.verdict,
    findings: result.findings.map((f) => f.code),
    hops: result.paths.flatMap((p) => p.hops.map((h) => ({ kind: h.kind, node: h.node, status: h.status }))),
  };
}
