// A Service port's targetPort → the port on one pod, as the EndpointSlice controller resolves it
// (podutil.FindPort): a number is used as is; a name is looked up in the pod's container ports,
// and only a port with that name AND the service port's protocol counts. A pod without such a
// port gets no endpoint port for that service port: it is not a backend for it.
import type { ContainerPort, Pod, Protocol, ServicePort } from '../../model/types.js';

export interface ResolvedTargetPort {
  port: number;
  protocol: Protocol;
}

export function resolveTargetPort(
  servicePort: Pick<ServicePort, 'targetPort' | 'protocol'>,
  pod: Pick<Pod, 'containers'>,
): ResolvedTargetPort | undefined {
  const port = targetPortOn(servicePort, pod);
  // A named port counts only with the service port's protocol: the protocol is always that one.
  return port === undefined ? undefined : { port, protocol: servicePort.protocol };
}

/** resolveTargetPort's port number alone (no object for each of 150,000 pods). */
export function targetPortOn(
  servicePort: Pick<ServicePort, 'targetPort' | 'protocol'>,
  pod: Pick<Pod, 'containers'>,
): number | undefined {
  const target = servicePort.targetPort;
  if (typeof target === 'number') return target;
  for (const container of pod.containers) {
    for (const p of container.ports) {
      if (p.name === target && p.protocol === servicePort.protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** Every container port of the pod with this name (any protocol), for explaining a failed lookup. */
export function containerPortsNamed(pod: Pick<Pod, 'containers'>, name: string): ContainerPort[] {
  return pod.containers.flatMap((c) => c.ports.filter((p) => p.name === name));
}

/**
 * Whether the pod declares a container port with this number: with this protocol ('same'),
 * with other protocols only ('other'), or not at all ('none').
 */
export function declaresPortNumber(
  pod: Pick<Pod, 'containers'>,
  port: number,
  protocol: Protocol,
): 'same' | 'other' | 'none' {
  let found: 'other' | 'none' = 'none';
  for (const c of pod.containers) {
    for (const p of c.ports) {
      if (p.containerPort !== port) continue;
      if (p.protocol === protocol) return 'same';
      found = 'other';
    }
  }
  return found;
}
