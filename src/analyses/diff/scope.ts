// Which findings can differ between the two clusters: a check whose inputs are the same on
// both sides finds the same on both, so diff runs the costly per-Service and per-node checks
// only where an input changed (doctor's scope) and compares those.
import type { ClusterModel } from '../../model/cluster.js';
import type { DoctorOptions } from '../doctor.js';
import type { NodeFileChange, ObjectChange } from './types.js';

/**
 * Kinds whose change reaches no check but their own Service's and the cluster-wide ones that
 * doctor always runs (policies, Ingresses, Gateways). Any other kind (a pod, a node, a
 * namespace, a ConfigMap, a ReplicaSet…) may reach every Service and node: no scope.
 */
const LOCAL_KINDS = new Set([
  'svc',
  'endpointslice',
  'endpoints',
  'networkpolicy',
  'ing',
  'ingressclass',
  'gateway',
  'gatewayclass',
  'httproute',
  'grpcroute',
  'tlsroute',
  'tcproute',
  'udproute',
  'referencegrant',
]);

/** The Service (`ns/name`) an object change belongs to, if any. */
function serviceOf(c: ObjectChange, models: readonly ClusterModel[]): string | undefined {
  const [kind, ns, name] = c.ref.split('/');
  if (kind === 'svc' || kind === 'endpoints') return `${ns}/${name}`;
  if (kind !== 'endpointslice') return undefined;
  for (const m of models) {
    const slice = m.endpointSlices.find((s) => s.namespace === ns && s.name === name);
    if (slice?.serviceName) return `${ns}/${slice.serviceName}`;
  }
  return undefined;
}

const addresses = (m: ClusterModel, key: string) => {
  const [ns, name] = key.split('/');
  const s = m.service(ns, name);
  return s ? [...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIPs].join(',') : undefined;
};

/** Every file below nodes/NODE/ (walked through list), as relative paths. */
function nodeFilePaths(m: ClusterModel, node: string, dir = ''): string[] {
  const out: string[] = [];
  for (const entry of m.nodeFiles.list(node, dir)) {
    const rel = dir ? `${dir}/${entry}` : entry;
    const below = m.nodeFiles.list(node, rel);
    if (below.length) out.push(...nodeFilePaths(m, node, rel));
    else out.push(rel);
  }
  return out;
}

/** Node files that differ between the two sides, by node (each file read once a side). */
export function changedNodeFiles(a: ClusterModel, b: ClusterModel): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const node of new Set([...a.nodeFiles.nodes(), ...b.nodeFiles.nodes()])) {
    const paths = new Set([...nodeFilePaths(a, node), ...nodeFilePaths(b, node)]);
    const changed = [...paths].filter((rel) => a.nodeFiles.read(node, rel) !== b.nodeFiles.read(node, rel));
    if (changed.length) out.set(node, changed);
  }
  return out;
}

const RULE_FILES = new Set(['iptables-save.txt', 'ip6tables-save.txt']);
/** Files kube-proxy's drift check does not read (node health does: it runs on the node). */
const NOT_PROXY = (rel: string) =>
  ['ip-route.json', 'ip-neigh.json', 'bridge-fdb.json', 'ss.txt'].includes(rel) || rel.startsWith('pods/');
/** kube-proxy's comment on a rule: `--comment "ns/name:port …"` or `--comment ns/name:port`. */
const COMMENT = /--comment "?([a-z0-9][a-z0-9.-]*)\/([a-z0-9][a-z0-9-]*)(?=[:"\s]|$)/;
const SERVICE_CHAIN = /^KUBE-(SVC|SVL|SEP|FW|EXT|XLB)-[A-Z0-9]+$/;

/**
 * The Services a node's changed iptables lines belong to: by kube-proxy's comment, or through
 * a per-service chain (declared, appended to or jumped to) whose rules carry one. Undefined
 * when a line belongs to no Service (a shared rule): then every Service may walk differently.
 */
function servicesOfRuleLines(
  lines: readonly string[],
  dumps: readonly (string | undefined)[],
): Set<string> | undefined {
  const out = new Set<string>();
  const chains = new Set<string>();
  const pending: string[][] = [];
  for (const line of lines) {
    const m = COMMENT.exec(line);
    if (m) {
      out.add(`${m[1]}/${m[2]}`);
      continue;
    }
    const words = line.split(' ');
    const after = (flag: string) => (words.includes(flag) ? words[words.indexOf(flag) + 1] : undefined);
    const named = [
      line.startsWith(':') ? words[0].slice(1) : undefined,
      line.startsWith('-A ') ? words[1] : undefined,
      after('-j'),
      after('-g'),
    ].filter((c): c is string => Boolean(c && SERVICE_CHAIN.test(c)));
    if (named.length === 0) return undefined;
    for (const c of named) chains.add(c);
    pending.push(named);
  }
  if (pending.length === 0) return out;
  // Which Service each chain serves, from its commented rules on either side.
  const owner = new Map<string, string>();
  for (const text of dumps)
    for (const line of text?.split('\n') ?? []) {
      if (!line.startsWith('-A ')) continue;
      const chain = line.slice(3, line.indexOf(' ', 3));
      if (!chains.has(chain) || owner.has(chain)) continue;
      const m = COMMENT.exec(line);
      if (m) owner.set(chain, `${m[1]}/${m[2]}`);
    }
  for (const named of pending)
    for (const c of named) {
      const svc = owner.get(c);
      if (!svc) return undefined;
      out.add(svc);
    }
  return out;
}

/**
 * doctor's scope for a diff: the Services whose objects changed; the nodes whose files
 * changed, each with the Services its changed kube-proxy rules belong to (undefined: all).
 * Undefined when a change may reach every check.
 */
export function changedScope(
  a: ClusterModel,
  b: ClusterModel,
  objectChanges: readonly ObjectChange[],
  changedFiles: ReadonlyMap<string, readonly string[]>,
  nodeChanges: readonly NodeFileChange[],
): NonNullable<DoctorOptions['scope']> | undefined {
  const services = new Set<string>();
  let addressesMoved = false;
  for (const c of objectChanges) {
    if (!LOCAL_KINDS.has(c.ref.split('/')[0])) return undefined;
    const svc = serviceOf(c, [a, b]);
    if (!svc) continue;
    services.add(svc);
    // Node health asks whether an address is the cluster's own (Service addresses among them).
    if (addresses(a, svc) !== addresses(b, svc)) addressesMoved = true;
  }
  // Pods, nodes and namespaces are the same on both sides (else no scope): so are the pod and
  // node inventories, and the policy checks unless a policy changed.
  const skip = new Set<'pods' | 'nodes' | 'network policies'>(['pods', 'nodes']);
  if (!objectChanges.some((c) => c.ref.startsWith('networkpolicy/'))) skip.add('network policies');
  if (addressesMoved) return { services, skip };
  const nodes = new Map<string, ReadonlySet<string> | undefined>();
  for (const [node, files] of changedFiles) {
    let own: Set<string> | undefined = new Set();
    for (const rel of files) {
      if (NOT_PROXY(rel)) continue;
      const texts = [a.nodeFiles.read(node, rel), b.nodeFiles.read(node, rel)];
      const change = RULE_FILES.has(rel) && nodeChanges.find((c) => c.node === node && c.file === rel);
      // Both dumps there and no rule line differs: only the counters did.
      if (RULE_FILES.has(rel) && !change && texts.every((t) => t !== undefined)) continue;
      const found = change ? servicesOfRuleLines([...change.lost, ...change.gained], texts) : undefined;
      if (!found) {
        own = undefined;
        break;
      }
      for (const s of found) own.add(s);
    }
    nodes.set(node, own);
  }
  return { services, nodes, skip };
}
