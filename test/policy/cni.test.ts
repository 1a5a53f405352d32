// detectCni: the CNI from the DaemonSets (or pods) each project's install manifest creates, and
// whether it enforces NetworkPolicy. Names and images are those of the upstream manifests.
import { describe, expect, it } from 'vitest';
import { detectCni } from '../../src/analyses/policy/cni.js';
import { buildModel } from '../../src/model/build.js';
import type { Raw } from '../../src/model/normalize.js';

const ds = (namespace: string, name: string, ...images: string[]): Raw => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { namespace, name },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } },
  },
  status: { desiredNumberScheduled: 3, numberReady: 3 },
});

const detect = (...raws: Raw[]) => detectCni(buildModel(raws));

describe('detectCni', () => {
  it.each([
    [
      ds(
        'kube-flannel',
        'kube-flannel-ds',
        'docker.io/flannel/flannel:v0.25.1',
        'docker.io/flannel/flannel-cni-plugin:v1.4.1-flannel1',
      ),
      'flannel',
      false,
    ],
    [
      ds('kube-system', 'calico-node', 'docker.io/calico/cni:v3.28.0', 'docker.io/calico/node:v3.28.0'),
      'calico',
      true,
    ],
    [
      ds(
        'kube-system',
        'cilium',
        'quay.io/cilium/cilium:v1.15.6@sha256:6aa840986a3a9722cd967ef63248d675a87add7e1704740902d5d3162f0c0def',
      ),
      'cilium',
      true,
    ],
    [
      ds(
        'kube-system',
        'weave-net',
        'ghcr.io/weaveworks/launcher/weave-kube:2.8.1',
        'ghcr.io/weaveworks/launcher/weave-npc:2.8.1',
      ),
      'weave',
      true,
    ],
    [ds('kube-system', 'antrea-agent', 'antrea/antrea-agent-ubuntu:v2.0.0'), 'antrea', true],
    [
      ds('kube-system', 'canal', 'docker.io/calico/node:v3.28.0', 'quay.io/coreos/flannel:v0.15.1'),
      'canal',
      true,
    ],
    [ds('kube-system', 'kube-router', 'docker.io/cloudnativelabs/kube-router'), 'kube-router', true],
    [ds('kube-system', 'kindnet', 'docker.io/kindest/kindnetd:v20240513-cd2ac642'), 'kindnet', undefined],
    [
      ds('kube-system', 'aws-node', '602401143452.dkr.ecr.us-west-2.amazonaws.com/amazon-k8s-cni:v1.18.1'),
      'aws-vpc-cni',
      undefined,
    ],
  ])('%#: %o → %s (enforces: %s)', (raw, name, enforces) => {
    const r = detect(raw);
    expect(r.name).toBe(name);
    expect(r.enforcesPolicy).toBe(enforces);
    expect(r.evidence[0]).toContain(`DaemonSet ${raw.metadata.namespace}/${raw.metadata.name}`);
  });

  it('flannel with a policy engine beside it enforces', () => {
    const r = detect(
      ds('kube-flannel', 'kube-flannel-ds', 'docker.io/flannel/flannel:v0.25.1'),
      ds('kube-system', 'kube-router', 'docker.io/cloudnativelabs/kube-router'),
    );
    expect(r.name).toBe('flannel+kube-router');
    expect(r.enforcesPolicy).toBe(true);
  });

  it('falls back to pods when no DaemonSet was captured', () => {
    const r = detect({
      kind: 'Pod',
      metadata: { namespace: 'kube-flannel', name: 'kube-flannel-ds-x7k2p' },
      spec: { containers: [{ name: 'kube-flannel', image: 'docker.io/flannel/flannel:v0.25.1' }] },
    });
    expect(r).toMatchObject({ name: 'flannel', enforcesPolicy: false });
    expect(r.evidence[0]).toContain('Pod kube-flannel/kube-flannel-ds-x7k2p');
  });

  it('says unknown, never "enforces", when nothing is recognised', () => {
    const r = detect(ds('monitoring', 'node-exporter', 'quay.io/prometheus/node-exporter:v1.8.1'), {
      kind: 'Pod',
      metadata: { namespace: 'default', name: 'weave-ui' },
      spec: { containers: [{ name: 'ui', image: 'example/weave-ui:1' }] },
    });
    expect(r.name).toBeUndefined();
    expect(r.enforcesPolicy).toBeUndefined();
  });
});
