// Where a simulated packet enters a node when --entry is not given (analyses/proxy/simulate.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNodeProxy, nodesWithProxyRules, packetEntry } from '../../src/analyses/proxy/simulate.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { readBundle } from '../../src/sources/bundle/read.js';

let model: ClusterModel;
beforeAll(async () => {
  const b = await readBundle('demo');
  model = buildModel(b.raws, b.nodeFiles);
});

describe('packetEntry', () => {
  it('a node address or loopback is local, a pod IP a pod, anything else the uplink', () => {
    const rules = loadNodeProxy(model, 'demo-worker');
    expect(rules).toBeDefined();
    const nodeIP = model.node('demo-worker')!.internalIPs[0];
    const podIP = model.pods.find((p) => p.nodeName === 'demo-worker' && !p.hostNetwork && p.ips.length)!
      .ips[0];
    expect(packetEntry(model, rules!, nodeIP)).toBe('local');
    expect(packetEntry(model, rules!, '127.0.0.1')).toBe('local');
    expect(packetEntry(model, rules!, podIP)).toBe('pod');
    expect(packetEntry(model, rules!, '203.0.113.9')).toBe('external');
  });

  it('the nodes with kube-proxy dumps are those whose rules load', () => {
    const nodes = nodesWithProxyRules(model);
    expect(nodes).toContain('demo-worker');
    expect(nodes.every((n) => loadNodeProxy(model, n))).toBe(true);
  });
});
