import { describe, expect, it } from 'vitest';
import { diagnoseService } from '../../src/analyses/endpoints/diagnose.js';
import type { ServiceDiagnosis } from '../../src/analyses/endpoints/types.js';
import { buildModel, flattenObjects } from '../../src/model/build.js';
import type { Raw } from '../../src/model/normalize.js';
import { rawList, rawNode } from '../support/objects.js';
import { endpoints, pod, replicaSet, service, slice } from './builders.js';

const NODES = [
  rawNode({ name: 'node-1', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24', 'fd00:10:244:1::/64'] }),
  rawNode({ name: 'node-2', ip: '172.18.0.3', podCIDRs: ['10.244.2.0/24', 'fd00:10:244:2::/64'] }),
];

function diagnose(
  items: Raw[],
  name = 'web',
  options: { port?: number | string; node?: string } = {},
  namespace = 'shop',
): ServiceDiagnosis {
  const model = buildModel(flattenObjects(rawList([...NODES, ...items])));
  return diagnoseService(model, namespace, name, options);
}
const codes = (d: ServiceDiagnosis) => d.findings.map((f) => f.code);
const errors = (d: ServiceDiagnosis) => d.findings.filter((f) => f.severity === 'error').map((f) => f.code);
const get = (d: ServiceDiagnosis, code: string) => {
  const f = d.findings.find((x) => x.code === code);
  if (!f) throw new Error(`no ${code} in ${codes(d).join(',')}`);
  return f;
};

const HTTP = [{ name: 'http', containerPort: 8080 }];
const web = (
  name: string,
  ip: string | string[] | undefined,
  extra: Partial<Parameters<typeof pod>[0]> = {},
) => pod({ name, ip, labels: { app: 'web' }, ports: HTTP, owner: 'web-7d9f8c6b5d', ...extra });

/** A healthy web service: 3 ready pods on 2 nodes, all in the slice. */
function healthy(): Raw[] {
  return [
    service({
      name: 'web',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    }),
    web('web-a', '10.244.1.4'),
    web('web-b', '10.244.1.5'),
    web('web-c', '10.244.2.6', { node: 'node-2' }),
    slice({
      service: 'web',
      endpoints: [
        { ip: '10.244.1.4', pod: 'web-a', node: 'node-1' },
        { ip: '10.244.1.5', pod: 'web-b', node: 'node-1' },
        { ip: '10.244.2.6', pod: 'web-c', node: 'node-2' },
      ],
    }),
  ];
}

describe('a healthy service', () => {
  it('reports its backends with resolved target ports and no finding', () => {
    const d = diagnose(healthy());
    expect(d.findings).toEqual([]);
    expect(d.service).toMatchObject({
      type: 'ClusterIP',
      clusterIPs: ['10.96.0.20'],
      selector: { app: 'web' },
    });
    expect(d.service?.ports[0]).toMatchObject({ targetPort: 'http', resolved: [{ port: 8080, pods: 3 }] });
    expect(
      d.backends.map((b) => [b.pod, b.ip, b.node, b.ready, b.port, b.targetPort, b.inEndpointSlices]),
    ).toEqual([
      ['web-a', '10.244.1.4', 'node-1', true, 'http', 8080, true],
      ['web-b', '10.244.1.5', 'node-1', true, 'http', 8080, true],
      ['web-c', '10.244.2.6', 'node-2', true, 'http', 8080, true],
    ]);
    expect(d.backends.every((b) => b.problems.length === 0 && b.origin === 'selector')).toBe(true);
  });

  it('gives one backend row per pod and service port', () => {
    const items = healthy();
    items[0] = service({
      name: 'web',
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http' },
        { name: 'metrics', port: 9090, targetPort: 9090 },
      ],
    });
    items[4] = slice({
      service: 'web',
      ports: [
        { name: 'http', port: 8080 },
        { name: 'metrics', port: 9090 },
      ],
      endpoints: [
        { ip: '10.244.1.4', pod: 'web-a' },
        { ip: '10.244.1.5', pod: 'web-b' },
        { ip: '10.244.2.6', pod: 'web-c' },
      ],
    });
    const d = diagnose(items);
    expect(d.backends).toHaveLength(6);
    // The pods declare only 8080: the numeric 9090 is a warning, never an error.
    expect(errors(d)).toEqual([]);
    expect(codes(d)).toEqual(['SVC_TARGET_PORT_UNDECLARED']);
    const metrics = diagnose(items, 'web', { port: 'metrics' });
    expect(metrics.backends.map((b) => b.targetPort)).toEqual([9090, 9090, 9090]);
    const byNumber = diagnose(items, 'web', { port: 80 });
    expect(byNumber.backends.map((b) => b.port)).toEqual(['http', 'http', 'http']);
  });
});

describe('SVC_NOT_FOUND and SVC_PORT_NOT_FOUND', () => {
  it('suggests close names in the namespace and the same name elsewhere', () => {
    const items = [...healthy(), service({ name: 'webb', namespace: 'dev', selector: { app: 'web' } })];
    const d = diagnose(items, 'wbe');
    expect(d.service).toBeNull();
    expect(codes(d)).toEqual(['SVC_NOT_FOUND']);
    expect(get(d, 'SVC_NOT_FOUND').message).toContain('did you mean svc/shop/web');
    const other = diagnose(items, 'webb');
    expect(get(other, 'SVC_NOT_FOUND').message).toContain('svc/dev/webb');
    const none = diagnose(items, 'payments');
    expect(get(none, 'SVC_NOT_FOUND').message).not.toContain('did you mean');
    expect(get(diagnose(items, 'x', {}, 'nope'), 'SVC_NOT_FOUND').message).toContain(
      'there is no namespace nope',
    );
  });

  it('reports an unknown port and points at the targetPort it was confused with', () => {
    const d = diagnose(healthy(), 'web', { port: 8080 });
    const f = get(d, 'SVC_PORT_NOT_FOUND');
    expect(f.message).toContain('80/TCP (http)');
    expect(f.hint).toContain('port 80');
    expect(get(diagnose(healthy(), 'web', { port: 'grpc' }), 'SVC_PORT_NOT_FOUND').message).toContain(
      '"grpc"',
    );
  });
});

describe('label mismatch diagnosis', () => {
  it('finds a one-letter typo in a label value and shows both sides', () => {
    const items = [
      service({ name: 'frontend', selector: { app: 'frontend' } }),
      pod({ name: 'fe-1', ip: '10.244.1.7', labels: { app: 'fronted' }, ports: HTTP }),
      pod({ name: 'fe-2', ip: '10.244.1.8', labels: { app: 'fronted' }, ports: HTTP }),
      pod({ name: 'db-1', ip: '10.244.1.9', labels: { app: 'postgres' } }),
      slice({ service: 'frontend', endpoints: [] }),
    ];
    const d = diagnose(items, 'frontend');
    expect(errors(d).sort()).toEqual(['SVC_LABEL_MISMATCH', 'SVC_NO_SELECTOR_MATCH']);
    expect(d.backends).toEqual([]);
    expect(d.nearMisses.inNamespace).toEqual([
      {
        reason: 'one-off',
        owner: null,
        differences: [{ selectorKey: 'app', selectorValue: 'frontend', podKey: 'app', podValue: 'fronted' }],
        pods: ['fe-1', 'fe-2'],
        count: 2,
      },
    ]);
    const f = get(d, 'SVC_LABEL_MISMATCH');
    expect(f.message).toContain('selector app: frontend vs pod app: fronted');
    expect(f.objects).toEqual(['svc/shop/frontend', 'pod/shop/fe-1', 'pod/shop/fe-2']);
  });

  it('finds a typo in a label key, and the selector key that no pod carries', () => {
    const items = [
      service({ name: 'web', selector: { app: 'web' } }),
      pod({ name: 'web-1', ip: '10.244.1.4', labels: { ap: 'web' }, ports: HTTP }),
      slice({ service: 'web', endpoints: [] }),
    ];
    const d = diagnose(items);
    expect(d.nearMisses.keysOnNoPod).toEqual(['app']);
    expect(d.nearMisses.inNamespace[0].differences).toEqual([
      { selectorKey: 'app', selectorValue: 'web', podKey: 'ap', podValue: 'web' },
    ]);
    expect(get(d, 'SVC_LABEL_MISMATCH').message).toContain('selector app: web vs pod ap: web');
    expect(get(d, 'SVC_NO_SELECTOR_MATCH').evidence).toContain(
      'no pod in namespace shop has a label with key "app"',
    );
  });

  it('finds a pod that misses one of two selector keys, but not unrelated pods', () => {
    const items = [
      service({ name: 'web', selector: { app: 'web', tier: 'frontend' } }),
      pod({ name: 'web-1', ip: '10.244.1.4', labels: { app: 'web' } }),
      pod({ name: 'api-1', ip: '10.244.1.5', labels: { app: 'api', tier: 'backend' } }),
    ];
    const d = diagnose(items);
    expect(d.nearMisses.inNamespace.map((g) => g.pods)).toEqual([['web-1']]);
    expect(get(d, 'SVC_LABEL_MISMATCH').message).toContain('selector tier: frontend vs pod no tier label');
  });

  it('does not call every pod without the only selector key a near miss', () => {
    const items = [
      service({ name: 'web', selector: { app: 'web' } }),
      pod({ name: 'job-1', ip: '10.244.1.4', labels: { job: 'backup' } }),
      pod({ name: 'api-1', ip: '10.244.1.5', labels: { app: 'payments' } }),
    ];
    const d = diagnose(items);
    expect(d.nearMisses.inNamespace).toEqual([]);
    expect(codes(d)).toEqual(['SVC_NO_SELECTOR_MATCH']);
  });

  it('reports the typo, not every workload that shares the other selector label', () => {
    const items = [
      service({ name: 'web', selector: { app: 'web', tier: 'frontend' } }),
      pod({ name: 'wbe-1', ip: '10.244.1.4', labels: { app: 'wbe', tier: 'frontend' } }),
      ...['cart', 'payments', 'search', 'checkout'].map((app, i) =>
        pod({ name: `${app}-1`, ip: `10.244.1.${10 + i}`, labels: { app, tier: 'frontend' } }),
      ),
    ];
    const d = diagnose(items);
    expect(d.nearMisses.inNamespace.map((g) => g.pods[0])).toEqual([
      'wbe-1',
      'cart-1',
      'checkout-1',
      'payments-1',
      'search-1',
    ]);
    expect(d.findings.filter((f) => f.code === 'SVC_LABEL_MISMATCH').map((f) => f.objects[1])).toEqual([
      'pod/shop/wbe-1',
    ]);
  });

  it('finds pods that match fully in another namespace', () => {
    const items = [
      service({ name: 'web', selector: { app: 'web' } }),
      pod({ name: 'web-1', namespace: 'shop-dev', ip: '10.244.1.4', labels: { app: 'web' } }),
      pod({ name: 'web-2', namespace: 'shop-dev', ip: '10.244.1.5', labels: { app: 'web' } }),
      pod({
        name: 'web-done',
        namespace: 'other',
        ip: '10.244.1.6',
        labels: { app: 'web' },
        phase: 'Succeeded',
      }),
    ];
    const d = diagnose(items);
    expect(d.nearMisses.otherNamespaces).toEqual([
      { namespace: 'shop-dev', pods: ['web-1', 'web-2'], count: 2 },
    ]);
    const f = get(d, 'SVC_NO_SELECTOR_MATCH');
    expect(f.evidence).toContain('2 pods in namespace shop-dev match it: web-1, web-2');
    expect(f.hint).toContain('shop-dev');
    expect(codes(d)).not.toContain('SVC_LABEL_MISMATCH');
  });

  it('finds pods of the same Deployment that a relabelled rollout took out of the service', () => {
    const items = [
      replicaSet('web-new1234', 'web'),
      service({ name: 'web', selector: { app: 'web', version: 'v1' } }),
      web('web-old-1', '10.244.1.4', { labels: { app: 'web', version: 'v1' }, owner: 'web-6b7d8f9c4' }),
      web('web-new-1', '10.244.1.5', { labels: { app: 'web', version: 'v2' }, owner: 'web-new1234' }),
      web('web-new-2', '10.244.2.5', { labels: { app: 'web', version: 'v2' }, owner: 'web-new1234' }),
      pod({ name: 'api-1', ip: '10.244.1.9', labels: { app: 'api', version: 'v1' } }),
      slice({ service: 'web', endpoints: [{ ip: '10.244.1.4', pod: 'web-old-1' }] }),
    ];
    const d = diagnose(items);
    expect(d.backends.map((b) => b.pod)).toEqual(['web-old-1']);
    expect(d.nearMisses.inNamespace).toEqual([
      {
        reason: 'sibling',
        owner: 'Deployment/web',
        differences: [{ selectorKey: 'version', selectorValue: 'v1', podKey: 'version', podValue: 'v2' }],
        pods: ['web-new-1', 'web-new-2'],
        count: 2,
      },
    ]);
    expect(get(d, 'SVC_LABEL_MISMATCH').message).toContain('Deployment/web');
    expect(codes(d)).not.toContain('SVC_NO_SELECTOR_MATCH');
  });
});

describe('named target ports', () => {
  it('resolves a named targetPort per pod, to different numbers on different pods', () => {
    const items = [
      service({
        name: 'web',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      }),
      web('web-a', '10.244.1.4', { ports: [{ name: 'http', containerPort: 8080 }] }),
      web('web-b', '10.244.1.5', { ports: [{ name: 'http', containerPort: 9090 }] }),
      // The controller groups endpoints by port set: one slice per resolved number.
      slice({
        service: 'web',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ ip: '10.244.1.4', pod: 'web-a' }],
      }),
      slice({
        service: 'web',
        ports: [{ name: 'http', port: 9090 }],
        endpoints: [{ ip: '10.244.1.5', pod: 'web-b' }],
      }),
    ];
    const d = diagnose(items);
    expect(d.findings).toEqual([]);
    expect(d.backends.map((b) => [b.pod, b.targetPort, b.inEndpointSlices])).toEqual([
      ['web-a', 8080, true],
      ['web-b', 9090, true],
    ]);
    expect(d.service?.ports[0].resolved).toEqual([
      { port: 8080, pods: 1 },
      { port: 9090, pods: 1 },
    ]);
    expect(d.notes.join(' ')).toContain('8080 on 1 pod, 9090 on 1 pod');
  });

  it('flags a slice that lists the old number after a pod changed its named port', () => {
    const items = [
      service({
        name: 'web',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      }),
      web('web-a', '10.244.1.4', { ports: [{ name: 'http', containerPort: 9090 }] }),
      slice({
        service: 'web',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ ip: '10.244.1.4', pod: 'web-a' }],
      }),
    ];
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_ENDPOINTS_STALE']);
    expect(get(d, 'SVC_ENDPOINTS_STALE').evidence?.[0]).toContain('lists port 8080');
  });

  it('excludes a pod that lacks the named port, as the EndpointSlice controller does', () => {
    const items = [
      service({
        name: 'web',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      }),
      web('web-a', '10.244.1.4'),
      web('web-b', '10.244.1.5', { ports: [{ name: 'web', containerPort: 8080 }] }),
      slice({ service: 'web', endpoints: [{ ip: '10.244.1.4', pod: 'web-a' }] }),
      // The controller still publishes web-b, in a slice without ports.
      slice({ service: 'web', ports: [], endpoints: [{ ip: '10.244.1.5', pod: 'web-b' }] }),
    ];
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_TARGET_PORT_MISMATCH']);
    const f = get(d, 'SVC_TARGET_PORT_MISMATCH');
    expect(f.message).toContain('1 of the 2 pods');
    expect(f.objects).toEqual(['svc/shop/web', 'pod/shop/web-b']);
    expect(f.evidence).toEqual(['pod/shop/web-b declares web=8080/TCP']);
    const b = d.backends.find((x) => x.pod === 'web-b');
    expect(b).toMatchObject({ targetPort: null, expectedInEndpointSlices: false, inEndpointSlices: false });
    expect(b?.problems).toContain('no container port named "http"');
  });

  it('says when no pod declares the named port: the port has no backend', () => {
    const items = [
      service({
        name: 'web',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'htpp' }],
      }),
      web('web-a', '10.244.1.4'),
      slice({ service: 'web', ports: [], endpoints: [{ ip: '10.244.1.4', pod: 'web-a' }] }),
    ];
    const d = diagnose(items);
    expect(errors(d)).toEqual(['SVC_TARGET_PORT_MISMATCH']);
    expect(get(d, 'SVC_TARGET_PORT_MISMATCH').message).toMatch(/No pod .* named "htpp".* has no backend/);
    expect(d.service?.ports[0]).toMatchObject({ resolved: [], unresolvedPods: 1 });
  });

  it('reports a named port declared with another protocol as a protocol mismatch', () => {
    const items = [
      service({
        name: 'dns',
        selector: { app: 'dns' },
        ports: [{ name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' }],
      }),
      pod({
        name: 'dns-1',
        ip: '10.244.1.4',
        labels: { app: 'dns' },
        ports: [{ name: 'dns', containerPort: 53 }],
      }),
      slice({ service: 'dns', ports: [], endpoints: [{ ip: '10.244.1.4', pod: 'dns-1' }] }),
    ];
    const d = diagnose(items, 'dns');
    expect(codes(d)).toEqual(['SVC_PROTOCOL_MISMATCH']);
    expect(d.backends[0].problems).toContain('port "dns" is TCP on the pod, the service port is UDP');
  });
});

describe('numeric target ports', () => {
  it('warns (never errors) when pods declare ports but not the numeric targetPort', () => {
    const items = healthy();
    items[0] = service({
      name: 'web',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 8000 }],
    });
    items[4] = slice({
      service: 'web',
      ports: [{ name: 'http', port: 8000 }],
      endpoints: [
        { ip: '10.244.1.4', pod: 'web-a' },
        { ip: '10.244.1.5', pod: 'web-b' },
        { ip: '10.244.2.6', pod: 'web-c' },
      ],
    });
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_TARGET_PORT_UNDECLARED']);
    expect(get(d, 'SVC_TARGET_PORT_UNDECLARED').severity).toBe('warning');
    expect(d.backends.map((b) => b.targetPort)).toEqual([8000, 8000, 8000]);
  });

  it('says nothing about a numeric targetPort when the pods declare no ports at all', () => {
    const items = [
      service({
        name: 'web',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 8000 }],
      }),
      pod({ name: 'web-a', ip: '10.244.1.4', labels: { app: 'web' } }),
      slice({
        service: 'web',
        ports: [{ name: 'http', port: 8000 }],
        endpoints: [{ ip: '10.244.1.4', pod: 'web-a' }],
      }),
    ];
    expect(diagnose(items).findings).toEqual([]);
  });

  it('reports a numeric port declared only with another protocol', () => {
    const items = [
      service({ name: 'syslog', selector: { app: 'syslog' }, ports: [{ port: 514, protocol: 'TCP' }] }),
      pod({
        name: 'syslog-1',
        ip: '10.244.1.4',
        labels: { app: 'syslog' },
        ports: [{ containerPort: 514, protocol: 'UDP' }],
      }),
      slice({
        service: 'syslog',
        ports: [{ port: 514 }],
        endpoints: [{ ip: '10.244.1.4', pod: 'syslog-1' }],
      }),
    ];
    const d = diagnose(items, 'syslog');
    expect(codes(d)).toEqual(['SVC_PROTOCOL_MISMATCH']);
    expect(d.backends[0]).toMatchObject({ port: 514, targetPort: 514, inEndpointSlices: true });
  });
});

describe('readiness', () => {
  it('reports no ready endpoints when every matching pod is unready', () => {
    const items = [
      service({
        name: 'web',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      }),
      web('web-a', '10.244.1.4', {
        ready: false,
        containerState: { waiting: { reason: 'CrashLoopBackOff' } },
      }),
      web('web-b', '10.244.1.5', { ready: false }),
      slice({
        service: 'web',
        endpoints: [
          { ip: '10.244.1.4', pod: 'web-a', ready: false },
          { ip: '10.244.1.5', pod: 'web-b', ready: false },
        ],
      }),
    ];
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_NO_READY_ENDPOINTS']);
    const f = get(d, 'SVC_NO_READY_ENDPOINTS');
    expect(f.message).toContain('None of the 2 pods');
    expect(f.evidence?.[0]).toContain('CrashLoopBackOff');
    expect(d.backends.every((b) => b.problems.includes('not ready') && b.inEndpointSlices)).toBe(true);
  });

  it('warns when some backends are not ready, and counts pods without an IP yet', () => {
    const items = healthy();
    items.push(web('web-d', '10.244.2.9', { node: 'node-2', ready: false }));
    items.push(web('web-e', undefined, { phase: 'Pending', ready: false }));
    (items[4] as Raw).endpoints.push({
      addresses: ['10.244.2.9'],
      conditions: { ready: false, serving: false, terminating: false },
      targetRef: { kind: 'Pod', name: 'web-d', namespace: 'shop' },
    });
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_SOME_ENDPOINTS_NOT_READY']);
    expect(get(d, 'SVC_SOME_ENDPOINTS_NOT_READY').message).toContain('2 of the 5 pods');
    expect(d.backends.find((b) => b.pod === 'web-e')).toMatchObject({
      ip: null,
      expectedInEndpointSlices: false,
    });
  });

  it('keeps terminating pods in the slices as not ready, and notes the fallback', () => {
    const items = [
      service({
        name: 'web',
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      }),
      web('web-a', '10.244.1.4', { deleting: true }),
      slice({
        service: 'web',
        endpoints: [{ ip: '10.244.1.4', pod: 'web-a', ready: false, serving: true, terminating: true }],
      }),
    ];
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_NO_READY_ENDPOINTS']);
    expect(get(d, 'SVC_NO_READY_ENDPOINTS').message).toContain('falls back to the 1 still serving');
    expect(d.backends[0]).toMatchObject({ terminating: true, serving: true, inEndpointSlices: true });
    expect(d.notes.join(' ')).toContain('terminating');
  });

  it('does not warn about a pod that terminates during a rollout', () => {
    const items = healthy();
    items.push(web('web-old', '10.244.2.8', { node: 'node-2', deleting: true, ready: false }));
    (items[4] as Raw).endpoints.push({
      addresses: ['10.244.2.8'],
      conditions: { ready: false, serving: false, terminating: true },
      targetRef: { kind: 'Pod', name: 'web-old', namespace: 'shop' },
    });
    const d = diagnose(items);
    expect(d.findings).toEqual([]);
    expect(d.notes.join(' ')).toContain('1 matching pod terminating (web-old)');
  });

  it('treats finished pods as no backends at all', () => {
    const items = [
      service({ name: 'job', selector: { app: 'job' } }),
      pod({ name: 'job-1', ip: '10.244.1.4', labels: { app: 'job' }, phase: 'Succeeded', ready: false }),
      slice({ service: 'job', endpoints: [] }),
    ];
    const d = diagnose(items, 'job');
    expect(codes(d)).toEqual(['SVC_NO_READY_ENDPOINTS']);
    expect(get(d, 'SVC_NO_READY_ENDPOINTS').message).toContain('finished (Succeeded)');
  });

  it('does not report unready pods when publishNotReadyAddresses publishes them', () => {
    const items = [
      service({
        name: 'db',
        selector: { app: 'db' },
        publishNotReadyAddresses: true,
        sessionAffinity: 'ClientIP',
      }),
      pod({ name: 'db-0', ip: '10.244.1.4', labels: { app: 'db' }, ready: false, ports: HTTP }),
      slice({ service: 'db', endpoints: [{ ip: '10.244.1.4', pod: 'db-0', ready: true, serving: false }] }),
    ];
    const d = diagnose(items, 'db');
    expect(d.findings).toEqual([]);
    expect(d.notes.join('\n')).toMatch(/publishNotReadyAddresses is set/);
    expect(d.notes.join('\n')).toMatch(/sessionAffinity ClientIP/);
  });
});

describe('EndpointSlices against pods', () => {
  it('reports ready pods the slices lag behind', () => {
    const items = healthy();
    items.push(web('web-d', '10.244.2.7', { node: 'node-2' }));
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_ENDPOINTS_MISSING']);
    const f = get(d, 'SVC_ENDPOINTS_MISSING');
    expect(f.objects).toEqual(['svc/shop/web', 'pod/shop/web-d']);
    expect(d.backends.find((b) => b.pod === 'web-d')).toMatchObject({
      inEndpointSlices: false,
      expectedInEndpointSlices: true,
    });
  });

  it('reports a ready pod the slice still lists as not ready', () => {
    const items = healthy();
    (items[4] as Raw).endpoints[0].conditions = { ready: false, serving: false, terminating: false };
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_ENDPOINTS_MISSING']);
    expect(d.backends[0].problems[0]).toMatch(/listed as not ready in web-/);
  });

  it('reports a service without any slice although pods match', () => {
    const items = healthy().slice(0, 4);
    items.push(slice({ service: 'other', endpoints: [] }));
    const d = diagnose(items);
    expect(get(d, 'SVC_ENDPOINTS_MISSING').message).toContain(
      'has no EndpointSlice although 3 ready pods match',
    );
  });

  it('reports a slice address of a deleted pod as stale', () => {
    const items = healthy();
    (items[4] as Raw).endpoints.push({
      addresses: ['10.244.1.99'],
      conditions: { ready: true },
      nodeName: 'node-1',
      targetRef: { kind: 'Pod', namespace: 'shop', name: 'web-old' },
    });
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_ENDPOINTS_STALE']);
    expect(get(d, 'SVC_ENDPOINTS_STALE').evidence).toEqual([
      '10.244.1.99 (web-old): pod web-old no longer exists',
    ]);
    expect(d.backends.find((b) => b.origin === 'slice')).toMatchObject({
      pod: 'web-old',
      ip: '10.244.1.99',
      ready: true,
      targetPort: 8080,
    });
  });

  it('reports slice addresses of a relabelled pod and of an IP no pod has', () => {
    const items = healthy();
    items.push(pod({ name: 'debug', ip: '10.244.1.50', labels: { app: 'debug' } }));
    (items[4] as Raw).endpoints.push({ addresses: ['10.244.1.50'], conditions: { ready: true } });
    (items[4] as Raw).endpoints.push({ addresses: ['10.244.1.51'], conditions: { ready: true } });
    const d = diagnose(items);
    expect(get(d, 'SVC_ENDPOINTS_STALE').evidence).toEqual([
      '10.244.1.50 (debug): pod debug does not match the selector',
      '10.244.1.51 (no pod): no pod has this IP',
    ]);
  });

  it('does not expect pods on a node that does not exist (the controller skips them)', () => {
    const items = healthy();
    items.push(web('web-z', '10.244.9.9', { node: 'node-gone' }));
    const d = diagnose(items);
    expect(d.findings).toEqual([]);
    expect(d.backends.find((b) => b.pod === 'web-z')?.problems[0]).toContain('node node-gone not found');
  });

  it('reads legacy Endpoints when there are no EndpointSlices for the service', () => {
    const items = [
      ...healthy().slice(0, 4),
      slice({
        service: 'kubernetes',
        namespace: 'default',
        ports: [{ name: 'https', port: 6443 }],
        endpoints: [{ ip: '172.18.0.2' }],
      }),
      endpoints({
        name: 'web',
        ready: [
          { ip: '10.244.1.4', pod: 'web-a' },
          { ip: '10.244.1.5', pod: 'web-b' },
        ],
        notReady: [{ ip: '10.244.2.6', pod: 'web-c' }],
        ports: [{ name: 'http', port: 8080 }],
      }),
    ];
    const d = diagnose(items);
    expect(d.backends.map((b) => b.slices.length > 0)).toEqual([true, true, true]);
    expect(codes(d)).toEqual(['SVC_ENDPOINTS_MISSING']);
    expect(get(d, 'SVC_ENDPOINTS_MISSING').objects).toContain('pod/shop/web-c');
    expect(d.notes.join(' ')).toContain('legacy v1 Endpoints');
  });

  it('says the listing is unknown when the source has no EndpointSlices at all', () => {
    const d = diagnose(healthy().slice(0, 4));
    expect(d.findings).toEqual([]);
    expect(d.backends.every((b) => b.inEndpointSlices === null)).toBe(true);
    expect(d.notes[0]).toContain('unknown');
  });
});

describe('dual-stack services', () => {
  const dual = (): Raw[] => [
    service({
      name: 'web',
      selector: { app: 'web' },
      clusterIPs: ['10.96.0.20', 'fd00:10:96::20'],
      ipFamilies: ['IPv4', 'IPv6'],
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    }),
    web('web-a', ['10.244.1.4', 'fd00:10:244:1::4']),
    web('web-b', ['10.244.2.5', 'fd00:10:244:2::5'], { node: 'node-2' }),
    slice({
      service: 'web',
      endpoints: [
        { ip: '10.244.1.4', pod: 'web-a' },
        { ip: '10.244.2.5', pod: 'web-b' },
      ],
    }),
    slice({
      service: 'web',
      addressType: 'IPv6',
      endpoints: [
        { ip: 'fd00:10:244:1:0:0:0:4', pod: 'web-a' },
        { ip: 'fd00:10:244:2::5', pod: 'web-b' },
      ],
    }),
  ];

  it('matches both families (whatever the IPv6 spelling) and reports nothing', () => {
    const d = diagnose(dual());
    expect(d.findings).toEqual([]);
    expect(d.service?.clusterIPs).toEqual(['10.96.0.20', 'fd00:10:96::20']);
    expect(d.backends.map((b) => [b.ips, b.inEndpointSlices])).toEqual([
      [['10.244.1.4', 'fd00:10:244:1::4'], true],
      [['10.244.2.5', 'fd00:10:244:2::5'], true],
    ]);
  });

  it('reports the family missing from the slices', () => {
    const d = diagnose(dual().slice(0, 4));
    expect(codes(d)).toEqual(['SVC_ENDPOINTS_MISSING']);
    expect(d.backends[0].problems).toEqual(['fd00:10:244:1::4 missing from EndpointSlices']);
    expect(d.backends[0].inEndpointSlices).toBe(false);
  });

  it('expects only the service families of dual-stack pods', () => {
    const items = dual();
    items[0] = service({
      name: 'web',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    });
    const d = diagnose(items.slice(0, 4));
    expect(d.findings).toEqual([]);
    expect(d.backends[0].ips).toEqual(['10.244.1.4']);
  });
});

describe('services reached another way', () => {
  it('explains a headless service and still checks its pods', () => {
    const items = healthy();
    items[0] = service({
      name: 'web',
      clusterIP: 'None',
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    });
    const d = diagnose(items);
    expect(codes(d)).toEqual(['SVC_HEADLESS']);
    expect(get(d, 'SVC_HEADLESS').severity).toBe('info');
    expect(d.service).toMatchObject({ headless: true, clusterIPs: [] });
    expect(d.backends).toHaveLength(3);
  });

  it('handles a headless service without ports', () => {
    const items = [
      service({ name: 'peers', clusterIP: 'None', selector: { app: 'web' }, ports: [] }),
      web('web-a', '10.244.1.4'),
      slice({ service: 'peers', ports: [], endpoints: [{ ip: '10.244.1.4', pod: 'web-a' }] }),
    ];
    const d = diagnose(items, 'peers');
    expect(codes(d)).toEqual(['SVC_HEADLESS']);
    expect(d.backends).toMatchObject([
      { pod: 'web-a', port: null, targetPort: null, inEndpointSlices: true },
    ]);
  });

  it('explains an ExternalName service', () => {
    const items = [service({ name: 'db', type: 'ExternalName', externalName: 'db.example.com', ports: [] })];
    const d = diagnose(items, 'db');
    expect(codes(d)).toEqual(['SVC_EXTERNAL_NAME']);
    expect(get(d, 'SVC_EXTERNAL_NAME').message).toContain('db.example.com');
    expect(d.backends).toEqual([]);
  });

  it('lists the manual endpoints of a selectorless service', () => {
    const items = [
      ...healthy(),
      service({ name: 'legacy-db', ports: [{ name: 'pg', port: 5432 }] }),
      endpoints({ name: 'legacy-db', ready: [{ ip: '192.168.10.5' }], ports: [{ name: 'pg', port: 5432 }] }),
    ];
    const d = diagnose(items, 'legacy-db');
    expect(codes(d)).toEqual(['SVC_NO_SELECTOR']);
    expect(d.backends).toMatchObject([
      {
        origin: 'slice',
        pod: null,
        ip: '192.168.10.5',
        ready: true,
        port: 'pg',
        targetPort: 5432,
        inEndpointSlices: true,
      },
    ]);
  });

  it('reports a selectorless service with no endpoint address at all', () => {
    const items = [...healthy(), service({ name: 'legacy-db', ports: [{ name: 'pg', port: 5432 }] })];
    const d = diagnose(items, 'legacy-db');
    expect(codes(d)).toEqual(['SVC_NO_READY_ENDPOINTS', 'SVC_NO_SELECTOR']);
  });

  it('reports a manual endpoint that names a pod that no longer exists', () => {
    const items = [
      ...healthy(),
      service({ name: 'manual', ports: [{ name: 'http', port: 80 }] }),
      slice({
        service: 'manual',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [
          { ip: '10.244.1.4', pod: 'web-a' },
          { ip: '10.244.1.77', pod: 'gone' },
        ],
      }),
    ];
    const d = diagnose(items, 'manual');
    expect(codes(d)).toEqual(['SVC_ENDPOINTS_STALE', 'SVC_NO_SELECTOR']);
    expect(d.backends.map((b) => b.pod)).toEqual(['web-a', 'gone']);
  });
});

describe('traffic policy Local', () => {
  const lb = (): Raw[] => {
    const items = healthy();
    items[0] = service({
      name: 'web',
      type: 'LoadBalancer',
      selector: { app: 'web' },
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: 32000,
      ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 31080 }],
    });
    items[3] = web('web-c', '10.244.1.6');
    items[4] = slice({
      service: 'web',
      endpoints: [
        { ip: '10.244.1.4', pod: 'web-a', node: 'node-1' },
        { ip: '10.244.1.5', pod: 'web-b', node: 'node-1' },
        { ip: '10.244.1.6', pod: 'web-c', node: 'node-1' },
      ],
    });
    return items;
  };

  it('reports a node without a local endpoint under externalTrafficPolicy Local', () => {
    const d = diagnose(lb(), 'web', { node: 'node-2' });
    expect(codes(d)).toEqual(['SVC_NO_LOCAL_ENDPOINTS']);
    const f = get(d, 'SVC_NO_LOCAL_ENDPOINTS');
    expect(f.message).toContain('externalTrafficPolicy');
    expect(f.message).toContain('node port 32000');
    expect(f.objects).toEqual(['svc/shop/web', 'node/node-2']);
    expect(f.evidence).toEqual(['nodes with a ready endpoint: node-1']);
    expect(diagnose(lb(), 'web', { node: 'node-1' }).findings).toEqual([]);
  });

  it('notes the nodes that have endpoints when no node is given', () => {
    const d = diagnose(lb());
    expect(d.findings).toEqual([]);
    expect(d.notes.join(' ')).toContain('nodes with a ready endpoint: node-1');
  });

  it('checks internalTrafficPolicy Local for ClusterIP services, and ignores Cluster policies', () => {
    const items = lb();
    items[0] = service({
      name: 'web',
      selector: { app: 'web' },
      internalTrafficPolicy: 'Local',
      externalTrafficPolicy: 'Local',
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    });
    const d = diagnose(items, 'web', { node: 'node-2' });
    expect(d.findings.map((f) => f.message.split(' ')[0])).toEqual(['internalTrafficPolicy']);
    expect(diagnose(healthy(), 'web', { node: 'node-2' }).findings).toEqual([]);
  });
});
