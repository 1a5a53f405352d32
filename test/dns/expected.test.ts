// Expected answers for what a BIND zone cannot show: CoreDNS's own rules (pods modes, ignore
// empty_service, namespaces, endpoint_pod_names, fallthrough, SRV weights, ExternalName
// details, endpoint records of ClusterIP services), the Corefile and the cluster domain.
import { describe, expect, it } from 'vitest';
import { kubeadmDefault, parseCorefile } from '../../src/analyses/dns/corefile.js';
import { clusterDomainOf, dnsEndpoints, expectedAnswer } from '../../src/analyses/dns/expected.js';
import { dashedIP, ipFromDashed, ipFromReverseName, reverseName } from '../../src/analyses/dns/names.js';
import type { DnsType } from '../../src/analyses/dns/types.js';
import { buildModel } from '../../src/model/build.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import type { Raw } from '../../src/model/normalize.js';
import { testBundle } from './bundle.js';

const Z = 'cluster.local';
const KUBEADM_COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`;

const model = buildModel(testBundle());
const ask = (name: string, type: DnsType = 'A', m = model, coredns = parseCorefile(KUBEADM_COREFILE)) =>
  expectedAnswer(m, { name, type }, { clusterDomain: Z, coredns });
const data = (a: ReturnType<typeof ask>) => a.answers.map((r) => `${r.type} ${r.data}`);

describe('parseCorefile', () => {
  it("reads kubeadm's default", () => {
    const c = parseCorefile(KUBEADM_COREFILE, 'Corefile')!;
    expect(c).toMatchObject({
      zones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'],
      pods: 'insecure',
      ttl: 30,
      fallthrough: ['in-addr.arpa', 'ip6.arpa'],
      origin: 'Corefile:7',
    });
  });

  it('takes the server block zones when the plugin names none, and every option', () => {
    const c = parseCorefile(
      'cluster.example:53 {\n  kubernetes {\n    pods verified\n    namespaces app kube-system\n' +
        '    endpoint_pod_names\n    ignore empty_service\n    fallthrough\n  }\n}\n',
    )!;
    expect(c).toMatchObject({
      zones: ['cluster.example'],
      pods: 'verified',
      ttl: 5,
      namespaces: ['app', 'kube-system'],
      endpointPodNames: true,
      ignoreEmptyService: true,
      fallthrough: [],
    });
    expect(parseCorefile('.:53 {\n  kubernetes cluster.local\n  forward . 8.8.8.8\n}\n')).toMatchObject({
      pods: 'disabled',
      ttl: 5,
    });
    expect(parseCorefile('.:53 {\n  forward . 8.8.8.8\n}\n')).toBeUndefined();
  });
});

describe('clusterDomainOf', () => {
  it('reads the Corefile, then kubelet-config, then a pod resolv.conf; else undefined', () => {
    expect(clusterDomainOf(model)).toBe('cluster.local');
    const cm = (name: string, data: Raw): Raw => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: 'kube-system', name },
      data,
    });
    expect(
      clusterDomainOf(
        buildModel([
          cm('coredns', { Corefile: 'corp.internal:53 {\n kubernetes corp.internal in-addr.arpa\n}\n' }),
        ]),
      ),
    ).toBe('corp.internal');
    expect(
      clusterDomainOf(
        buildModel([
          cm('kubelet-config', {
            kubelet: 'apiVersion: kubelet.config.k8s.io/v1beta1\nclusterDomain: k8s.example\n',
          }),
        ]),
      ),
    ).toBe('k8s.example');
    const files = memoryNodeFiles({
      n1: {
        'pods/app_web/resolv.conf':
          'search app.svc.prod.local svc.prod.local prod.local\nnameserver 10.0.0.10\n',
      },
    });
    expect(clusterDomainOf(buildModel([], files))).toBe('prod.local');
    expect(clusterDomainOf(buildModel([]))).toBeUndefined();
  });
});

describe('names', () => {
  it('dashes and reverses addresses as CoreDNS does', () => {
    expect(dashedIP('10.244.1.5')).toBe('10-244-1-5');
    expect(dashedIP('fd00::5')).toBe('fd00--5');
    expect(dashedIP('2001:db8:3333:4444:5555:6666::')).toBe('2001-db8-3333-4444-5555-6666--0');
    expect(ipFromDashed('10-244-1-5')).toBe('10.244.1.5');
    expect(ipFromDashed('fd00--5')).toBe('fd00::5');
    expect(ipFromDashed('10-244-1')).toBeUndefined();
    expect(ipFromDashed('web-0')).toBeUndefined();
    expect(reverseName('10.96.0.10')).toBe('10.0.96.10.in-addr.arpa');
    expect(ipFromReverseName('10.0.96.10.in-addr.arpa.')).toBe('10.96.0.10');
    expect(ipFromReverseName(reverseName('fd00:10:96::7'))).toBe('fd00:10:96::7');
    expect(ipFromReverseName('96.10.in-addr.arpa')).toBeUndefined();
  });
});

describe('expectedAnswer: services', () => {
  it('answers SRV for every port of a bare service name, weight 100/N', () => {
    expect(data(ask(`svc-b.app.svc.${Z}`, 'SRV'))).toEqual([
      `SRV 0 50 80 svc-b.app.svc.${Z}`,
      `SRV 0 50 53 svc-b.app.svc.${Z}`,
    ]);
    // Dual-stack: two candidates (v4, v6) for one target, deduplicated to one record of weight 50.
    expect(data(ask(`_http._tcp.dual.app.svc.${Z}`, 'SRV'))).toEqual([`SRV 0 50 80 dual.app.svc.${Z}`]);
  });

  it('has no SRV for an unnamed port, and NXDOMAIN for a port that does not exist', () => {
    expect(ask(`_http._tcp.single.app.svc.${Z}`, 'SRV').rcode).toBe('NXDOMAIN');
    expect(ask(`_http._udp.svc-b.app.svc.${Z}`, 'SRV').rcode).toBe('NXDOMAIN');
    expect(data(ask(`_http._tcp.svc-b.app.svc.${Z}`, 'A'))).toEqual(['A 10.96.12.34']);
  });

  it('answers NODATA for types a service name does not have', () => {
    for (const t of ['TXT', 'PTR', 'CNAME'] as DnsType[]) {
      const a = ask(`svc-b.app.svc.${Z}`, t);
      expect([a.rcode, a.answers.length]).toEqual(['NOERROR', 0]);
    }
  });

  it('answers endpoint names of a ClusterIP service too (CoreDNS)', () => {
    expect(data(ask(`10-244-0-2.kube-dns.kube-system.svc.${Z}`))).toEqual(['A 10.244.0.2']);
    expect(ask(`10-244-0-9.kube-dns.kube-system.svc.${Z}`).rcode).toBe('NXDOMAIN');
  });

  it('NXDOMAIN for too many labels, a missing namespace, and an endpoint of an ExternalName', () => {
    expect(ask(`a.b.c.svc-b.app.svc.${Z}`).rcode).toBe('NXDOMAIN');
    expect(ask(`svc-b.nope.svc.${Z}`).reason).toBe('namespace nope does not exist');
    expect(ask(`x.ext.app.svc.${Z}`).rcode).toBe('NXDOMAIN');
  });

  it('ExternalName: CNAME, out-of-zone target left to upstream, in-zone target chased', () => {
    const ext = ask(`ext.app.svc.${Z}`);
    expect(data(ext)).toEqual(['CNAME www.example.com']);
    expect(ext.upstream).toEqual(['www.example.com']);
    expect(data(ask(`ext-internal.app.svc.${Z}`))).toEqual([`CNAME svc-b.app.svc.${Z}`, 'A 10.96.12.34']);
    expect(ask(`ext.app.svc.${Z}`, 'SRV').answers).toEqual([]);
    const ipName = buildModel([
      ...testBundle(),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { namespace: 'app', name: 'ipext' },
        spec: { type: 'ExternalName', externalName: '10.1.2.3' },
      },
    ]);
    expect(ask(`ipext.app.svc.${Z}`, 'A', ipName).rcode).toBe('NXDOMAIN');
  });

  it('ignore empty_service: a ClusterIP service without ready endpoints is NXDOMAIN', () => {
    const cf = parseCorefile('.:53 {\n kubernetes cluster.local {\n  ignore empty_service\n }\n}\n');
    expect(ask(`svc-b.app.svc.${Z}`, 'A', model, cf).rcode).toBe('NXDOMAIN');
    expect(ask(`kubernetes.default.svc.${Z}`, 'A', model, cf).rcode).toBe('NXDOMAIN');
    expect(ask(`kube-dns.kube-system.svc.${Z}`, 'A', model, cf).rcode).toBe('NOERROR');
  });

  it('namespaces option: other namespaces are NXDOMAIN', () => {
    const cf = parseCorefile('.:53 {\n kubernetes cluster.local {\n  namespaces kube-system\n }\n}\n');
    expect(ask(`svc-b.app.svc.${Z}`, 'A', model, cf).rcode).toBe('NXDOMAIN');
    expect(ask(`kube-dns.kube-system.svc.${Z}`, 'A', model, cf).rcode).toBe('NOERROR');
  });

  it('endpoint_pod_names names endpoints without hostname after their pod', () => {
    const cf = parseCorefile('.:53 {\n kubernetes cluster.local {\n  endpoint_pod_names\n }\n}\n')!;
    const svc = model.service('app', 'sub')!;
    expect(
      dnsEndpoints(model, svc, cf)
        .map((e) => e.hostname)
        .sort(),
    ).toEqual(['alpha', 'sub-b']);
    expect(data(ask(`sub-b.sub.app.svc.${Z}`, 'A', model, cf))).toEqual(['A 10.244.1.21']);
  });

  it('headless SRV weight counts candidates before de-duplication (CoreDNS handler_test)', () => {
    const eps = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6'].map((ip, i) => ({
      addresses: [ip],
      conditions: { ready: true },
      ...(i >= 4 ? { hostname: 'dup-name' } : {}),
    }));
    const m = buildModel([
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { namespace: 'testns', name: 'hdls1' },
        spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { namespace: 'testns', name: 'hdls1-x', labels: { 'kubernetes.io/service-name': 'hdls1' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
        endpoints: eps,
      },
    ]);
    const srv = ask(`_http._tcp.hdls1.testns.svc.${Z}`, 'SRV', m);
    expect(srv.answers).toHaveLength(5);
    expect(new Set(srv.answers.map((r) => r.data.split(' ')[1]))).toEqual(new Set(['16']));
    expect(data(ask(`dup-name.hdls1.testns.svc.${Z}`, 'A', m))).toEqual(['A 10.0.0.5', 'A 10.0.0.6']);
  });
});

describe('expectedAnswer: pods, reverse, zone edges', () => {
  it('pods insecure answers any address in an existing namespace; verified needs the pod; disabled none', () => {
    expect(data(ask(`10-9-9-9.app.pod.${Z}`))).toEqual(['A 10.9.9.9']);
    expect(data(ask(`fd00--9.app.pod.${Z}`, 'AAAA'))).toEqual(['AAAA fd00::9']);
    expect(ask(`fd00--9.app.pod.${Z}`, 'A').answers).toEqual([]);
    expect(ask(`10-9-9-9.nope.pod.${Z}`).rcode).toBe('NXDOMAIN');
    expect(ask(`not-an-ip.app.pod.${Z}`).rcode).toBe('NXDOMAIN');
    const verified = parseCorefile('.:53 {\n kubernetes cluster.local {\n  pods verified\n }\n}\n');
    expect(ask(`10-9-9-9.app.pod.${Z}`, 'A', model, verified).rcode).toBe('NXDOMAIN');
    expect(ask(`10-244-1-10.app.pod.${Z}`, 'A', model, verified).objects).toEqual(['pod/app/web-0']);
    expect(ask(`10-244-1-10.default.pod.${Z}`, 'A', model, verified).rcode).toBe('NXDOMAIN');
    const disabled = parseCorefile('.:53 {\n kubernetes cluster.local\n}\n');
    expect(ask(`10-244-1-10.app.pod.${Z}`, 'A', model, disabled).rcode).toBe('NXDOMAIN');
  });

  it('PTR: ClusterIP first, then endpoints (any of several), fallthrough → UNKNOWN, else NXDOMAIN', () => {
    expect(data(ask(reverseName('10.96.0.10'), 'PTR'))).toEqual([`PTR kube-dns.kube-system.svc.${Z}`]);
    expect(data(ask(reverseName('10.244.0.2'), 'PTR'))).toEqual([
      `PTR 10-244-0-2.kube-dns.kube-system.svc.${Z}`,
    ]);
    expect(data(ask(reverseName('10.244.1.20'), 'PTR'))).toEqual([`PTR alpha.sub.app.svc.${Z}`]);
    expect(ask(reverseName('10.99.99.99'), 'PTR').rcode).toBe('UNKNOWN');
    const noFall = parseCorefile('.:53 {\n kubernetes cluster.local in-addr.arpa\n}\n');
    expect(ask(reverseName('10.99.99.99'), 'PTR', model, noFall).rcode).toBe('NXDOMAIN');
    const noReverse = parseCorefile('.:53 {\n kubernetes cluster.local\n}\n');
    expect(ask(reverseName('10.96.0.10'), 'PTR', model, noReverse).rcode).toBe('UNKNOWN');
    // An address two headless services share: either name is right.
    const shared = buildModel([
      ...testBundle(),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { namespace: 'app', name: 'web2' },
        spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { namespace: 'app', name: 'web2-x', labels: { 'kubernetes.io/service-name': 'web2' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080 }],
        endpoints: [{ addresses: ['10.244.1.10'], hostname: 'w0' }],
      },
    ]);
    const ptr = ask(reverseName('10.244.1.10'), 'PTR', shared);
    expect(ptr.match).toBe('any');
    expect(data(ptr).sort()).toEqual([`PTR w0.web2.app.svc.${Z}`, `PTR web-0.headless.app.svc.${Z}`]);
  });

  it('zone edges: apex and dns-version, ns.dns, other zones', () => {
    expect(ask(Z).answers).toEqual([]);
    expect(ask(Z).rcode).toBe('NOERROR');
    expect(ask(`dns-version.${Z}`, 'A').rcode).toBe('NOERROR');
    expect(ask(`ns.dns.${Z}`).rcode).toBe('UNKNOWN');
    expect(ask('www.example.com').rcode).toBe('UNKNOWN');
    expect(ask(`x.app.svc.other.local`).rcode).toBe('UNKNOWN');
  });

  it('without a Corefile knet assumes the kubeadm default (pods insecure, ttl 30)', () => {
    const plain = buildModel(testBundle().filter((o) => o.kind !== 'ConfigMap'));
    const a = expectedAnswer(plain, { name: `10-1-1-1.app.pod.${Z}`, type: 'A' }, { clusterDomain: Z });
    expect(a.answers[0]).toMatchObject({ data: '10.1.1.1', ttl: 30 });
    expect(a.reason).toContain(kubeadmDefault(Z).origin);
  });
});
