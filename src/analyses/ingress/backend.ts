// One route backend (an Ingress path's service.name/port, an HTTPRoute backendRef): does the
// Service exist, does the port, and how many ready endpoints serve it (the endpoints analysis).

import { closeNames } from '../../core/similar-names.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Service, ServicePort } from '../../model/types.js';
import { diagnoseService, type ServiceDiagnosis } from '../endpoints/diagnose.js';
import { targetNotFound } from '../targets.js';
import type { IngressDiagnosis, RouteBackend, RouteRequest } from './types.js';

export interface BackendCheck {
  service: Service | null;
  port: ServicePort | null;
  endpoints: number | null;
  status: 'ok' | 'broken' | 'unknown';
  /** Findings about this backend (the INGRESS_* ones and the service's own errors/warnings). */
  findings: Finding[];
  notes: string[];
}

/** What a route row shows of its backend. */
export interface BackendRow {
  resolved: { service: Service | null; port: ServicePort | null };
  servicePort: number | null;
  endpoints: number | null;
  status: BackendCheck['status'];
  findings: Finding[];
}

const describePort = (p: ServicePort) => `${p.port}/${p.protocol}${p.name ? ` (${p.name})` : ''}`;

/** Caches the endpoints diagnosis per service port within one analysis. */
export class BackendChecker {
  private readonly diagnoses = new Map<string, ServiceDiagnosis>();

  constructor(private readonly model: ClusterModel) {}

  private diagnose(service: Service, port: ServicePort): ServiceDiagnosis {
    const key = `${service.namespace}/${service.name}:${port.name || port.port}`;
    let d = this.diagnoses.get(key);
    if (!d) {
      d = diagnoseService(this.model, service.namespace, service.name, { port: port.name || port.port });
      this.diagnoses.set(key, d);
    }
    return d;
  }

  /**
   * `owner` names the object ("ing/shop/web", "httproute/shop/store"), `where` the field
   * ("spec.rules[0].http.paths[1]") for messages and evidence.
   */
  check(
    namespace: string,
    name: string,
    port: number | string | null,
    owner: string,
    where: string,
  ): BackendCheck {
    const model = this.model;
    const ref = `svc/${namespace}/${name}`;
    const service = model.service(namespace, name);
    if (!service) {
      const close = closeNames(
        name,
        model.servicesInNamespace(namespace).map((s) => s.name),
      );
      return {
        service: null,
        port: null,
        endpoints: null,
        status: 'broken',
        notes: [],
        findings: [
          finding('INGRESS_BACKEND_NOT_FOUND', {
            message: `${where} of ${owner} sends requests to Service ${namespace}/${name}, which does not exist${close.length ? `; did you mean ${close.join(', ')}?` : '.'}`,
            objects: [owner, ref],
            evidence: [`${owner} ${where}: service ${name}${port !== null ? ` port ${port}` : ''}`],
          }),
        ],
      };
    }
    const sp =
      port === null
        ? undefined
        : service.ports.find((p) => (typeof port === 'number' ? p.port === port : p.name === port));
    if (!sp) {
      const known = service.ports.map(describePort).join(', ') || 'none';
      const byTarget =
        typeof port === 'number' ? service.ports.find((p) => p.targetPort === port) : undefined;
      return {
        service,
        port: null,
        endpoints: null,
        status: 'broken',
        notes: [],
        findings: [
          finding('INGRESS_BACKEND_PORT_NOT_FOUND', {
            message:
              port === null
                ? `${where} of ${owner} names Service ${namespace}/${name} without a port.`
                : `${where} of ${owner} sends requests to port ${port} of Service ${namespace}/${name}, which has no such port; its ports: ${known}.`,
            objects: [owner, ref],
            evidence: [
              `${owner} ${where}: service ${name} port ${port ?? '(none)'}`,
              `${ref} ports: ${known}`,
            ],
            hint: byTarget
              ? `${port} is the targetPort (the pods' port) of service port ${byTarget.port}${byTarget.name ? ` (${byTarget.name})` : ''}: use port ${byTarget.port}${byTarget.name ? ` or name ${byTarget.name}` : ''}.`
              : undefined,
          }),
        ],
      };
    }
    if (service.type === 'ExternalName') {
      return {
        service,
        port: sp,
        endpoints: null,
        status: 'unknown',
        findings: [],
        notes: [
          `${ref} is an ExternalName service (${service.externalName ?? '?'}): the controller resolves that name itself; knet cannot see beyond it.`,
        ],
      };
    }
    const d = this.diagnose(service, sp);
    const ready = d.backends.filter((b) => b.ready && b.targetPort !== null).length;
    const findings = d.findings.filter(
      (f) => f.severity !== 'info' || ['SVC_NO_SELECTOR', 'SVC_HEADLESS'].includes(f.code),
    );
    return {
      service,
      port: sp,
      endpoints: ready,
      status: ready > 0 ? 'ok' : 'broken',
      findings,
      notes: d.notes,
    };
  }
}

/** The check of a backend as its route row shows it; the check's notes join `notes`, once each. */
export function backendRow(
  checker: BackendChecker,
  notes: string[],
  ...args: Parameters<BackendChecker['check']>
): BackendRow {
  const c = checker.check(...args);
  for (const n of c.notes) if (!notes.includes(n)) notes.push(n);
  return {
    resolved: { service: c.service, port: c.port },
    servicePort: c.port?.port ?? null,
    endpoints: c.endpoints,
    status: c.status,
    findings: [...c.findings],
  };
}

/**
 * The backends a request is sent to (the routes it selects; every route without --host/--path),
 * each with the Service and port it resolved to: what a trace walks after the controller.
 */
export function requestBackends(
  diagnosis: IngressDiagnosis,
  resolved: readonly { service: Service | null; port: ServicePort | null }[],
  upstream: RouteBackend['upstream'],
): RouteRequest {
  const picked = diagnosis.request ? diagnosis.request.routes : diagnosis.routes.map((_, i) => i);
  const backends = picked
    .filter((i) => diagnosis.routes[i].backend.service !== null)
    .map((i) => ({
      service: resolved[i].service,
      port: resolved[i].port,
      rule: diagnosis.routes[i],
      upstream,
    }));
  return { diagnosis, backends };
}

/** The diagnosis of an Ingress, HTTPRoute or Gateway that does not exist: its one finding. */
export function missingDiagnosis(
  model: ClusterModel,
  kind: 'ing' | 'httproute' | 'gateway',
  namespace: string,
  name: string,
): IngressDiagnosis {
  const f = targetNotFound(model, { kind, namespace, name }, 'subject');
  return { ingress: null, controller: null, routes: [], request: null, notes: [], findings: [f] };
}
