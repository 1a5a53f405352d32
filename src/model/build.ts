// Raw API objects → ClusterObjects → ClusterModel.
import { ClusterModel, type ClusterObjects, type Coverage, emptyObjects } from './cluster.js';
import type { NodeFiles } from './node-files.js';
import {
  endpointsToSlices,
  isGatewayApi,
  legacyEndpointsKey,
  normalizeConfigMap,
  normalizeDaemonSet,
  normalizeEndpointSlice,
  normalizeGateway,
  normalizeGatewayClass,
  normalizeHTTPRoute,
  normalizeIngress,
  normalizeIngressClass,
  normalizeNamespace,
  normalizeNetworkPolicy,
  normalizeNode,
  normalizePod,
  normalizeReferenceGrant,
  normalizeService,
  type Raw,
  withNormalizeWarnings,
} from './normalize.js';
import type { GenericObject } from './types.js';

/** Flattens v1 Lists (items without a kind take it from the List's kind: PodList → Pod). */
export function flattenObjects(doc: Raw, out: Raw[] = []): Raw[] {
  // A stack, not recursion: the nesting of lists comes from the input and may be any depth.
  const stack: Raw[] = [doc];
  while (stack.length > 0) {
    const d = stack.pop();
    if (d === null || typeof d !== 'object') continue;
    if (Array.isArray(d)) {
      for (let i = d.length - 1; i >= 0; i--) stack.push(d[i]);
      continue;
    }
    if (Array.isArray(d.items) && (typeof d.kind !== 'string' || d.kind.endsWith('List'))) {
      const itemKind = typeof d.kind === 'string' && d.kind !== 'List' ? d.kind.slice(0, -4) : undefined;
      for (let i = d.items.length - 1; i >= 0; i--) {
        const item = d.items[i];
        if (item && typeof item === 'object')
          stack.push(item.kind || !itemKind || Array.isArray(item) ? item : { ...item, kind: itemKind });
      }
      continue;
    }
    if (typeof d.kind === 'string') out.push(d);
  }
  return out;
}

function genericObject(raw: Raw): GenericObject {
  return {
    apiVersion: String(raw.apiVersion ?? ''),
    kind: String(raw.kind),
    namespace: raw.metadata?.namespace,
    name: String(raw.metadata?.name),
    raw,
  };
}

/**
 * Sorts raw objects into the typed collections. Unknown kinds are kept as generic objects. An
 * object that cannot be read (a value of the wrong type where one is needed) is skipped, and
 * `warn` says which and why; values the normaliser drops (an address that is not an IP) too.
 */
export function buildObjects(raws: Iterable<Raw>, warn?: (message: string) => void): ClusterObjects {
  return withNormalizeWarnings(warn, () => buildObjectsOf(raws, warn));
}

function skipped(raw: Raw, err: unknown): string {
  const m = raw?.metadata;
  return `${String(raw?.kind)} ${m?.namespace ? `${String(m.namespace)}/` : ''}${String(m?.name)} skipped: ${(err as Error).message}`;
}

function buildObjectsOf(raws: Iterable<Raw>, warn?: (message: string) => void): ClusterObjects {
  const o = emptyObjects();
  const legacyEndpoints: Raw[] = [];
  for (const raw of raws) {
    let filed: NormalizedObject | undefined;
    try {
      filed = fileObject(raw);
    } catch (err) {
      warn?.(skipped(raw, err));
    }
    if (!filed) continue;
    if ('legacy' in filed) legacyEndpoints.push(filed.legacy);
    else (o[filed.key] as unknown[]).push(filed.value);
  }
  // Legacy Endpoints count only for services that have no EndpointSlice at all.
  const sliced = new Set(o.endpointSlices.map((s) => `${s.namespace}/${s.serviceName}`));
  for (const raw of legacyEndpoints) {
    const k = legacyEndpointsKey(raw);
    try {
      if (!sliced.has(k)) o.endpointSlices.push(...endpointsToSlices(raw));
    } catch (err) {
      warn?.(`Endpoints ${k} skipped: ${(err as Error).message}`);
    }
  }
  return o;
}

/**
 * One object as buildObjects files it, for a model read piece by piece (lazy-cluster.ts) too:
 * the collection and the normalised object, `legacy` for an Endpoints object (converted once
 * the EndpointSlices of its namespace are known), undefined when skipped (`warn` says why).
 */
export type NormalizedObject =
  | { key: keyof ClusterObjects; value: ClusterObjects[keyof ClusterObjects][number] }
  | { legacy: Raw };

const filed = <K extends keyof ClusterObjects>(
  key: K,
  value: ClusterObjects[K][number],
): NormalizedObject => ({
  key,
  value,
});

/** The collection an object goes to and its normalised form; undefined for none. Throws when unreadable. */
function fileObject(raw: Raw): NormalizedObject | undefined {
  switch (raw.kind) {
    case 'Namespace':
      return filed('namespaces', normalizeNamespace(raw));
    case 'Node':
      return filed('nodes', normalizeNode(raw));
    case 'Pod':
      return filed('pods', normalizePod(raw));
    case 'Service':
      return filed('services', normalizeService(raw));
    case 'EndpointSlice':
      return filed('endpointSlices', normalizeEndpointSlice(raw));
    case 'Endpoints':
      return { legacy: raw };
    case 'NetworkPolicy':
      // Only networking.k8s.io: Calico's and others' NetworkPolicy kinds mean something else.
      if (!raw.apiVersion || String(raw.apiVersion).startsWith('networking.k8s.io/'))
        return filed('networkPolicies', normalizeNetworkPolicy(raw));
      return filed('others', genericObject(raw));
    case 'Ingress':
      return filed('ingresses', normalizeIngress(raw));
    case 'IngressClass':
      return filed('ingressClasses', normalizeIngressClass(raw));
    case 'DaemonSet':
      return filed('daemonSets', normalizeDaemonSet(raw));
    case 'ConfigMap':
      return filed('configMaps', normalizeConfigMap(raw));
    default:
      if (!raw.metadata?.name) return undefined;
      return gatewayApiObject(raw) ?? filed('others', genericObject(raw));
  }
}

/** The Gateway API kinds knet models; undefined for any other object. */
function gatewayApiObject(raw: Raw): NormalizedObject | undefined {
  if (!isGatewayApi(raw)) return undefined;
  switch (raw.kind) {
    case 'Gateway':
      return filed('gateways', normalizeGateway(raw));
    case 'GatewayClass':
      return filed('gatewayClasses', normalizeGatewayClass(raw));
    case 'HTTPRoute':
      return filed('httpRoutes', normalizeHTTPRoute(raw));
    case 'ReferenceGrant':
      return filed('referenceGrants', normalizeReferenceGrant(raw));
    default:
      return undefined;
  }
}

export function normalizeObject(raw: Raw, warn?: (message: string) => void): NormalizedObject | undefined {
  try {
    return withNormalizeWarnings(warn, () => fileObject(raw));
  } catch (err) {
    warn?.(skipped(raw, err));
    return undefined;
  }
}

export function buildModel(
  raws: Iterable<Raw>,
  nodeFiles?: NodeFiles,
  coverage?: Coverage,
  warn?: (message: string) => void,
): ClusterModel {
  return new ClusterModel(buildObjects(raws, warn), nodeFiles, coverage);
}

export function objectCount(objects: ClusterObjects): number {
  return Object.values(objects).reduce((n, list) => n + list.length, 0);
}
