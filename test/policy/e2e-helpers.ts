// Test support: the upstream NetworkPolicy e2e vocabulary (kubernetes/kubernetes
// test/e2e/network/netpol: reachability.go, policies.go/test_helper.go), ported so that each
// upstream test case reads here as it reads there. The truth tables are written with the same
// calls (ExpectPeer, ExpectAllIngress, …) the upstream test makes — never from knet's output.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluatePolicy } from '../../src/analyses/policy/evaluate.js';
import { buildModel, flattenObjects } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import type { Raw } from '../../src/model/normalize.js';
import type { Protocol } from '../../src/model/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const E2E_BUNDLE = path.join(here, '../fixtures/policy/e2e-bundle');

/** The 9-pod e2e topology (x/a … z/c) plus kube-system (coredns, a hostNetwork kube-proxy). */
export function e2eObjects(): Raw[] {
  return flattenObjects(JSON.parse(readFileSync(path.join(E2E_BUNDLE, 'cluster.json'), 'utf8')));
}

export const ALL_PODS = ['x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'];

// ---------------------------------------------------------------------------------------------
// Policies, built as the upstream helpers build them (GenNetworkPolicyWithNameAndPodSelector,
// SetSpecIngressRules, SetSpecEgressRules): raw objects, as sent to the API server.

export type Spec = Record<string, unknown> & { policyTypes?: string[]; ingress?: Raw[]; egress?: Raw[] };
type Setter = (spec: Spec) => void;

/** SetSpecIngressRules: the first call creates `ingress: []` and adds "Ingress" to policyTypes. */
export const ingressRules =
  (...rules: Raw[]): Setter =>
  (spec) => {
    if (!spec.ingress) {
      spec.ingress = [];
      spec.policyTypes = [...(spec.policyTypes ?? []), 'Ingress'];
    }
    spec.ingress.push(...rules);
  };

/** SetSpecEgressRules: the first call creates `egress: []` and adds "Egress" to policyTypes. */
export const egressRules =
  (...rules: Raw[]): Setter =>
  (spec) => {
    if (!spec.egress) {
      spec.egress = [];
      spec.policyTypes = [...(spec.policyTypes ?? []), 'Egress'];
    }
    spec.egress.push(...rules);
  };

/** GenNetworkPolicyWithNameAndPodSelector + CreatePolicy(ns). */
export function policy(namespace: string, name: string, podSelector: Raw, ...setters: Setter[]): Raw {
  const spec: Spec = { podSelector };
  for (const s of setters) s(spec);
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace, name }, spec };
}

/** GenNetworkPolicyWithNameAndPodMatchLabel. */
export const policyMatchLabels = (
  namespace: string,
  name: string,
  labels: Record<string, string>,
  ...setters: Setter[]
) => policy(namespace, name, { matchLabels: labels }, ...setters);

export const nsName = (n: string) => ({ matchLabels: { 'kubernetes.io/metadata.name': n } });

// ---------------------------------------------------------------------------------------------
// Reachability (reachability.go): a truth table that starts all-true and is edited by Expect*.

export interface Peer {
  namespace?: string;
  pod?: string;
}

const matchesPeer = (p: Peer, pod: string) => {
  const [ns, name] = pod.split('/');
  return (p.namespace === undefined || p.namespace === ns) && (p.pod === undefined || p.pod === name);
};

export class Reachability {
  readonly expected = new Map<string, boolean>();

  constructor(
    readonly pods: string[] = ALL_PODS,
    defaultExpectation = true,
  ) {
    for (const from of pods) for (const to of pods) this.expected.set(`${from}>${to}`, defaultExpectation);
  }

  expect(from: string, to: string, connected: boolean): this {
    this.expected.set(`${from}>${to}`, connected);
    return this;
  }

  expectPeer(from: Peer, to: Peer, connected: boolean): this {
    for (const f of this.pods) {
      if (!matchesPeer(from, f)) continue;
      for (const t of this.pods) if (matchesPeer(to, t)) this.expect(f, t, connected);
    }
    return this;
  }

  expectAllIngress(pod: string, connected: boolean): this {
    for (const f of this.pods) this.expect(f, pod, connected);
    return this;
  }

  expectAllEgress(pod: string, connected: boolean): this {
    for (const t of this.pods) this.expect(pod, t, connected);
    return this;
  }
}

// ---------------------------------------------------------------------------------------------
// Probing: every (from, to) pair except loopback (upstream ignoreLoopback = true).

export interface Probe {
  from: string;
  to: string;
  expected: boolean;
  actual: boolean | null;
  why: string;
}

export function modelWith(policies: Raw[], mutate?: (raws: Raw[]) => void): ClusterModel {
  const raws = e2eObjects();
  mutate?.(raws);
  return buildModel([...raws, ...policies]);
}

export function probeAll(model: ClusterModel, r: Reachability, port: number, protocol: Protocol): Probe[] {
  const out: Probe[] = [];
  for (const from of r.pods) {
    for (const to of r.pods) {
      if (from === to) continue;
      const [fns, fname] = from.split('/');
      const [tns, tname] = to.split('/');
      const src = model.pod(fns, fname);
      const dst = model.pod(tns, tname);
      if (!src || !dst) throw new Error(`fixture lacks ${from} or ${to}`);
      const v = evaluatePolicy(model, {
        source: { kind: 'pod', pod: src },
        destination: { kind: 'pod', pod: dst },
        port,
        protocol,
      });
      out.push({
        from,
        to,
        expected: r.expected.get(`${from}>${to}`)!,
        actual: v.allowed,
        why: `egress: ${v.egress.reason} ingress: ${v.ingress.reason}`,
      });
    }
  }
  return out;
}

/** The wrong cells, printed like the upstream "comparison" table lines. */
export const mismatches = (probes: Probe[]) =>
  probes
    .filter((p) => p.actual !== p.expected)
    .map((p) => `${p.from} -> ${p.to}: expected ${p.expected}, knet said ${p.actual} (${p.why})`);

/** Sets labels on a raw object (AddPodLabels / AddNamespaceLabel). */
export function addLabels(
  raws: Raw[],
  kind: string,
  namespace: string | undefined,
  name: string,
  labels: Record<string, string>,
) {
  const obj = raws.find(
    (r) =>
      r.kind === kind &&
      r.metadata.name === name &&
      (namespace === undefined || r.metadata.namespace === namespace),
  );
  if (!obj) throw new Error(`no ${kind} ${namespace}/${name}`);
  obj.metadata.labels = { ...obj.metadata.labels, ...labels };
}

export function podIP(name: string): string {
  const [ns, pod] = name.split('/');
  const raw = e2eObjects().find(
    (r) => r.kind === 'Pod' && r.metadata.namespace === ns && r.metadata.name === pod,
  );
  return raw.status.podIP;
}
