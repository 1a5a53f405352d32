// The upstream NetworkPolicy e2e truth tables, reproduced cell by cell.
//
// Source: kubernetes/kubernetes test/e2e/network/netpol/network_policy.go at commit
// 9db638c0807a720aa050ebcef69c32e4d4cce280 (the version that probes all 9 pods x/a…z/c), with
// the helpers of policies.go / test_helper.go. Each `it` names the upstream test ("should …")
// and builds the same policies and the same Reachability (ExpectPeer, ExpectAllIngress, …) the
// upstream test does; every non-loopback cell (72 per table) is one probe. Loopback cells are
// skipped exactly as upstream skips them (ignoreLoopback = true).
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalCIDR } from '../../src/core/ip.js';
import type { Raw } from '../../src/model/normalize.js';
import type { Protocol } from '../../src/model/types.js';
import {
  addLabels,
  egressRules,
  ingressRules,
  mismatches,
  modelWith,
  nsName,
  type Peer,
  podIP,
  policy,
  policyMatchLabels,
  probeAll,
  Reachability,
} from './e2e-helpers.js';

interface Step {
  /** ginkgo.By text, or what changed before this step. */
  label: string;
  port: number;
  protocol: Protocol;
  reachability: Reachability;
  /** Replaces the case's policies for this step (UpdatePolicy / CreatePolicy / delete). */
  policies?: Raw[];
  mutate?: (raws: Raw[]) => void;
}

interface Case {
  upstream: string;
  policies: Raw[];
  steps: Step[];
}

const X: Peer = { namespace: 'x' };
const Y: Peer = { namespace: 'y' };
const Z: Peer = { namespace: 'z' };
const ANY: Peer = {};
const all = () => new Reachability();
const tcp = (port: number, reachability: Reachability, label = `TCP/${port}`): Step => ({
  label,
  port,
  protocol: 'TCP',
  reachability,
});

const denyIngress = policy('x', 'deny-ingress', {}, ingressRules());
const notInX = {
  matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['x'] }],
};
const allowPort81FromY = policyMatchLabels(
  'x',
  'allow-client-a-via-ns-selector',
  { pod: 'a' },
  ingressRules({ from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 81, protocol: 'TCP' }] }),
);
const reachabilityAllowFromY = () =>
  all()
    .expectPeer(X, { namespace: 'x', pod: 'a' }, false)
    .expectPeer(Y, { namespace: 'x', pod: 'a' }, true)
    .expectPeer(Z, { namespace: 'x', pod: 'a' }, false);
const podBOnlyToXA = () => all().expectAllIngress('x/a', false).expect('x/b', 'x/a', true);
const onlyYToXA = () =>
  all().expectPeer(X, { namespace: 'x', pod: 'a' }, false).expectPeer(Z, { namespace: 'x', pod: 'a' }, false);
const cidrExceptPolicy = policyMatchLabels(
  'x',
  'allow-client-a-via-cidr-egress-rule',
  { pod: 'a' },
  egressRules({
    to: [{ ipBlock: { cidr: canonicalCIDR(`${podIP('x/b')}/4`), except: [`${podIP('x/b')}/32`] } }],
  }),
);
const denyAll = policy('x', 'deny-all', {}, ingressRules(), egressRules());
const egressToYA = policyMatchLabels(
  'x',
  'allow-to-ns-y-pod-a',
  { pod: 'a' },
  egressRules({ to: [{ namespaceSelector: nsName('y'), podSelector: { matchLabels: { pod: 'a' } } }] }),
);

const CASES: Case[] = [
  {
    upstream: "should support a 'default-deny-ingress' policy",
    policies: [denyIngress],
    steps: [tcp(80, all().expectPeer(ANY, X, false))],
  },
  {
    upstream: "should support a 'default-deny-all' policy",
    policies: [denyAll],
    steps: [tcp(80, all().expectPeer(ANY, X, false).expectPeer(X, ANY, false))],
  },
  {
    upstream: 'should enforce policy to allow traffic from pods within server namespace based on PodSelector',
    policies: [
      policyMatchLabels(
        'x',
        'x-a-allows-x-b',
        { pod: 'a' },
        ingressRules({ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }),
      ),
    ],
    steps: [tcp(80, podBOnlyToXA())],
  },
  {
    upstream: 'should enforce policy to allow ingress traffic for a target',
    policies: [
      policy('x', 'deny-all', {}, ingressRules()),
      policyMatchLabels(
        'x',
        'allow-all-to-a',
        { pod: 'a' },
        ingressRules({ from: [{ podSelector: {}, namespaceSelector: {} }] }),
      ),
    ],
    steps: [
      tcp(
        80,
        all().expectAllIngress('x/a', true).expectAllIngress('x/b', false).expectAllIngress('x/c', false),
      ),
    ],
  },
  {
    upstream: 'should enforce policy to allow ingress traffic from pods in all namespaces',
    policies: [
      policyMatchLabels(
        'x',
        'allow-from-another-ns',
        { pod: 'a' },
        ingressRules({ from: [{ namespaceSelector: { matchLabels: {} } }] }),
      ),
    ],
    steps: [tcp(80, all())],
  },
  {
    upstream:
      'should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector',
    policies: [
      policyMatchLabels(
        'x',
        'allow-client-a-via-ns-selector',
        { pod: 'a' },
        ingressRules({ from: [{ namespaceSelector: nsName('y') }] }),
      ),
    ],
    steps: [tcp(80, onlyYToXA())],
  },
  {
    upstream: 'should enforce policy based on PodSelector with MatchExpressions',
    policies: [
      policyMatchLabels(
        'x',
        'x-a-allows-x-b',
        { pod: 'a' },
        ingressRules({
          from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b'] }] } }],
        }),
      ),
    ],
    steps: [tcp(80, podBOnlyToXA())],
  },
  {
    upstream: 'should enforce policy based on NamespaceSelector with MatchExpressions',
    policies: [
      policyMatchLabels(
        'x',
        'allow-ns-y-match-selector',
        { pod: 'a' },
        ingressRules({
          from: [
            {
              namespaceSelector: {
                matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['y'] }],
              },
            },
          ],
        }),
      ),
    ],
    steps: [tcp(80, onlyYToXA())],
  },
  {
    upstream: 'should enforce policy based on PodSelector or NamespaceSelector',
    policies: [
      policyMatchLabels(
        'x',
        'allow-ns-y-match-selector',
        { pod: 'a' },
        ingressRules({
          from: [{ namespaceSelector: notInX }, { podSelector: { matchLabels: { pod: 'b' } } }],
        }),
      ),
    ],
    steps: [tcp(80, all().expect('x/a', 'x/a', false).expect('x/c', 'x/a', false))],
  },
  {
    upstream: 'should enforce policy based on PodSelector and NamespaceSelector',
    policies: [
      policyMatchLabels(
        'x',
        'allow-ns-y-podselector-and-nsselector',
        { pod: 'a' },
        ingressRules({ from: [{ namespaceSelector: notInX, podSelector: { matchLabels: { pod: 'b' } } }] }),
      ),
    ],
    steps: [
      tcp(80, all().expectAllIngress('x/a', false).expect('y/b', 'x/a', true).expect('z/b', 'x/a', true)),
    ],
  },
  {
    upstream: 'should enforce policy based on Multiple PodSelectors and NamespaceSelectors',
    policies: [
      policyMatchLabels(
        'x',
        'allow-ns-y-z-pod-b-c',
        { pod: 'a' },
        ingressRules({
          from: [
            {
              namespaceSelector: notInX,
              podSelector: { matchExpressions: [{ key: 'pod', operator: 'In', values: ['b', 'c'] }] },
            },
          ],
        }),
      ),
    ],
    steps: [
      tcp(
        80,
        all()
          .expectPeer(X, { namespace: 'x', pod: 'a' }, false)
          .expect('y/a', 'x/a', false)
          .expect('z/a', 'x/a', false),
      ),
    ],
  },
  {
    upstream: 'should enforce policy based on any PodSelectors',
    policies: [
      policyMatchLabels(
        'x',
        'allow-ns-x-pod-b-c',
        { pod: 'a' },
        ingressRules({
          from: [
            { podSelector: { matchLabels: { pod: 'b' } } },
            { podSelector: { matchLabels: { pod: 'c' } } },
          ],
        }),
      ),
    ],
    steps: [
      tcp(80, all().expectAllIngress('x/a', false).expect('x/b', 'x/a', true).expect('x/c', 'x/a', true)),
    ],
  },
  {
    upstream:
      'should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector',
    policies: [
      policyMatchLabels(
        'x',
        'allow-ns-y-pod-a-via-namespace-pod-selector',
        { pod: 'a' },
        ingressRules({
          from: [{ namespaceSelector: nsName('y'), podSelector: { matchLabels: { pod: 'a' } } }],
        }),
      ),
    ],
    steps: [tcp(80, all().expectAllIngress('x/a', false).expect('y/a', 'x/a', true))],
  },
  {
    upstream: 'should enforce policy based on Ports',
    policies: [allowPort81FromY],
    steps: [tcp(81, reachabilityAllowFromY())],
  },
  {
    upstream: 'should enforce multiple, stacked policies with overlapping podSelectors',
    policies: [allowPort81FromY],
    steps: [
      tcp(81, reachabilityAllowFromY(), 'Verifying traffic on port 81.'),
      tcp(80, all().expectAllIngress('x/a', false), 'Verifying traffic on port 80.'),
      {
        ...tcp(80, reachabilityAllowFromY(), 'Verifying that we can add a policy to unblock port 80'),
        policies: [
          allowPort81FromY,
          policyMatchLabels(
            'x',
            'allow-client-a-via-ns-selector-80',
            { pod: 'a' },
            ingressRules({
              from: [{ namespaceSelector: nsName('y') }],
              ports: [{ port: 80, protocol: 'TCP' }],
            }),
          ),
        ],
      },
    ],
  },
  {
    upstream: 'should support allow-all policy',
    policies: [policyMatchLabels('x', 'allow-all', {}, ingressRules({}))],
    steps: [tcp(80, all()), tcp(81, all())],
  },
  {
    upstream: 'should allow ingress access on one named port',
    policies: [policyMatchLabels('x', 'allow-all', {}, ingressRules({ ports: [{ port: 'serve-81-tcp' }] }))],
    steps: [tcp(81, all()), tcp(80, all().expectPeer(ANY, X, false))],
  },
  {
    upstream: 'should allow ingress access from namespace on one named port',
    policies: [
      policyMatchLabels(
        'x',
        'allow-client-a-via-ns-selector-80',
        { pod: 'a' },
        ingressRules({
          from: [{ namespaceSelector: nsName('y') }],
          ports: [{ port: 'serve-80-tcp', protocol: 'TCP' }],
        }),
      ),
    ],
    steps: [
      tcp(80, onlyYToXA(), 'Verify that port 80 is allowed for namespace y'),
      tcp(
        81,
        all().expectAllIngress('x/a', false),
        'Verify that port 81 is blocked for all namespaces including y',
      ),
    ],
  },
  {
    upstream: 'should allow egress access on one named port',
    policies: [
      policyMatchLabels('x', 'allow-egress', {}, egressRules({ ports: [{ port: 'serve-80-tcp' }] })),
    ],
    steps: [tcp(80, all()), tcp(81, all().expectPeer(X, ANY, false))],
  },
  {
    upstream: 'should enforce updated policy',
    policies: [policyMatchLabels('x', 'allow-all-mutate-to-deny-all', {}, ingressRules({}))],
    steps: [
      tcp(81, all(), 'part 1) allow all'),
      {
        ...tcp(81, all().expectPeer(ANY, X, false), 'part 2) update the policy to deny all'),
        policies: [policyMatchLabels('x', 'allow-all-mutate-to-deny-all', {}, ingressRules())],
      },
    ],
  },
  {
    upstream: 'should allow ingress access from updated namespace',
    policies: [
      policyMatchLabels(
        'x',
        'allow-client-a-via-ns-selector',
        { pod: 'a' },
        ingressRules({ from: [{ namespaceSelector: { matchLabels: { ns2: 'updated' } } }] }),
      ),
    ],
    steps: [
      tcp(80, all().expectAllIngress('x/a', false), 'before the label'),
      {
        ...tcp(
          80,
          all().expectAllIngress('x/a', false).expectPeer(Y, ANY, true),
          'AddNamespaceLabel(y, ns2=updated)',
        ),
        mutate: (raws) => addLabels(raws, 'Namespace', undefined, 'y', { ns2: 'updated' }),
      },
    ],
  },
  {
    upstream: 'should allow ingress access from updated pod',
    policies: [
      policyMatchLabels(
        'x',
        'allow-client-a-via-pod-selector',
        { pod: 'a' },
        ingressRules({ from: [{ podSelector: { matchLabels: { pod: 'b', pod2: 'updated' } } }] }),
      ),
    ],
    steps: [
      tcp(80, all().expectAllIngress('x/a', false), 'before the label'),
      {
        ...tcp(80, podBOnlyToXA(), 'x/b is able to reach x/a when label is updated'),
        mutate: (raws) => addLabels(raws, 'Pod', 'x', 'b', { pod: 'b', pod2: 'updated' }),
      },
    ],
  },
  {
    upstream: 'should deny ingress from pods on other namespaces',
    policies: [
      policy('x', 'deny-empty-policy', {}, ingressRules({ from: [{ podSelector: { matchLabels: {} } }] })),
    ],
    steps: [tcp(80, all().expectPeer(Y, X, false).expectPeer(Z, X, false))],
  },
  {
    upstream: 'should deny ingress access to updated pod',
    policies: [
      policy('x', 'deny-ingress-via-label-selector', { matchLabels: { target: 'isolated' } }, ingressRules()),
    ],
    steps: [
      tcp(80, all(), 'Verify that everything can reach x/a'),
      {
        ...tcp(80, all().expectAllIngress('x/a', false), 'AddPodLabels(x/a, target=isolated)'),
        mutate: (raws) => addLabels(raws, 'Pod', 'x', 'a', { target: 'isolated' }),
      },
    ],
  },
  {
    upstream: 'should deny egress from pods based on PodSelector',
    policies: [policy('x', 'deny-egress-pod-a', { matchLabels: { pod: 'a' } }, egressRules())],
    steps: [tcp(80, all().expectAllEgress('x/a', false))],
  },
  {
    upstream: 'should deny egress from all pods in a namespace',
    policies: [policy('x', 'deny-egress-ns-x', {}, egressRules())],
    steps: [tcp(80, all().expectPeer(X, ANY, false))],
  },
  {
    upstream: 'should work with Ingress, Egress specified together',
    policies: [
      (() => {
        const p = policyMatchLabels(
          'x',
          'allow-client-a-via-pod-selector',
          { pod: 'a' },
          ingressRules({ from: [{ podSelector: { matchLabels: { pod: 'b' } } }] }),
        );
        p.spec.egress = [{ ports: [{ port: 80 }] }];
        p.spec.policyTypes = ['Egress', 'Ingress'];
        return p;
      })(),
    ],
    steps: [
      tcp(80, podBOnlyToXA()),
      tcp(
        81,
        all().expectAllIngress('x/a', false).expectAllEgress('x/a', false).expect('x/b', 'x/a', true),
        "validating that port 81 doesn't work",
      ),
    ],
  },
  {
    upstream:
      'should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)',
    policies: [
      egressToYA,
      policyMatchLabels(
        'y',
        'allow-from-xa-on-ya-match-selector',
        { pod: 'a' },
        ingressRules({
          from: [{ namespaceSelector: nsName('x'), podSelector: { matchLabels: { pod: 'a' } } }],
        }),
      ),
      policyMatchLabels(
        'y',
        'allow-from-xa-on-yb-match-selector',
        { pod: 'b' },
        ingressRules({
          from: [{ namespaceSelector: nsName('x'), podSelector: { matchLabels: { pod: 'a' } } }],
        }),
      ),
    ],
    steps: [
      tcp(
        80,
        all()
          .expectPeer({ namespace: 'x', pod: 'a' }, ANY, false)
          .expectPeer(ANY, { namespace: 'y', pod: 'a' }, false)
          .expectPeer({ namespace: 'x', pod: 'a' }, { namespace: 'y', pod: 'a' }, true)
          .expectPeer(ANY, { namespace: 'y', pod: 'b' }, false),
      ),
    ],
  },
  {
    upstream:
      'should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector',
    policies: [egressToYA],
    steps: [tcp(80, all().expectAllEgress('x/a', false).expect('x/a', 'y/a', true))],
  },
  {
    upstream: 'should enforce ingress policy allowing any port traffic to a server on a specific protocol',
    policies: [
      policyMatchLabels(
        'x',
        'allow-ingress-by-proto',
        { pod: 'a' },
        ingressRules({ ports: [{ protocol: 'TCP' }] }),
      ),
    ],
    steps: [
      tcp(80, all()),
      {
        label: 'UDP/80',
        port: 80,
        protocol: 'UDP',
        reachability: all().expectPeer(ANY, { namespace: 'x', pod: 'a' }, false),
      },
    ],
  },
  {
    upstream: 'should enforce multiple ingress policies with ingress allow-all policy taking precedence',
    policies: [policyMatchLabels('x', 'allow-ingress-port-80', {}, ingressRules({ ports: [{ port: 80 }] }))],
    steps: [
      tcp(
        81,
        all().expectPeer(ANY, X, false),
        "The policy targets port 80 -- so let's make sure traffic on port 81 is blocked",
      ),
      {
        ...tcp(81, all(), 'Allowing all ports'),
        policies: [
          policyMatchLabels('x', 'allow-ingress-port-80', {}, ingressRules({ ports: [{ port: 80 }] })),
          policyMatchLabels('x', 'allow-ingress', {}, ingressRules({})),
        ],
      },
    ],
  },
  {
    upstream: 'should enforce multiple egress policies with egress allow-all policy taking precedence',
    policies: [policyMatchLabels('x', 'allow-egress-port-80', {}, egressRules({ ports: [{ port: 80 }] }))],
    steps: [
      tcp(81, all().expectPeer(X, ANY, false), "Making sure ingress doesn't work other than port 80"),
      {
        ...tcp(81, all(), 'Allowing all ports'),
        policies: [
          policyMatchLabels('x', 'allow-egress-port-80', {}, egressRules({ ports: [{ port: 80 }] })),
          policyMatchLabels('x', 'allow-egress', {}, egressRules({})),
        ],
      },
    ],
  },
  {
    upstream: 'should stop enforcing policies after they are deleted',
    policies: [denyAll],
    steps: [
      tcp(80, all().expectPeer(X, ANY, false).expectPeer(ANY, X, false)),
      { ...tcp(80, all(), 'after cleanNetworkPolicies'), policies: [] },
    ],
  },
  {
    upstream: 'should allow egress access to server in CIDR block',
    policies: [
      policyMatchLabels(
        'x',
        'allow-client-a-via-cidr-egress-rule',
        { pod: 'a' },
        egressRules({ to: [{ ipBlock: { cidr: `${podIP('y/b')}/32` } }] }),
      ),
    ],
    steps: [tcp(80, all().expectAllEgress('x/a', false).expect('x/a', 'y/b', true))],
  },
  {
    upstream: 'should enforce except clause while egress access to server in CIDR block',
    policies: [cidrExceptPolicy],
    steps: [tcp(80, all().expect('x/a', 'x/b', false))],
  },
  {
    upstream: 'should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed',
    policies: [cidrExceptPolicy],
    steps: [
      tcp(80, all().expect('x/a', 'x/b', false)),
      {
        // UpdatePolicy with the same name: the /32 policy replaces the except policy.
        ...tcp(
          80,
          all().expectAllEgress('x/a', false).expect('x/a', 'x/b', true),
          'UpdatePolicy to allow x/b/32',
        ),
        policies: [
          policyMatchLabels(
            'x',
            'allow-client-a-via-cidr-egress-rule',
            { pod: 'a' },
            egressRules({ to: [{ ipBlock: { cidr: `${podIP('x/b')}/32` } }] }),
          ),
        ],
      },
    ],
  },
  {
    upstream:
      'should enforce policies to check ingress and egress policies can be controlled independently based on PodSelector',
    policies: [policy('x', 'allow-egress-for-target', { matchLabels: { pod: 'a' } }, egressRules({}))],
    steps: [
      tcp(80, all(), 'Creating a network policy for pod-a which allows Egress traffic to pod-b.'),
      {
        ...tcp(
          80,
          all().expectAllIngress('x/a', false),
          'Creating a network policy for pod-a that denies traffic from pod-b.',
        ),
        policies: [
          policy('x', 'allow-egress-for-target', { matchLabels: { pod: 'a' } }, egressRules({})),
          policy('x', 'deny-ingress-via-label-selector', { matchLabels: { pod: 'a' } }, ingressRules()),
        ],
      },
    ],
  },
  {
    upstream:
      "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    policies: [
      denyIngress,
      policyMatchLabels(
        'x',
        'allow-only-sctp-ingress-on-port-81',
        { pod: 'a' },
        ingressRules({ ports: [{ port: 81, protocol: 'SCTP' }] }),
      ),
    ],
    steps: [tcp(81, all().expectPeer(ANY, X, false))],
  },
  {
    upstream:
      "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't support SCTP",
    policies: [
      policyMatchLabels(
        'x',
        'allow-only-sctp-ingress-on-port-80',
        { pod: 'a' },
        ingressRules({ ports: [{ port: 80, protocol: 'SCTP' }] }),
      ),
    ],
    steps: [tcp(81, all().expectAllIngress('x/a', false))],
  },
  {
    upstream: 'should not allow access by TCP when a policy specifies only UDP',
    policies: [
      policyMatchLabels(
        'x',
        'allow-only-udp-ingress-on-port-81',
        { pod: 'a' },
        ingressRules({ ports: [{ port: 81, protocol: 'UDP' }] }),
      ),
    ],
    steps: [tcp(81, all().expectAllIngress('x/a', false))],
  },
  {
    upstream:
      'should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label',
    policies: [
      policyMatchLabels(
        'x',
        'allow-client-a-via-ns-selector-for-immutable-ns-label',
        { pod: 'a' },
        ingressRules({ from: [{ namespaceSelector: nsName('y') }] }),
      ),
    ],
    steps: [tcp(80, onlyYToXA())],
  },
  {
    upstream: 'should enforce policy based on NamespaceSelector with MatchExpressions using default ns label',
    policies: [
      policyMatchLabels(
        'x',
        'allow-ns-y-match-selector-for-immutable-ns-label',
        { pod: 'a' },
        egressRules({
          to: [
            {
              namespaceSelector: {
                matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['y'] }],
              },
            },
          ],
        }),
      ),
    ],
    steps: [tcp(80, all().expectPeer({ namespace: 'x', pod: 'a' }, Y, false))],
  },
];

// "NetworkPolicy between server and client using UDP" and "… using SCTP": the same three
// tests, probed with that protocol.
for (const protocol of ['UDP', 'SCTP'] as Protocol[]) {
  CASES.push(
    {
      upstream: `[${protocol}] should support a 'default-deny-ingress' policy`,
      policies: [policy('x', 'deny-all', {}, ingressRules())],
      steps: [{ label: `${protocol}/80`, port: 80, protocol, reachability: all().expectPeer(ANY, X, false) }],
    },
    {
      upstream: `[${protocol}] should enforce policy based on Ports`,
      policies: [
        policyMatchLabels(
          'x',
          'allow-ingress-on-port-81-ns-x',
          { pod: 'a' },
          ingressRules({ from: [{ namespaceSelector: nsName('y') }], ports: [{ port: 81, protocol }] }),
        ),
      ],
      steps: [{ label: `${protocol}/81`, port: 81, protocol, reachability: onlyYToXA() }],
    },
    {
      upstream: `[${protocol}] should enforce policy to allow traffic only from a pod in a different namespace based on PodSelector and NamespaceSelector`,
      policies: [
        policyMatchLabels(
          'x',
          'allow-ns-y-pod-a-via-namespace-pod-selector',
          { pod: 'a' },
          ingressRules({
            from: [{ namespaceSelector: nsName('y'), podSelector: { matchLabels: { pod: 'a' } } }],
          }),
        ),
      ],
      steps: [
        {
          label: `${protocol}/80`,
          port: 80,
          protocol,
          reachability: all().expectAllIngress('x/a', false).expect('y/a', 'x/a', true),
        },
      ],
    },
  );
}

let probes = 0;
let tables = 0;

describe('upstream e2e truth tables (test/e2e/network/netpol/network_policy.go @ 9db638c)', () => {
  for (const c of CASES) {
    describe(c.upstream, () => {
      let policies = c.policies;
      const mutations: ((raws: Raw[]) => void)[] = [];
      for (const step of c.steps) {
        // Steps are cumulative, as in the upstream test: later steps keep earlier label changes.
        policies = step.policies ?? policies;
        if (step.mutate) mutations.push(step.mutate);
        const stepPolicies = policies;
        const stepMutations = [...mutations];
        it(`${step.label}: ${step.protocol}/${step.port}, 72 probes`, () => {
          const model = modelWith(stepPolicies, (raws) => {
            for (const m of stepMutations) m(raws);
          });
          const result = probeAll(model, step.reachability, step.port, step.protocol);
          expect(result).toHaveLength(72);
          expect(mismatches(result)).toEqual([]);
          probes += result.length;
          tables++;
        });
      }
    });
  }
});

afterAll(() => {
  // The issue asks for at least 60 probes; every table above contributes 72.
  expect(probes).toBeGreaterThanOrEqual(60);
  console.info(`policy e2e truth tables: ${tables} tables, ${probes} probes`);
});
