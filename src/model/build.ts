// Raw API objects → ClusterObjects → ClusterModel.
import { ClusterModel, type ClusterObjects, type Coverage, emptyObjects } from './cluster.js';
import type { NodeFiles } from './node-files.js';
import {
  endpointsToSlices,
  isGatewayApi,
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

/** Sorts raw objects into the typed collections. Unknown kinds are kept as generic objects. */
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
    try {
      addObject(o, legacyEndpoints, raw);
    } catch (err) {
      warn?.(skipped(raw, err));
    }
  }
  // Legacy Endpoints count only for services that have no EndpointSlice at all.
  const sliced = new Set(o.endpointSlices.map((s) => `${s.namespace}/${s.serviceName}`));
  for (const raw of legacyEndpoints) {
    const k = `${raw.metadata?.namespace ?? 'default'}/${raw.metadata?.name}`;
    try {
      if (!sliced.has(k)) o.endpointSlices.push(...endpointsToSlices(raw));
    } catch (err) {
      warn?.(`Endpoints ${k} skipped: ${(err as Error).message}`);
    }
  }
  return o;
}

function addObject(o: ClusterObjects, legacyEndpoints: Raw[], raw: Raw): void {
  switch (raw.kind) {
    case 'Namespace':
      o.namespaces.push(normalizeNamespace(raw));
      break;
    case 'Node':
      o.nodes.push(normalizeNode(raw));
      break;
    case 'Pod':
      o.pods.push(normalizePod(raw));
      break;
    case 'Service':
      o.services.push(normalizeService(raw));
      break;
    case 'EndpointSlice':
      o.endpointSlices.push(normalizeEndpointSlice(raw));
      break;
    case 'Endpoints':
      legacyEndpoints.push(raw);
      break;
    case 'NetworkPolicy':
      // Only networking.k8s.io: Calico's and others' NetworkPolicy kinds mean something else.
      if (!raw.apiVersion || String(raw.apiVersion).startsWith('networking.k8s.io/')) {
        o.networkPolicies.push(normalizeNetworkPolicy(raw));
      } else {
        o.others.push(genericObject(raw));
      }
      break;
    case 'Ingress':
      o.ingresses.push(normalizeIngress(raw));
      break;
    case 'IngressClass':
      o.ingressClasses.push(normalizeIngressClass(raw));
      break;
    case 'DaemonSet':
      o.daemonSets.push(normalizeDaemonSet(raw));
      break;
    case 'ConfigMap':
      o.configMaps.push(normalizeConfigMap(raw));
      break;
    default:
      if (raw.metadata?.name && !addGatewayApi(o, raw)) o.others.push(genericObject(raw));
  }
}

/** The Gateway API kinds knet models; false for any other object. */
function addGatewayApi(o: ClusterObjects, raw: Raw): boolean {
  if (!isGatewayApi(raw)) return false;
  switch (raw.kind) {
    case 'Gateway':
      o.gateways.push(normalizeGateway(raw));
      return true;
    case 'GatewayClass':
      o.gatewayClasses.push(normalizeGatewayClass(raw));
      return true;
    case 'HTTPRoute':
      o.httpRoutes.push(normalizeHTTPRoute(raw));
      return true;
    case 'ReferenceGrant':
      o.referenceGrants.push(normalizeReferenceGrant(raw));
      return true;
    default:
      return false;
  }
}

/**
 * One object as buildObjects files it, for a model read piece by piece (lazy-cluster.ts): the
 * collection and the normalised object, `legacy` for an Endpoints object (converted once the
 * EndpointSlices of its namespace are known), undefined when skipped (`warn` says why).
 */
export type NormalizedObject =
  | { key: keyof ClusterObjects; value: ClusterObjects[keyof ClusterObjects][number] }
  | { legacy: Raw };

export function normalizeObject(raw: Raw, warn?: (message: string) => void): NormalizedObject | undefined {
  const o = emptyObjects();
  const legacy: Raw[] = [];
  try {
    withNormalizeWarnings(warn, () => addObject(o, legacy, raw));
  } catch (err) {
    warn?.(skipped(raw, err));
    return undefined;
  }
  if (legacy.length > 0) return { legacy: legacy[0] };
  for (const key of Object.keys(o) as (keyof ClusterObjects)[])
    if (o[key].length > 0) return { key, value: o[key][0] };
  return undefined;
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
