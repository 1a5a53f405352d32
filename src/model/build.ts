// Raw API objects → ClusterObjects → ClusterModel.
import { ClusterModel, type ClusterObjects, type Coverage, emptyObjects } from './cluster.js';
import type { NodeFiles } from './node-files.js';
import {
  endpointsToSlices,
  normalizeConfigMap,
  normalizeDaemonSet,
  normalizeEndpointSlice,
  normalizeIngress,
  normalizeIngressClass,
  normalizeNamespace,
  normalizeNetworkPolicy,
  normalizeNode,
  normalizePod,
  normalizeService,
  type Raw,
} from './normalize.js';
import type { GenericObject } from './types.js';

/** Flattens v1 Lists (items without a kind take it from the List's kind: PodList → Pod). */
export function flattenObjects(doc: Raw, out: Raw[] = []): Raw[] {
  if (doc === null || typeof doc !== 'object') return out;
  if (Array.isArray(doc)) {
    for (const d of doc) flattenObjects(d, out);
    return out;
  }
  if (Array.isArray(doc.items) && (typeof doc.kind !== 'string' || doc.kind.endsWith('List'))) {
    const itemKind = typeof doc.kind === 'string' && doc.kind !== 'List' ? doc.kind.slice(0, -4) : undefined;
    for (const item of doc.items) {
      if (item && typeof item === 'object')
        flattenObjects(item.kind || !itemKind ? item : { ...item, kind: itemKind }, out);
    }
    return out;
  }
  if (typeof doc.kind === 'string') out.push(doc);
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
export function buildObjects(raws: Iterable<Raw>): ClusterObjects {
  const o = emptyObjects();
  const legacyEndpoints: Raw[] = [];
  for (const raw of raws) {
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
        if (raw.metadata?.name) o.others.push(genericObject(raw));
    }
  }
  // Legacy Endpoints count only for services that have no EndpointSlice at all.
  const sliced = new Set(o.endpointSlices.map((s) => `${s.namespace}/${s.serviceName}`));
  for (const raw of legacyEndpoints) {
    const k = `${raw.metadata?.namespace ?? 'default'}/${raw.metadata?.name}`;
    if (!sliced.has(k)) o.endpointSlices.push(...endpointsToSlices(raw));
  }
  return o;
}

export function buildModel(raws: Iterable<Raw>, nodeFiles?: NodeFiles, coverage?: Coverage): ClusterModel {
  return new ClusterModel(buildObjects(raws), nodeFiles, coverage);
}

export function objectCount(objects: ClusterObjects): number {
  return Object.values(objects).reduce((n, list) => n + list.length, 0);
}
