// The pod's resolver configuration (kubelet rules per dnsPolicy) and the glibc search walk.
import { describe, expect, it } from 'vitest';
import {
  expandQueries,
  kubeletResolvConf,
  resolverConfigFor,
  searchPlan,
} from '../../src/analyses/dns/search.js';
import { walkSearch } from '../../src/core/dns.js';
import { buildModel } from '../../src/model/build.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import type { Raw } from '../../src/model/normalize.js';
import { testBundle } from './bundle.js';

function podRaw(name: string, spec: Raw): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'app', name },
    spec: { nodeName: 'node-1', containers: [{ name: 'c' }], ...spec },
    status: { phase: 'Running', podIP: '10.244.1.99' },
  };
}

const NODE_RESOLV = 'nameserver 192.0.2.53\nsearch corp.example lab.example\noptions timeout:1 edns0\n';

function setup(spec: Raw, nodeResolv?: string) {
  const files = memoryNodeFiles(nodeResolv ? { 'node-1': { 'resolv.conf': nodeResolv } } : {});
  const model = buildModel([...testBundle(), podRaw('p', spec)], files);
  return { model, pod: model.pod('app', 'p')! };
}

describe('kubeletResolvConf', () => {
  it('ClusterFirst: kube-dns IP, cluster search list + node search, ndots:5 (node options dropped)', () => {
    const { model, pod } = setup({}, NODE_RESOLV);
    const c = kubeletResolvConf(model, pod);
    expect(c.nameservers).toEqual(['10.96.0.10']);
    expect(c.search).toEqual([
      'app.svc.cluster.local',
      'svc.cluster.local',
      'cluster.local',
      'corp.example',
      'lab.example',
    ]);
    expect(c.options).toEqual({ ndots: '5' });
    expect(c.ndots).toBe(5);
    expect(c.unknown).toEqual([]);
  });

  it('ClusterFirst without the node file says what it cannot know', () => {
    const { model, pod } = setup({});
    const c = kubeletResolvConf(model, pod);
    expect(c.search).toEqual(['app.svc.cluster.local', 'svc.cluster.local', 'cluster.local']);
    expect(c.unknown[0]).toMatch(/the node's search domains/);
  });

  it('ClusterFirst with hostNetwork falls back to Default', () => {
    const { model, pod } = setup({ hostNetwork: true }, NODE_RESOLV);
    const c = kubeletResolvConf(model, pod);
    expect(c.nameservers).toEqual(['192.0.2.53']);
    expect(c.search).toEqual(['corp.example', 'lab.example']);
    expect(c.ndots).toBe(1);
    expect(c.origin).toMatch(/hostNetwork falls back to Default/);
  });

  it('ClusterFirstWithHostNet keeps the cluster DNS', () => {
    const { model, pod } = setup({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, NODE_RESOLV);
    const c = kubeletResolvConf(model, pod);
    expect(c.nameservers).toEqual(['10.96.0.10']);
    expect(c.ndots).toBe(5);
  });

  it('Default copies the node file; without it everything is unknown', () => {
    const withFile = setup({ dnsPolicy: 'Default' }, NODE_RESOLV);
    expect(kubeletResolvConf(withFile.model, withFile.pod).options).toEqual({ timeout: '1', edns0: true });
    const without = setup({ dnsPolicy: 'Default' });
    const c = kubeletResolvConf(without.model, without.pod);
    expect(c.nameservers).toEqual([]);
    expect(c.unknown[0]).toMatch(/node's resolv.conf/);
  });

  it('None takes dnsConfig only; dnsConfig merges over other policies', () => {
    const none = setup({
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['1.2.3.4'],
        searches: ['ns1.svc.cluster-domain.example'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
      },
    });
    const c = kubeletResolvConf(none.model, none.pod);
    expect(c).toMatchObject({
      nameservers: ['1.2.3.4'],
      search: ['ns1.svc.cluster-domain.example'],
      ndots: 2,
    });
    expect(c.options).toEqual({ ndots: '2', edns0: true });
    const merged = setup({
      dnsConfig: {
        nameservers: ['10.96.0.10', '9.9.9.9'],
        searches: ['cluster.local', 'extra.example'],
        options: [{ name: 'ndots', value: '1' }],
      },
    });
    const m = kubeletResolvConf(merged.model, merged.pod);
    expect(m.nameservers).toEqual(['10.96.0.10', '9.9.9.9']);
    expect(m.search).toEqual([
      'app.svc.cluster.local',
      'svc.cluster.local',
      'cluster.local',
      'extra.example',
    ]);
    expect(m.ndots).toBe(1);
  });

  it('keeps at most 3 nameservers, with a warning', () => {
    const { model, pod } = setup({
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'] },
    });
    const c = kubeletResolvConf(model, pod);
    expect(c.nameservers).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    expect(c.warnings[0]).toMatch(/4\.4\.4\.4 dropped/);
  });

  it('prefers the pod’s own resolv.conf from the bundle', () => {
    const files = memoryNodeFiles({
      'node-1': { 'pods/app_p/resolv.conf': 'nameserver 10.96.0.10\nsearch x.example\noptions ndots:3\n' },
    });
    const model = buildModel([...testBundle(), podRaw('p', {})], files);
    const c = resolverConfigFor(model, model.pod('app', 'p')!);
    expect(c).toMatchObject({
      source: 'file',
      search: ['x.example'],
      ndots: 3,
      origin: 'nodes/node-1/pods/app_p/resolv.conf',
    });
  });
});

describe('expandQueries (glibc order)', () => {
  const conf = {
    search: ['app.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
    ndots: 5,
  };
  it.each([
    [
      'svc-b',
      [
        'svc-b.app.svc.cluster.local',
        'svc-b.svc.cluster.local',
        'svc-b.cluster.local',
        'svc-b.corp.example',
        'svc-b',
      ],
    ],
    [
      'svc-b.other-ns.svc.cluster.local',
      [
        'svc-b.other-ns.svc.cluster.local.app.svc.cluster.local',
        'svc-b.other-ns.svc.cluster.local.svc.cluster.local',
        'svc-b.other-ns.svc.cluster.local.cluster.local',
        'svc-b.other-ns.svc.cluster.local.corp.example',
        'svc-b.other-ns.svc.cluster.local',
      ],
    ],
    ['svc-b.other-ns.svc.cluster.local.', ['svc-b.other-ns.svc.cluster.local']],
    [
      'a.b.c.d.example.com',
      [
        'a.b.c.d.example.com',
        'a.b.c.d.example.com.app.svc.cluster.local',
        'a.b.c.d.example.com.svc.cluster.local',
        'a.b.c.d.example.com.cluster.local',
        'a.b.c.d.example.com.corp.example',
      ],
    ],
    [
      'Web.Example.COM',
      [
        'web.example.com.app.svc.cluster.local',
        'web.example.com.svc.cluster.local',
        'web.example.com.cluster.local',
        'web.example.com.corp.example',
        'web.example.com',
      ],
    ],
  ])('%s', (name, want) => {
    expect(expandQueries(name, conf)).toEqual(want);
  });

  it('says where the name as-is sits', () => {
    expect(searchPlan('svc-b', conf)).toMatchObject({ asIsFirst: false, asIsLast: true });
    expect(searchPlan('a.b.c.d.e.f', conf)).toMatchObject({ asIsFirst: true, asIsLast: false });
    expect(searchPlan('x.', conf)).toMatchObject({ queries: ['x'], asIsFirst: false, asIsLast: false });
  });

  it('with ndots:1 a dotted name goes as-is first; with no search list only as-is', () => {
    expect(expandQueries('a.b', { search: ['x.example'], ndots: 1 })).toEqual(['a.b', 'a.b.x.example']);
    expect(expandQueries('host', { search: [], ndots: 1 })).toEqual(['host']);
  });
});

describe('walkSearch', () => {
  it('goes past NXDOMAIN, NODATA and SERVFAIL; stops at an answer', () => {
    const outcomes: Record<string, string> = {
      a: 'nxdomain',
      b: 'nodata',
      c: 'servfail',
      d: 'answer',
      e: 'answer',
    };
    const w = walkSearch(['a', 'b', 'c', 'd', 'e'], (n) => outcomes[n] as 'answer');
    expect(w.answeredBy).toBe('d');
    expect(w.steps.map((s) => s.sent)).toEqual([true, true, true, true, false]);
  });

  it('gives up at no response or REFUSED, as glibc does', () => {
    const w = walkSearch(['a', 'b', 'c'], (n) =>
      n === 'a' ? 'nxdomain' : n === 'b' ? 'no-response' : 'answer',
    );
    expect(w.answeredBy).toBeUndefined();
    expect(w.stoppedBy).toBe('b');
    expect(w.steps[2].sent).toBe(false);
    expect(walkSearch(['a', 'b'], (n) => (n === 'a' ? 'error' : 'answer')).stoppedBy).toBe('a');
  });

  it('still tries the name as-is last after leaving the list; an as-is-first failure does not stop', () => {
    const last = walkSearch(['a.x', 'a.y', 'a.z', 'a'], (n) => (n === 'a.y' ? 'error' : 'nxdomain'), {
      asIsLast: true,
    });
    expect(last.steps.map((s) => s.sent)).toEqual([true, true, false, true]);
    expect(last.stoppedBy).toBe('a.y');
    const first = walkSearch(['a.b.c', 'a.b.c.x'], (n) => (n === 'a.b.c' ? 'error' : 'answer'), {
      asIsFirst: true,
    });
    expect(first.answeredBy).toBe('a.b.c.x');
  });

  it('marks a walk through an undecidable step as conditional', () => {
    const w = walkSearch(['x.corp.example', 'x'], (n) => (n === 'x' ? 'answer' : 'unknown'));
    expect(w).toMatchObject({ answeredBy: 'x', conditional: true });
  });
});
