// The kernel against knet, in network namespaces this test builds (root only): for egress, a
// pod's connection to an outside address succeeds exactly when knet says a masquerade rule
// applies (and the peer sees the address knet names); for MTU, a full-size packet from a pod
// reaches the pod on the other node exactly when knet reports no MTU_MISMATCH; for rp_filter,
// a client's connection to a node's second uplink completes exactly when knet reports no
// RP_FILTER_STRICT. With
// KNET_WRITE_FIXTURES=1 the captures replace test/fixtures/edges/{egress,mtu,rp-filter}/.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { egressPlan } from '../../src/analyses/node-health/egress.js';
import { mtuFindings, rpFilterFindings } from '../../src/analyses/node-health/health.js';
import { isRoot } from '../support/root.js';
import {
  buildEgressLab,
  buildMtuLab,
  buildRpFilterLab,
  type EgressVariant,
  type Lab,
  MTU_VARIANTS,
  probeEgress,
  probeMtu,
  probeRpFilter,
  RP_VARIANTS,
  writeFiles,
} from './lab.js';
import { egressModel, FIXTURES, mtuModel, type NodeFileMap, rpModel } from './models.js';

if (!isRoot) console.warn('test/edges/dataplane.live.test.ts: skipped (needs root for network namespaces)');

const write = process.env.KNET_WRITE_FIXTURES === '1';
const labs: Lab[] = [];
afterAll(() => {
  for (const lab of labs.splice(0)) lab.destroy();
});

function prefixed(prefix: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${prefix}${k}`, v]));
}

describe.skipIf(!isRoot)('egress from a pod, kernel vs knet', () => {
  const variants: EgressVariant[] = ['masquerade', 'no-masquerade', 'forward-drop'];
  for (const variant of variants) {
    it(`${variant}`, async () => {
      const e = buildEgressLab(variant);
      labs.push(e.lab);
      try {
        const kernel = await probeEgress(e);
        const files: NodeFileMap = {
          'node-1': { ...e.lab.captureNode(e.node), ...prefixed('pods/shop_web/', e.lab.capturePod(e.pod)) },
        };
        if (write) writeFiles(path.join(FIXTURES, 'egress', variant, 'nodes', 'node-1'), files['node-1']);
        const model = egressModel(files);
        const plan = egressPlan(model, model.pod('shop', 'web')!, {
          destination: '203.0.113.10',
          port: 8080,
        });
        const broken = plan.hops.some((h) => h.status === 'broken');
        // The peer has no route back to the pod CIDR: only a masqueraded connection completes.
        expect(kernel.outcome === 'connected', JSON.stringify({ kernel, plan })).toBe(
          plan.masquerade === true && !broken,
        );
        if (kernel.outcome === 'connected') {
          expect(kernel.seenFrom.map((a) => a.replace(/^::ffff:/, ''))).toEqual([plan.translatedSource]);
          expect(plan.masqueradeRule).toMatch(/-j MASQUERADE/);
        }
        const codes = plan.findings.map((f) => f.code);
        if (variant === 'no-masquerade') expect(codes).toContain('EGRESS_NOT_MASQUERADED');
        if (variant === 'forward-drop') expect(codes).toContain('FILTER_DROP');
      } finally {
        e.lab.destroy();
      }
    });
  }
});

describe.skipIf(!isRoot)('MTU between pods on two VXLAN nodes, kernel vs knet', () => {
  for (const variant of MTU_VARIANTS) {
    it(`${variant.name} (pod ${variant.podMtu}, vxlan ${variant.vxlanMtu}, underlay ${variant.underlayMtu})`, async () => {
      const m = buildMtuLab(variant);
      labs.push(m.lab);
      try {
        const received = await probeMtu(m, variant.podMtu);
        const full = variant.podMtu - 28;
        // The small datagram always arrives: the path works, only its size is at stake.
        expect(received).toContain(100);
        const delivered = received.filter((s) => s === full).length === 2;
        const files: NodeFileMap = {
          'node-a': {
            ...m.lab.captureNode(m.nodes.a),
            ...prefixed('pods/shop_a/', m.lab.capturePod(m.pods.a)),
          },
          'node-b': {
            ...m.lab.captureNode(m.nodes.b),
            ...prefixed('pods/shop_b/', m.lab.capturePod(m.pods.b)),
          },
        };
        if (write) {
          for (const node of ['node-a', 'node-b'])
            writeFiles(path.join(FIXTURES, 'mtu', variant.name, 'nodes', node), files[node]);
        }
        const findings = mtuFindings(mtuModel(files), 'node-a');
        expect(findings.length === 0, JSON.stringify({ received, findings })).toBe(delivered);
      } finally {
        m.lab.destroy();
      }
    });
  }
});

describe.skipIf(!isRoot)('rp_filter on a node with two uplinks, kernel vs knet', () => {
  for (const variant of RP_VARIANTS) {
    it(variant, async () => {
      const r = buildRpFilterLab(variant);
      labs.push(r.lab);
      try {
        const outcome = await probeRpFilter(r);
        const files: NodeFileMap = { 'node-1': r.lab.captureNode(r.node) };
        if (write) writeFiles(path.join(FIXTURES, 'rp-filter', variant, 'nodes', 'node-1'), files['node-1']);
        const findings = rpFilterFindings(rpModel(files), 'node-1');
        expect(findings.length === 0, JSON.stringify({ outcome, findings })).toBe(outcome === 'connected');
        expect(['connected', 'timeout']).toContain(outcome);
      } finally {
        r.lab.destroy();
      }
    });
  }
});
