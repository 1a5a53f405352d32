// knet doctor on a cluster where everything is broken at once: 150,000 findings of one code
// must be listed (no call-stack overflow from spreading them) and stay linear.
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/analyses/doctor.js';
import { buildModel } from '../../src/model/build.js';
import type { Raw } from '../../src/model/normalize.js';

describe('doctor at scale', () => {
  it('lists 150,000 POD_NOT_READY findings', () => {
    const raws: Raw[] = [
      {
        kind: 'Node',
        metadata: { name: 'n1' },
        spec: { podCIDR: '10.0.0.0/8' },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
    ];
    for (let i = 0; i < 150_000; i++) {
      raws.push({
        kind: 'Pod',
        metadata: { namespace: `ns-${i % 50}`, name: `p-${i}`, labels: { app: `a-${i % 1000}` } },
        spec: { nodeName: 'n1', containers: [{ name: 'c' }] },
        status: {
          phase: 'Running',
          podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          conditions: [{ type: 'Ready', status: 'False' }],
          containerStatuses: [{ name: 'c', ready: false, state: { running: {} } }],
        },
      });
    }
    const t0 = performance.now();
    const report = runDoctor(buildModel(raws), { only: ['POD_NOT_READY'] });
    expect(report.findings).toHaveLength(150_000);
    expect(report.summary.warnings).toBe(150_000);
    expect(report.checks.find((c) => c.name === 'pods')?.findings).toBe(150_000);
    expect(performance.now() - t0).toBeLessThan(60_000);
  });
});
