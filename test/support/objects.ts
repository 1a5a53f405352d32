// Small builders for raw Kubernetes objects, shaped like `kubectl get -o json` output, so
// tests state only what matters to them.
import type { Raw } from '../../src/model/normalize.js';

export interface PodSpec {
  namespace?: string;
  name: string;
  node?: string;
  ip?: string | string[];
  labels?: Record<string, string>;
  phase?: string;
  ready?: boolean;
  hostNetwork?: boolean;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  deleting?: boolean;
  containerState?: { waiting?: { reason: string } };
}

export function rawPod(p: PodSpec): Raw {
  const ips = p.ip === undefined ? [] : Array.isArray(p.ip) ? p.ip : [p.ip];
  const phase = p.phase ?? 'Running';
  const ready = p.ready ?? phase === 'Running';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace ?? 'default',
      labels: p.labels ?? {},
      ...(p.deleting ? { deletionTimestamp: '2026-11-21T10:00:00Z' } : {}),
    },
    spec: {
      nodeName: p.node,
      hostNetwork: p.hostNetwork ?? false,
      containers: [
        { name: 'main', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', ports: p.ports ?? [] },
      ],
    },
    status: {
      phase,
      ...(ips.length ? { podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        {
          name: 'main',
          ready,
          restartCount: 0,
          state:
            p.containerState ??
            (phase === 'Running' ? { running: {} } : { waiting: { reason: 'ContainerCreating' } }),
        },
      ],
    },
  };
}

export function rawNode(n: {
  name: string;
  ip?: string;
  podCIDRs?: string[];
  ready?: boolean | 'Unknown';
}): Raw {
  const status = n.ready === 'Unknown' ? 'Unknown' : (n.ready ?? true) ? 'True' : 'False';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } },
    spec: { ...(n.podCIDRs?.length ? { podCIDR: n.podCIDRs[0], podCIDRs: n.podCIDRs } : {}) },
    status: {
      addresses: [
        ...(n.ip ? [{ type: 'InternalIP', address: n.ip }] : []),
        { type: 'Hostname', address: n.name },
      ],
      conditions: [{ type: 'Ready', status, reason: status === 'True' ? 'KubeletReady' : 'KubeletNotReady' }],
    },
  };
}

export function rawNamespace(name: string, labels: Record<string, string> = {}): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
  };
}

export function rawList(items: Raw[]): Raw {
  return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items };
}
