// Ingress routes whose backend changed between the two clusters: the host and path now lead to
// another Service (or to none). A backend whose endpoints changed is a service-backends change.
import type { ClusterModel } from '../../model/cluster.js';
import type { Ingress, IngressBackend } from '../../model/types.js';
import { readyEndpoints } from '../endpoints/backends.js';
import type { ChangeClass, ConnectivityChange } from './types.js';

/** Every route of an Ingress (`host/path`, `default`) and its backend. */
function routes(ing: Ingress): Map<string, IngressBackend> {
  const out = new Map<string, IngressBackend>();
  if (ing.defaultBackend) out.set('default backend', ing.defaultBackend);
  for (const r of ing.rules) for (const p of r.paths) out.set(`${r.host ?? '*'}${p.path ?? '/'}`, p.backend);
  return out;
}

/** The backend as a ref, and how many ready endpoints answer there. */
function backendOf(
  m: ClusterModel,
  namespace: string,
  b: IngressBackend | undefined,
): { ref: string; text: string; endpoints: number } {
  if (!b) return { ref: '(none)', text: '(no route)', endpoints: 0 };
  if (!b.service) {
    const ref = `${b.resource?.kind ?? '?'}/${b.resource?.name ?? '?'}`;
    return { ref, text: ref, endpoints: 0 };
  }
  const { name, port } = b.service;
  const ref = `svc/${namespace}/${name}:${port.number ?? port.name ?? '?'}`;
  const svc = m.service(namespace, name);
  if (!svc) return { ref, text: `${ref} (no such Service)`, endpoints: 0 };
  const sp = svc.ports.find((p) =>
    port.number !== undefined ? p.port === port.number : p.name === port.name,
  );
  if (!sp) return { ref, text: `${ref} (the Service has no such port)`, endpoints: 0 };
  const n = readyEndpoints(m, svc, sp).length;
  return { ref, text: `${ref} (${n} endpoint${n === 1 ? '' : 's'})`, endpoints: n };
}

export function ingressChanges(
  a: ClusterModel,
  b: ClusterModel,
  namespace: string | undefined,
  causes: (refs: Iterable<string>) => string[],
): ConnectivityChange[] {
  const pick = (m: ClusterModel) =>
    m.ingresses.filter((i) => namespace === undefined || i.namespace === namespace);
  const keys = [...new Set([...pick(a), ...pick(b)].map((i) => `${i.namespace}/${i.name}`))].sort();
  const out: ConnectivityChange[] = [];
  for (const key of keys) {
    const [ns, name] = key.split('/');
    const find = (m: ClusterModel) => m.ingresses.find((i) => i.namespace === ns && i.name === name);
    const ra = routes(find(a) ?? ({ rules: [] } as unknown as Ingress));
    const rb = routes(find(b) ?? ({ rules: [] } as unknown as Ingress));
    for (const route of [...new Set([...ra.keys(), ...rb.keys()])].sort()) {
      const x = backendOf(a, ns, ra.get(route));
      const y = backendOf(b, ns, rb.get(route));
      if (x.ref === y.ref) continue;
      const cls: ChangeClass =
        x.endpoints > 0 && y.endpoints === 0
          ? 'broke'
          : x.endpoints === 0 && y.endpoints > 0
            ? 'fixed'
            : 'changed';
      out.push({
        class: cls,
        kind: 'ingress',
        subject: `ing/${key} ${route}`,
        text: `backend ${x.text} → ${y.text}`,
        causes: causes([`ing/${key}`]),
      });
    }
  }
  return out;
}
