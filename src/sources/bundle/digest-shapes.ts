// The shapes of the normalised objects a digest holds (digest.ts, model/types.ts): a digest is
// input too, and an entry that is not what the model's code expects must not reach it.
import type { EndpointSlice, Node, Pod, Service } from '../../model/types.js';

const isString = (v: unknown) => typeof v === 'string';
const optional = (v: unknown, test: (v: unknown) => boolean) => v === undefined || test(v);
export const strings = (v: unknown) => Array.isArray(v) && v.every(isString);
const objectOf = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown, test: (o: Record<string, unknown>) => boolean) =>
  Array.isArray(v) && v.every((o) => objectOf(o) && test(o));
const labels = (v: unknown) => objectOf(v) && Object.values(v).every(isString);
const number = (v: unknown) => typeof v === 'number';
const boolean = (v: unknown) => typeof v === 'boolean';

/** A normalised Pod (model/types.ts). */
export function isPod(p: unknown): p is Pod {
  if (!objectOf(p)) return false;
  return (
    isString(p.namespace) &&
    isString(p.name) &&
    optional(p.uid, isString) &&
    labels(p.labels) &&
    list(p.ownerReferences, (o) => isString(o.kind) && isString(o.name) && boolean(o.controller)) &&
    optional(p.nodeName, isString) &&
    boolean(p.hostNetwork) &&
    strings(p.ips) &&
    optional(p.hostIP, isString) &&
    isString(p.phase) &&
    boolean(p.ready) &&
    boolean(p.terminating) &&
    list(
      p.containers,
      (c) =>
        isString(c.name) &&
        optional(c.image, isString) &&
        list(
          c.ports,
          (q) =>
            optional(q.name, isString) &&
            number(q.containerPort) &&
            isString(q.protocol) &&
            optional(q.hostPort, number),
        ),
    ) &&
    list(
      p.containerStatuses,
      (s) =>
        isString(s.name) &&
        boolean(s.ready) &&
        optional(s.started, boolean) &&
        number(s.restartCount) &&
        isString(s.state) &&
        optional(s.reason, isString),
    ) &&
    optional(p.hostname, isString) &&
    optional(p.subdomain, isString) &&
    isString(p.dnsPolicy) &&
    optional(
      p.dnsConfig,
      (d) =>
        objectOf(d) &&
        strings(d.nameservers) &&
        strings(d.searches) &&
        list(d.options, (o) => isString(o.name) && optional(o.value, isString)),
    )
  );
}

/** A normalised Service. */
export function isService(s: unknown): s is Service {
  if (!objectOf(s)) return false;
  return (
    isString(s.namespace) &&
    isString(s.name) &&
    isString(s.type) &&
    strings(s.clusterIPs) &&
    boolean(s.headless) &&
    list(
      s.ports,
      (p) =>
        isString(p.name) &&
        isString(p.protocol) &&
        number(p.port) &&
        (number(p.targetPort) || isString(p.targetPort)) &&
        optional(p.nodePort, number) &&
        optional(p.appProtocol, isString),
    ) &&
    optional(s.selector, labels) &&
    optional(s.externalName, isString) &&
    strings(s.externalIPs) &&
    strings(s.loadBalancerIPs) &&
    strings(s.loadBalancerSourceRanges) &&
    isString(s.externalTrafficPolicy) &&
    isString(s.internalTrafficPolicy) &&
    isString(s.sessionAffinity) &&
    boolean(s.publishNotReadyAddresses) &&
    strings(s.ipFamilies) &&
    optional(s.healthCheckNodePort, number) &&
    labels(s.labels)
  );
}

/** A normalised EndpointSlice. */
export function isEndpointSlice(e: unknown): e is EndpointSlice {
  if (!objectOf(e)) return false;
  return (
    isString(e.namespace) &&
    isString(e.name) &&
    isString(e.serviceName) &&
    isString(e.addressType) &&
    list(e.ports, (p) => isString(p.name) && number(p.port) && isString(p.protocol)) &&
    list(
      e.endpoints,
      (p) =>
        strings(p.addresses) &&
        objectOf(p.conditions) &&
        boolean(p.conditions.ready) &&
        boolean(p.conditions.serving) &&
        boolean(p.conditions.terminating) &&
        optional(p.hostname, isString) &&
        optional(p.nodeName, isString) &&
        optional(p.zone, isString) &&
        optional(
          p.targetRef,
          (t) => objectOf(t) && isString(t.kind) && optional(t.namespace, isString) && isString(t.name),
        ),
    ) &&
    isString(e.source)
  );
}

/** A normalised Node. */
export function isNode(n: unknown): n is Node {
  if (!objectOf(n)) return false;
  return (
    isString(n.name) &&
    labels(n.labels) &&
    strings(n.internalIPs) &&
    strings(n.externalIPs) &&
    optional(n.hostname, isString) &&
    strings(n.podCIDRs) &&
    optional(n.ready, boolean) &&
    list(
      n.conditions,
      (c) =>
        isString(c.type) &&
        isString(c.status) &&
        optional(c.reason, isString) &&
        optional(c.message, isString),
    ) &&
    boolean(n.unschedulable) &&
    list(n.taints, (t) => isString(t.key) && optional(t.value, isString) && isString(t.effect))
  );
}
