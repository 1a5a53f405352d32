import { beforeAll, describe, expect, it } from 'vitest';
import { diagnoseProxyDrift, servicePortDrift } from '../../src/analyses/proxy/drift.js';
import { proxyRuleRows } from '../../src/analyses/proxy/proxy-rules.js';
import { loadNodeProxy, nodesWithProxyRules, reloadNodeProxy } from '../../src/analyses/proxy/simulate.js';
import { collectFindings } from '../../src/findings/collector.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { bundleModel } from '../../src/sources/bundle/model.js';
import { readBundle } from '../../src/sources/bundle/read.js';

let demo: () => ClusterModel;
beforeAll(async () => {
  const bundle = await readBundle('demo');
  demo = () => bundleModel(bundle, () => {});
});

describe('proxyRuleRows', () => {
  it("gives each node's drift report row by row, then every node's findings", () => {
    const model = demo();
    const nodes = nodesWithProxyRules(model);
    expect(nodes.length).toBeGreaterThan(1);
    const reference = demo();
    const expected = nodes.map((n) => diagnoseProxyDrift(reference, n));
    const rows = proxyRuleRows(model, nodes);
    // Node by node: each node's rows are read before the next node is asked for.
    const got = [];
    for (const { services, staleChains, ...rest } of rows.nodes) {
      const list = [...services];
      got.push({ ...rest, services: list, staleChains: staleChains() });
    }
    expect(got).toEqual(expected.map(({ findings: _f, ...r }) => r));
    expect(got.some((n) => n.services.length > 0)).toBe(true);
    expect(rows.findings()).toEqual(
      collectFindings(
        expected.flatMap((r) => r.findings),
        reference,
      ),
    );
  });

  it('a node whose rows are left unread still gives its findings', () => {
    const model = demo();
    const nodes = nodesWithProxyRules(model);
    const rows = proxyRuleRows(model, nodes);
    for (const _ of rows.nodes);
    const reference = demo();
    expect(rows.findings()).toEqual(
      collectFindings(
        nodes.flatMap((n) => diagnoseProxyDrift(reference, n).findings),
        reference,
      ),
    );
  });
});

describe('reloadNodeProxy', () => {
  it('reads the dumps again (no chain parsed) and keeps the Service index', () => {
    const model = demo();
    const node = nodesWithProxyRules(model).find(
      (n) => loadNodeProxy(model, n)?.mode === 'iptables',
    ) as string;
    const rules = loadNodeProxy(model, node);
    if (!rules) throw new Error(`no rules for ${node}`);
    const sp = rules.index.ports[0];
    const before = servicePortDrift(model, rules, sp).row;
    const again = reloadNodeProxy(model, rules);
    expect(again).not.toBe(rules);
    expect(again.iptables).not.toBe(rules.iptables);
    expect(again.index).toBe(rules.index);
    expect(loadNodeProxy(model, node)).toBe(again);
    expect(servicePortDrift(model, again, sp).row).toEqual(before);
  });
});
