// NetworkPolicy semantics beyond the e2e truth tables. Each expectation is a fact stated by an
// upstream source, named in the test: [API] k8s.io/api networking/v1 types.go field docs,
// [DEF] pkg/apis/networking/v1/defaults.go, [VAL] validation.go and e2e network_policy_api.go,
// [DOC] the network-policies concept page, [CYC] cyclonus matcher tests, [NPA] np-guard
// netpol-analyzer tests, [E2E-OLD] the policies.go helpers of older e2e versions (DNS rules).
// See shared/reference/netpol-semantics.md.
import { describe, expect, it } from 'vitest';
import {
  evaluatePolicy,
  type PolicyEndpoint,
  type PolicyVerdict,
} from '../../src/analyses/policy/evaluate.js';
import { policiesSelecting } from '../../src/analyses/policy/select.js';
import { policyProblems } from '../../src/analyses/policy/validate.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { normalizeNetworkPolicy, type Raw } from '../../src/model/normalize.js';
import type { Protocol } from '../../src/model/types.js';
import {
  addLabels,
  e2eObjects,
  egressRules,
  ingressRules,
  nsName,
  podIP,
  policy,
  policyMatchLabels,
} from './e2e-helpers.js';

/** A policy as written in a YAML file: no server defaulting applied. */
const yamlPolicy = (namespace: string, name: string, spec: Raw): Raw => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { namespace, name },
  spec,
});

function model(policies: Raw[], mutate?: (raws: Raw[]) => void): ClusterModel {
  const raws = e2eObjects();
  mutate?.(raws);
  return buildModel([...raws, ...policies]);
}

function endpoint(m: ClusterModel, text: string): PolicyEndpoint {
  if (text.startsWith('ip/')) return { kind: 'ip', ip: text.slice(3) };
  const [ns, name] = text.split('/');
  const pod = m.pod(ns, name);
  if (!pod) throw new Error(`no pod ${text}`);
  return { kind: 'pod', pod };
}

function check(
  m: ClusterModel,
  from: string,
  to: string,
  port = 80,
  protocol: Protocol = 'TCP',
): PolicyVerdict {
  return evaluatePolicy(m, { source: endpoint(m, from), destination: endpoint(m, to), port, protocol });
}

const allowed = (m: ClusterModel, from: string, to: string, port = 80, protocol: Protocol = 'TCP') =>
  check(m, from, to, port, protocol).allowed;

describe('policyTypes defaulting [API][DEF]', () => {
  it('no policyTypes, no rules: Ingress only (default-deny ingress, egress untouched)', () => {
    const m = model([yamlPolicy('x', 'deny', { podSelector: {} })]);
    expect(m.networkPolicies[0].policyTypes).toEqual(['Ingress']);
    expect(allowed(m, 'y/a', 'x/a')).toBe(false);
    expect(allowed(m, 'x/a', 'y/a')).toBe(true);
  });

  it('no policyTypes with egress rules: Ingress and Egress, so ingress is isolated too', () => {
    const m = model([
      yamlPolicy('x', 'egress-only?', { podSelector: {}, egress: [{ to: [{ namespaceSelector: {} }] }] }),
    ]);
    expect(m.networkPolicies[0].policyTypes).toEqual(['Ingress', 'Egress']);
    const v = check(m, 'y/a', 'x/a');
    expect(v.allowed).toBe(false);
    expect(v.ingress.isolated).toBe(true);
    expect(v.ingress.policies).toEqual(['x/egress-only?']);
    expect(allowed(m, 'x/a', 'y/a')).toBe(true);
  });

  it('no policyTypes and egress: [] (empty): Ingress only, egress not isolated', () => {
    const m = model([yamlPolicy('x', 'p', { podSelector: {}, egress: [] })]);
    expect(check(m, 'x/a', 'y/a').egress.isolated).toBe(false);
  });

  it('policyTypes [Egress] with an ingress section: the ingress section is ignored', () => {
    const m = model([
      yamlPolicy('x', 'p', { podSelector: {}, policyTypes: ['Egress'], ingress: [], egress: [{}] }),
    ]);
    const v = check(m, 'y/a', 'x/a');
    expect(v.ingress.isolated).toBe(false);
    expect(v.allowed).toBe(true);
  });
});

describe('spec.podSelector [API]', () => {
  it('a missing podSelector selects every pod of the namespace, and only that namespace', () => {
    const m = model([yamlPolicy('x', 'no-selector', { policyTypes: ['Ingress'] })]);
    for (const pod of ['x/a', 'x/b', 'x/c']) expect(allowed(m, 'y/a', pod)).toBe(false);
    expect(allowed(m, 'x/a', 'y/b')).toBe(true);
  });

  it('matchExpressions Exists / DoesNotExist', () => {
    const mutate = (raws: Raw[]) => addLabels(raws, 'Pod', 'x', 'b', { team: 'blue' });
    const exists = model(
      [
        policyMatchLabels(
          'x',
          'p',
          { pod: 'a' },
          ingressRules({
            from: [{ podSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] } }],
          }),
        ),
      ],
      mutate,
    );
    expect(allowed(exists, 'x/b', 'x/a')).toBe(true);
    expect(allowed(exists, 'x/c', 'x/a')).toBe(false);
    const absent = model(
      [
        policyMatchLabels(
          'x',
          'p',
          { pod: 'a' },
          ingressRules({
            from: [{ podSelector: { matchExpressions: [{ key: 'team', operator: 'DoesNotExist' }] } }],
          }),
        ),
      ],
      mutate,
    );
    expect(allowed(absent, 'x/b', 'x/a')).toBe(false);
    expect(allowed(absent, 'x/c', 'x/a')).toBe(true);
  });
});

describe('rules, peers and union [API][DOC][NPA][CYC]', () => {
  it('from: [] (empty) matches every source, external addresses included [API][NPA t22]', () => {
    const m = model([
      policyMatchLabels('x', 'p', { pod: 'a' }, ingressRules({ from: [], ports: [{ port: 80 }] })),
    ]);
    expect(allowed(m, 'ip/192.168.242.7', 'x/a')).toBe(true);
    expect(allowed(m, 'z/c', 'x/a')).toBe(true);
    expect(allowed(m, 'z/c', 'x/a', 81)).toBe(false);
  });

  it('namespaceSelector: {} matches every pod but no external address [CYC][NPA t35]', () => {
    const m = model([
      policyMatchLabels('x', 'p', { pod: 'a' }, egressRules({ to: [{ namespaceSelector: {} }] })),
    ]);
    expect(allowed(m, 'x/a', 'z/c')).toBe(true);
    expect(allowed(m, 'x/a', 'ip/192.168.242.7')).toBe(false);
  });

  it('ports: [{}] means every TCP port and nothing else [DEF][CYC]', () => {
    const m = model([policyMatchLabels('x', 'p', { pod: 'a' }, ingressRules({ ports: [{}] }))]);
    expect(allowed(m, 'y/a', 'x/a', 8080)).toBe(true);
    expect(allowed(m, 'y/a', 'x/a', 53, 'UDP')).toBe(false);
  });

  it('union: any policy that allows wins, and the verdict names the one that did [DOC]', () => {
    const m = model([
      policyMatchLabels(
        'x',
        'from-y',
        { pod: 'a' },
        ingressRules({ from: [{ namespaceSelector: nsName('y') }] }),
      ),
      policyMatchLabels(
        'x',
        'from-z',
        { pod: 'a' },
        ingressRules({ from: [{ namespaceSelector: nsName('z') }] }),
      ),
    ]);
    const fromZ = check(m, 'z/b', 'x/a');
    expect(fromZ.allowed).toBe(true);
    expect(fromZ.ingress.policies).toEqual(['x/from-y', 'x/from-z']);
    expect(fromZ.ingress.allowedBy.map((r) => [r.policy, r.rule])).toEqual([['x/from-z', 0]]);
    expect(fromZ.ingress.reason).toContain('x/from-z ingress[0]');
    const fromX = check(m, 'x/b', 'x/a');
    expect(fromX.allowed).toBe(false);
    expect(fromX.ingress.reason).toContain('no ingress rule of these 2 policies');
  });

  it('a policy never isolates pods of another namespace [API][DOC]', () => {
    const m = model([policy('y', 'deny-all', {}, ingressRules(), egressRules())]);
    const v = check(m, 'x/a', 'x/b');
    expect(v.egress.isolated).toBe(false);
    expect(v.ingress.isolated).toBe(false);
    expect(v.allowed).toBe(true);
  });

  it('egress to DNS: deny-all-tcp-allow-dns allows UDP/53 and nothing else [E2E-OLD GetDenyAllWithEgressDNS]', () => {
    const m = model([
      policy(
        'x',
        'deny-all-tcp-allow-dns',
        {},
        ingressRules(),
        egressRules({ ports: [{ protocol: 'UDP', port: 53 }] }),
      ),
    ]);
    expect(allowed(m, 'x/a', 'kube-system/coredns-7db6d8ff4d-abcde', 53, 'UDP')).toBe(true);
    expect(allowed(m, 'x/a', 'kube-system/coredns-7db6d8ff4d-abcde', 53, 'TCP')).toBe(false);
    expect(allowed(m, 'x/a', 'y/a', 80, 'TCP')).toBe(false);
    expect(allowed(m, 'y/a', 'x/a', 53, 'UDP')).toBe(false);
  });

  it('egress to one pod plus DNS: the DNS rule has no `to`, so UDP/53 goes anywhere [E2E-OLD GetAllowEgressByNamespaceAndPod]', () => {
    const m = model([
      policyMatchLabels(
        'x',
        'allow-to-ns-y-pod-a',
        { pod: 'a' },
        egressRules(
          { to: [{ namespaceSelector: nsName('y'), podSelector: { matchLabels: { pod: 'a' } } }] },
          { ports: [{ protocol: 'UDP', port: 53 }] },
        ),
      ),
    ]);
    const dns = check(m, 'x/a', 'kube-system/coredns-7db6d8ff4d-abcde', 53, 'UDP');
    expect(dns.allowed).toBe(true);
    expect(dns.egress.allowedBy.map((r) => r.rule)).toEqual([1]);
    expect(allowed(m, 'x/a', 'y/a', 80)).toBe(true);
    expect(allowed(m, 'x/a', 'y/b', 80)).toBe(false);
    expect(allowed(m, 'x/a', 'ip/8.8.8.8', 53, 'UDP')).toBe(true);
  });
});

describe('ipBlock [API][DOC][VAL][CYC][NPA]', () => {
  const ingressFromBlock = (cidr: string, except: string[] = []) =>
    model([
      policyMatchLabels('x', 'p', { pod: 'a' }, ingressRules({ from: [{ ipBlock: { cidr, except } }] })),
    ]);

  it('172.17.0.0/16 except 172.17.1.0/24 admits 172.17.0.0-172.17.0.255 and 172.17.2.0-172.17.255.255 [DOC]', () => {
    const m = ingressFromBlock('172.17.0.0/16', ['172.17.1.0/24']);
    expect(allowed(m, 'ip/172.17.0.255', 'x/a')).toBe(true);
    expect(allowed(m, 'ip/172.17.1.0', 'x/a')).toBe(false);
    expect(allowed(m, 'ip/172.17.1.255', 'x/a')).toBe(false);
    expect(allowed(m, 'ip/172.17.2.0', 'x/a')).toBe(true);
    expect(allowed(m, 'ip/172.17.255.255', 'x/a')).toBe(true);
    expect(allowed(m, 'ip/172.16.255.255', 'x/a')).toBe(false);
  });

  it('an IPv4 block never matches an IPv6 address [VAL]', () => {
    const m = ingressFromBlock('0.0.0.0/0');
    expect(allowed(m, 'ip/10.1.2.3', 'x/a')).toBe(true);
    expect(allowed(m, 'ip/fd00::1', 'x/a')).toBe(false);
  });

  it('the legacy host-bits form 192.168.242.213/24 means its network [CYC][NPA t1]', () => {
    const m = ingressFromBlock('192.168.242.213/24');
    expect(allowed(m, 'ip/192.168.242.0', 'x/a')).toBe(true);
    expect(allowed(m, 'ip/192.168.243.0', 'x/a')).toBe(false);
  });

  it('an address excepted by one ipBlock is still allowed by another peer [DOC union]', () => {
    const m = model([
      policyMatchLabels(
        'x',
        'p',
        { pod: 'a' },
        ingressRules({
          from: [
            { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
            { ipBlock: { cidr: '10.1.2.0/24' } },
          ],
        }),
      ),
    ]);
    expect(allowed(m, 'ip/10.1.2.3', 'x/a')).toBe(true);
    expect(allowed(m, 'ip/10.1.3.3', 'x/a')).toBe(false);
  });

  it('an ipBlock covering a pod IP matches it (e2e), and the verdict says CNIs may differ [E2E]', () => {
    const m = model([
      policyMatchLabels(
        'x',
        'p',
        { pod: 'a' },
        egressRules({ to: [{ ipBlock: { cidr: `${podIP('y/b')}/32` } }] }),
      ),
    ]);
    const v = check(m, 'x/a', 'y/b');
    expect(v.allowed).toBe(true);
    expect(v.notes.join('\n')).toMatch(/ipBlock.*pod IP.*CNI/);
    expect(check(m, 'x/a', 'y/c').allowed).toBe(false);
  });
});

describe('ports: named ports, endPort, SCTP [API][VAL][CYC][NPA][E2E]', () => {
  it('a named port must match the container port name and protocol [CYC][NPA named ports]', () => {
    const m = model([
      policyMatchLabels(
        'x',
        'p',
        { pod: 'a' },
        ingressRules({
          ports: [
            { protocol: 'UDP', port: 'serve-80-tcp' },
            { protocol: 'UDP', port: 'serve-81-udp' },
          ],
        }),
      ),
    ]);
    expect(allowed(m, 'y/a', 'x/a', 80, 'TCP')).toBe(false);
    expect(allowed(m, 'y/a', 'x/a', 80, 'UDP')).toBe(false);
    expect(allowed(m, 'y/a', 'x/a', 81, 'UDP')).toBe(true);
    expect(check(m, 'y/a', 'x/a', 80, 'UDP').ingress.evidence.join('\n')).toContain(
      'UDP/serve-80-tcp (named port) = not declared',
    );
  });

  it('named ports resolve on each destination pod (egress: on the peer) [CYC jobbuilder][NPA]', () => {
    const mutate = (raws: Raw[]) => {
      const setWeb = (name: string, port: number) => {
        const pod = raws.find(
          (r) => r.kind === 'Pod' && r.metadata.namespace === 'y' && r.metadata.name === name,
        );
        pod.spec.containers = [
          ...pod.spec.containers,
          { name: 'web', ports: [{ name: 'web', containerPort: port, protocol: 'TCP' }] },
        ];
      };
      setWeb('b', 8080);
      setWeb('c', 9090);
    };
    const m = model(
      [policyMatchLabels('x', 'p', { pod: 'a' }, egressRules({ ports: [{ port: 'web' }] }))],
      mutate,
    );
    expect(allowed(m, 'x/a', 'y/b', 8080)).toBe(true);
    expect(allowed(m, 'x/a', 'y/c', 8080)).toBe(false);
    expect(allowed(m, 'x/a', 'y/c', 9090)).toBe(true);
    expect(allowed(m, 'x/a', 'y/a', 8080)).toBe(false);
  });

  it('a named port never matches a destination that is not a pod [NPA][CYC]', () => {
    const m = model([
      policyMatchLabels('x', 'p', { pod: 'a' }, egressRules({ ports: [{ port: 'serve-80-tcp' }] })),
    ]);
    const v = check(m, 'x/a', 'ip/8.8.8.8', 80);
    expect(v.allowed).toBe(false);
    expect(v.notes.join('\n')).toContain('named ports never match');
    expect(allowed(m, 'x/a', 'y/a', 80)).toBe(true);
  });

  it('port + endPort is an inclusive range, TCP by default [API][DEF]', () => {
    const m = model([
      policyMatchLabels('x', 'p', { pod: 'a' }, ingressRules({ ports: [{ port: 80, endPort: 81 }] })),
    ]);
    expect(allowed(m, 'y/a', 'x/a', 79)).toBe(false);
    expect(allowed(m, 'y/a', 'x/a', 80)).toBe(true);
    expect(allowed(m, 'y/a', 'x/a', 81)).toBe(true);
    expect(allowed(m, 'y/a', 'x/a', 82)).toBe(false);
    expect(allowed(m, 'y/a', 'x/a', 81, 'UDP')).toBe(false);
    expect(check(m, 'y/a', 'x/a', 81).notes.join('\n')).toContain('endPort');
  });

  it('protocol SCTP with no port allows SCTP on any port and never TCP, from pods and from addresses [CYC]', () => {
    const m = model([
      policyMatchLabels('x', 'p', { pod: 'a' }, ingressRules({ ports: [{ protocol: 'SCTP' }] })),
    ]);
    expect(allowed(m, 'y/a', 'x/a', 103, 'SCTP')).toBe(true);
    expect(allowed(m, 'y/a', 'x/a', 103, 'TCP')).toBe(false);
    expect(allowed(m, 'ip/192.168.1.1', 'x/a', 103, 'SCTP')).toBe(true);
    expect(allowed(m, 'ip/192.168.1.1', 'x/a', 103, 'TCP')).toBe(false);
    expect(check(m, 'y/a', 'x/a', 103, 'SCTP').notes.join('\n')).toContain('SCTP');
  });
});

describe('special traffic: self, nodes, hostNetwork pods, Services [DOC][API]', () => {
  const denyAll = policy('x', 'deny-all', {}, ingressRules(), egressRules());

  it('a pod can always reach itself; the note says e2e ignores it [DOC][E2E]', () => {
    const v = check(model([denyAll]), 'x/a', 'x/a');
    expect(v.allowed).toBe(true);
    expect(v.ingress.isolated).toBe(true);
    expect(v.notes.join('\n')).toContain('itself');
  });

  it("ingress from the pod's own node is always allowed; from another node it is not [API][DOC]", () => {
    const m = model([denyAll]);
    // x/a runs on node-1 (172.18.0.2); node-2 is 172.18.0.3.
    expect(allowed(m, 'ip/172.18.0.2', 'x/a')).toBe(true);
    expect(check(m, 'ip/172.18.0.2', 'x/a').source).toMatchObject({ kind: 'Node', name: 'node-1' });
    expect(allowed(m, 'ip/172.18.0.3', 'x/a')).toBe(false);
    expect(allowed(m, 'x/a', 'ip/172.18.0.2')).toBe(true);
    expect(allowed(m, 'x/a', 'ip/172.18.0.3')).toBe(false);
  });

  it('hostNetwork pods are node traffic: selectors never match them, an ipBlock on the node address can [DOC]', () => {
    const selectors = model([
      policy('x', 'from-all-pods', {}, ingressRules({ from: [{ namespaceSelector: {} }] })),
    ]);
    // kube-proxy is hostNetwork on node-1; x/b runs on node-2.
    const v = check(selectors, 'kube-system/kube-proxy-q8w2n', 'x/b');
    expect(v.allowed).toBe(false);
    expect(v.egress.applies).toBe(false);
    expect(v.notes.join('\n')).toContain('hostNetwork');
    expect(allowed(selectors, 'kube-system/kube-proxy-q8w2n', 'x/a')).toBe(true);
    const block = model([
      policy('x', 'from-nodes', {}, ingressRules({ from: [{ ipBlock: { cidr: '172.18.0.0/16' } }] })),
    ]);
    expect(allowed(block, 'kube-system/kube-proxy-q8w2n', 'x/b')).toBe(true);
  });

  it('an ip/ADDR of a pod is evaluated as that pod [task brief]', () => {
    const m = model([
      policyMatchLabels(
        'x',
        'p',
        { pod: 'b' },
        ingressRules({ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }),
      ),
    ]);
    const v = check(m, `ip/${podIP('x/a')}`, 'x/b');
    expect(v.allowed).toBe(true);
    expect(v.source).toMatchObject({ kind: 'Pod', namespace: 'x', name: 'a' });
    expect(allowed(m, `ip/${podIP('x/c')}`, 'x/b')).toBe(false);
  });

  it('a Service address is not what policies see: the verdict is unknown [DOC][E2E probes via ClusterIP]', () => {
    const v = check(model([denyAll]), 'x/a', 'ip/10.96.0.10', 53, 'UDP');
    expect(v.verdict).toBe('unknown');
    expect(v.allowed).toBeNull();
    expect(v.notes.join('\n')).toContain('Service kube-system/kube-dns');
    expect(v.egress.verdict).toBe('unknown');
    // A source that is not isolated for egress may send anywhere: only ingress is undecided.
    const free = check(model([denyAll]), 'y/a', 'ip/10.96.0.10', 53, 'UDP');
    expect([free.egress.verdict, free.ingress.verdict, free.verdict]).toEqual([
      'allowed',
      'unknown',
      'unknown',
    ]);
  });

  it('a source without an address against an ipBlock-only rule is unknown, not allowed', () => {
    const mutate = (raws: Raw[]) => {
      const pod = raws.find(
        (r) => r.kind === 'Pod' && r.metadata.namespace === 'y' && r.metadata.name === 'c',
      );
      pod.status = { phase: 'Pending' };
    };
    const m = model(
      [
        policyMatchLabels(
          'x',
          'p',
          { pod: 'a' },
          ingressRules({ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }),
        ),
      ],
      mutate,
    );
    const v = check(m, 'y/c', 'x/a');
    expect(v.verdict).toBe('unknown');
    expect(v.ingress.reason).toContain('not known');
    const selector = model(
      [
        policyMatchLabels(
          'x',
          'p',
          { pod: 'a' },
          ingressRules({ from: [{ namespaceSelector: nsName('y') }] }),
        ),
      ],
      mutate,
    );
    expect(check(selector, 'y/c', 'x/a').allowed).toBe(true);
  });
});

describe('findings and evidence', () => {
  it('a denial names the isolating policies and each rule that did not match', () => {
    const m = model([
      policyMatchLabels(
        'x',
        'web',
        { pod: 'a' },
        ingressRules({ from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 81 }] }),
      ),
    ]);
    const v = check(m, 'y/a', 'x/a', 80);
    expect(v.allowed).toBe(false);
    expect(v.findings.map((f) => f.code)).toEqual(['POLICY_DENIED_INGRESS']);
    const f = v.findings[0];
    expect(f.objects).toEqual(['pod/x/a', 'pod/y/a', 'networkpolicy/x/web']);
    expect(f.evidence).toEqual(['x/web ingress[0]: TCP/80 is not in [TCP/81]']);
    expect(v.ingress.reason).toMatch(
      /isolated for ingress by 1 policy \(x\/web\), and no ingress rule of this policy/,
    );
    const peerMiss = check(m, 'z/a', 'x/a', 81);
    expect(peerMiss.ingress.evidence[0]).toContain('namespace z does not match');
  });

  it('an egress denial is POLICY_DENIED_EGRESS on the source pod', () => {
    const v = check(
      model([policy('x', 'deny-egress', { matchLabels: { pod: 'a' } }, egressRules())]),
      'x/a',
      'y/a',
    );
    expect(v.findings.map((f) => f.code)).toEqual(['POLICY_DENIED_EGRESS']);
    expect(v.findings[0].objects).toContain('networkpolicy/x/deny-egress');
    expect(v.findings[0].evidence).toEqual(['x/deny-egress allows no egress at all']);
    expect(v.egress.verdict).toBe('denied');
    expect(v.ingress.verdict).toBe('allowed');
  });

  it('POLICY_NOT_ENFORCED when the only CNI is flannel; none with calico', () => {
    const p = [policy('x', 'deny', {}, ingressRules())];
    expect(check(model(p), 'y/a', 'x/a').findings.map((f) => f.code)).toEqual(['POLICY_DENIED_INGRESS']);
    const flannel = model(p, (raws) => {
      const ds = raws.find((r) => r.kind === 'DaemonSet');
      ds.metadata = { namespace: 'kube-flannel', name: 'kube-flannel-ds' };
      ds.spec.template.spec.containers = [
        { name: 'kube-flannel', image: 'docker.io/flannel/flannel:v0.25.1' },
      ];
    });
    const codes = check(flannel, 'y/a', 'x/a').findings.map((f) => f.code);
    expect(codes).toEqual(['POLICY_DENIED_INGRESS', 'POLICY_NOT_ENFORCED']);
    expect(check(flannel, 'y/a', 'y/b').findings).toEqual([]);
  });
});

describe('other policy kinds [reference §11]', () => {
  it('notes AdminNetworkPolicy and CNI policy CRDs, which knet does not evaluate', () => {
    const m = model([
      {
        apiVersion: 'policy.networking.k8s.io/v1alpha1',
        kind: 'AdminNetworkPolicy',
        metadata: { name: 'sre' },
        spec: {},
      },
      {
        apiVersion: 'cilium.io/v2',
        kind: 'CiliumNetworkPolicy',
        metadata: { namespace: 'x', name: 'l7' },
        spec: {},
      },
    ]);
    expect(m.networkPolicies).toHaveLength(0);
    const note = check(m, 'y/a', 'x/a').notes.find((n) => n.includes('AdminNetworkPolicy'));
    expect(note).toContain('CiliumNetworkPolicy (cilium.io/v2)');
    expect(check(model([]), 'y/a', 'x/a').notes).toEqual([]);
  });
});

describe('validation [VAL][e2e network_policy_api.go "should support creating NetworkPolicy API with endport field"]', () => {
  const problems = (ports: Raw[]) =>
    policyProblems(
      normalizeNetworkPolicy(
        yamlPolicy('x', 'p', { podSelector: {}, egress: [{ ports }], policyTypes: ['Egress'] }),
      ),
    );

  it('endPort without port, with a named port, or below port is rejected', () => {
    expect(problems([{ endPort: 20000 }])).toEqual(['spec.egress[0].ports[0]: endPort requires port']);
    expect(problems([{ port: 'serve-80', endPort: 20000 }])).toEqual([
      'spec.egress[0].ports[0]: endPort may not be used with a named port',
    ]);
    expect(problems([{ port: 30000, endPort: 20000 }])).toEqual([
      'spec.egress[0].ports[0]: endPort 20000 is less than port 30000',
    ]);
  });

  it('endPort equal to or above port is accepted', () => {
    expect(problems([{ port: 20000, endPort: 20000 }])).toEqual([]);
    expect(problems([{ port: 10000, endPort: 20000 }])).toEqual([]);
  });

  it('peers: empty peer, ipBlock with a selector, except outside cidr', () => {
    const p = normalizeNetworkPolicy(
      yamlPolicy('x', 'p', {
        podSelector: {},
        ingress: [
          {
            from: [
              {},
              { ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} },
              { ipBlock: { cidr: '10.0.0.0/8', except: ['10.0.0.0/8', '11.0.0.0/16'] } },
            ],
          },
        ],
      }),
    );
    expect(policyProblems(p)).toEqual([
      'spec.ingress[0].from[0]: must specify a peer',
      'spec.ingress[0].from[1]: may not specify both ipBlock and another peer',
      'spec.ingress[0].from[2].ipBlock.except[0]: 10.0.0.0/8 must be a strict subset of 10.0.0.0/8',
      'spec.ingress[0].from[2].ipBlock.except[1]: 11.0.0.0/16 must be a strict subset of 10.0.0.0/8',
    ]);
  });

  it('an invalid policy selecting a pod shows up as POLICY_INVALID in its verdict', () => {
    const m = model([yamlPolicy('x', 'bad', { podSelector: {}, ingress: [{ ports: [{ endPort: 90 }] }] })]);
    const codes = check(m, 'y/a', 'x/a').findings.map((f) => f.code);
    expect(codes).toContain('POLICY_INVALID');
  });
});

describe('policiesSelecting: one pod in plain words', () => {
  it('lists the policies per direction with every rule', () => {
    const m = model([
      policy('x', 'deny-all', {}, ingressRules(), egressRules()),
      policyMatchLabels(
        'x',
        'web',
        { pod: 'a' },
        ingressRules({
          from: [{ namespaceSelector: nsName('y'), podSelector: { matchLabels: { pod: 'b' } } }],
          ports: [{ port: 80, endPort: 90 }],
        }),
      ),
      policyMatchLabels('x', 'other', { pod: 'b' }, ingressRules({})),
    ]);
    const s = policiesSelecting(m, m.pod('x', 'a')!);
    expect(s.ingress.isolated).toBe(true);
    expect(s.ingress.policies.map((p) => p.policy)).toEqual(['x/deny-all', 'x/web']);
    expect(s.ingress.policies[1].rules).toEqual([
      { rule: 0, description: 'from pods pod=b in namespaces kubernetes.io/metadata.name=y, on TCP/80-90' },
    ]);
    expect(s.ingress.policies[0].summary).toBe('allows no ingress (isolation only)');
    expect(s.egress.policies.map((p) => p.policy)).toEqual(['x/deny-all']);
    expect(s.egress.summary).toContain('all egress is denied');
    const free = policiesSelecting(model([]), m.pod('y', 'a')!);
    expect(free.ingress.isolated).toBe(false);
    expect(free.ingress.summary).toBe('No policy selects pod y/a for ingress: all ingress is allowed.');
  });
});
