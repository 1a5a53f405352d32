// The one packet type every dataplane evaluator takes, and the PacketFlow it answers with
// (cli.md "PacketFlow"; kind/apiVersion are added by the renderer).
import type { Protocol } from '../../model/types.js';

export interface Packet {
  source: string;
  destination: string;
  port: number;
  protocol: Protocol;
  /**
   * Where it enters the node: a pod veth (PREROUTING), the node itself (OUTPUT), or an
   * uplink (PREROUTING, external source).
   */
  from: 'pod' | 'local' | 'external';
  inInterface?: string;
}

export type Dataplane = 'iptables' | 'ipvs' | 'nftables';
export type FlowOutcome = 'dnat' | 'reject' | 'drop' | 'accept' | 'pass';

export interface FlowEndpoint {
  ip: string;
  port: number;
  /** Share of new connections that go to this endpoint (0..1). */
  probability: number;
  /** This branch is masqueraded (SNAT to the node) on its way out. */
  masquerade?: boolean;
}

export interface PacketFlow {
  node: string;
  dataplane: Dataplane;
  packet: { source: string; destination: string; port: number; protocol: Protocol };
  outcome: FlowOutcome;
  endpoints: FlowEndpoint[];
  /** Some branch of the flow is masqueraded (per-endpoint detail in endpoints[].masquerade). */
  masquerade: boolean;
  /** ServicePortName ("ns/name:port", "ns/name" for an unnamed port) or null. */
  service: string | null;
  /** Rule lines that decided, in the order the packet met them. */
  evidence: string[];
  /** Why the result could not be fully decided (e.g. an unknown match on the path). */
  unknown?: string;
  /** For drop/reject: whether the deciding rule is kube-proxy's own. */
  decidedBy?: 'kube-proxy' | 'other';
  /** The rule that decided a drop/reject/accept. */
  decidingRule?: string;
  /** ClientIP affinity on the service port: one endpoint sticks per client. */
  sessionAffinity?: { timeoutSeconds: number };
  /** Things the reader should know (e.g. ipset contents derived from the API). */
  notes?: string[];
}

/** Lower-case protocol as kube-proxy and the rule languages spell it. */
export function lowerProtocol(p: Protocol): 'tcp' | 'udp' | 'sctp' {
  return p.toLowerCase() as 'tcp' | 'udp' | 'sctp';
}
