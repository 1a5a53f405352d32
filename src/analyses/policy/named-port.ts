// A connection's destination port: a number, or a container port name resolved on the
// destination pod.
import type { Protocol } from '../../model/types.js';
import type { PolicyEndpoint } from './evaluate.js';

/**
 * The destination port: a number, or a container port name of the destination pod (its
 * protocol then defaults to that port's). A string result is the error to show.
 */
export function resolvePolicyPort(
  destination: PolicyEndpoint,
  port: number | string | undefined,
  protocol: Protocol | undefined,
): { port: number; protocol: Protocol } | string {
  if (port === undefined) return 'a connection needs a port: add --port P (or DESTINATION:PORT)';
  if (typeof port === 'number' || /^\d+$/.test(port)) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) return `port ${port} is not in 1-65535`;
    return { port: n, protocol: protocol ?? 'TCP' };
  }
  if (destination.kind !== 'pod')
    return `a named port (${port}) needs a destination pod: give the number with --port`;
  const pod = destination.pod;
  const matches = pod.containers
    .flatMap((c) => c.ports)
    .filter((p) => p.name === port && (protocol === undefined || p.protocol === protocol));
  if (matches.length === 0) {
    const names = [...new Set(pod.containers.flatMap((c) => c.ports.map((p) => p.name)).filter(Boolean))];
    return `pod ${pod.namespace}/${pod.name} has no container port named ${port}${protocol ? ` (${protocol})` : ''}${names.length ? `: it declares ${names.join(', ')}` : ''}`;
  }
  return { port: matches[0].containerPort, protocol: matches[0].protocol };
}
