// A lab scenario: Kubernetes objects (what the API says) plus how to emulate the dataplane.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { isCIDR } from '../../src/core/ip.js';
import { flattenObjects } from '../../src/model/build.js';
import type { Raw } from '../../src/model/normalize.js';

export type Overlay = 'hostgw' | 'vxlan';
/** kube-proxy's mode: iptables (iptables-restore of its chains) or nftables (its `ip kube-proxy` table). */
export type ProxyMode = 'iptables' | 'nftables';
/** The CNI plugin that wires the pods: `bridge` (cni0, the default) or `ptp` (a routed CNI: a
 * veth per pod with a /32 host route to it, no bridge). */
export type LabCni = 'bridge' | 'ptp';

export interface LabSettings {
  name: string;
  /** hostgw: routes to the other nodes' pod CIDRs via their underlay IP; vxlan: flannel-style VXLAN. */
  overlay: Overlay;
  /** The subnet of the nodes' InternalIPs; its first address is the underlay's router. */
  underlayCIDR: string;
  clusterDomain: string;
  /** kube-proxy's mode in the lab (default iptables); the kube-proxy ConfigMap's `mode` follows it. */
  proxyMode?: ProxyMode;
  /** The bridge CNI plugin's hairpinMode in every node's conflist (default true, as flannel sets it). */
  hairpinMode?: boolean;
  /** The main CNI plugin of every node's conflist (default bridge). */
  cni?: LabCni;
}

export interface Scenario {
  lab: LabSettings;
  /** Raw API objects (Namespaces, Nodes, Pods, Services, EndpointSlices, ConfigMaps, …). */
  objects: Raw[];
}

export function parseScenario(text: string, file: string): Scenario {
  const doc = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  if (!doc || typeof doc !== 'object') throw new Error(`${file}: not a scenario`);
  const lab = doc.lab ?? {};
  const overlay = lab.overlay ?? 'hostgw';
  if (overlay !== 'hostgw' && overlay !== 'vxlan')
    throw new Error(`${file}: lab.overlay must be hostgw or vxlan`);
  const underlayCIDR = lab.underlayCIDR ?? '172.18.0.0/24';
  if (!isCIDR(underlayCIDR)) throw new Error(`${file}: lab.underlayCIDR is not a CIDR`);
  const proxyMode = lab.proxyMode ?? 'iptables';
  if (proxyMode !== 'iptables' && proxyMode !== 'nftables')
    throw new Error(`${file}: lab.proxyMode must be iptables or nftables`);
  const cni = lab.cni ?? 'bridge';
  if (cni !== 'bridge' && cni !== 'ptp') throw new Error(`${file}: lab.cni must be bridge or ptp`);
  const objects = flattenObjects(doc.objects ?? []);
  if (objects.length === 0) throw new Error(`${file}: no objects`);
  return {
    lab: {
      name: String(lab.name ?? 'lab'),
      overlay,
      underlayCIDR,
      clusterDomain: lab.clusterDomain ?? 'cluster.local',
      proxyMode,
      hairpinMode: lab.hairpinMode ?? true,
      cni,
    },
    objects,
  };
}

export function loadScenario(file: string, overrides: Partial<LabSettings> = {}): Scenario {
  const s = parseScenario(readFileSync(file, 'utf8'), file);
  return { lab: { ...s.lab, ...overrides }, objects: s.objects };
}

/** A deep copy of raw objects (faults edit copies, never the scenario). */
export function cloneObjects(objects: readonly Raw[]): Raw[] {
  return structuredClone(objects as Raw[]);
}

/** The objects as `kubectl get … -o json` prints them: a v1 List. */
export function asList(objects: readonly Raw[]): Raw {
  return { apiVersion: 'v1', kind: 'List', items: objects, metadata: { resourceVersion: '' } };
}

export function findObject(objects: Raw[], kind: string, namespace: string | undefined, name: string): Raw {
  const o = objects.find(
    (x) =>
      x.kind === kind &&
      x.metadata?.name === name &&
      (namespace === undefined || x.metadata?.namespace === namespace),
  );
  if (!o) throw new Error(`no ${kind} ${namespace ? `${namespace}/` : ''}${name} in the scenario`);
  return o;
}
