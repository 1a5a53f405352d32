// The two halves of a NetworkPolicy rule: does a peer (from/to element) match the other end of
// the connection, and does a `ports` list match the destination port. Pure functions, with the
// reason in words for the evidence. Semantics: shared/reference/netpol-semantics.md §4–§7.
import { type CIDR, cidrContains, ipFamily, parseCIDR } from '../../core/ip.js';
import { matchesSelector } from '../../model/labels.js';
import type { Labels, NetworkPolicyPeer, NetworkPolicyPort, Pod, Protocol } from '../../model/types.js';
import { describePeer, describePort } from './describe.js';

/**
 * The other end of a connection as NetworkPolicy sees it:
 * - `pod`: a pod on the pod network (selectors can match it, policies can isolate it);
 * - `host`: a node address, or a hostNetwork pod (which shares its node's address): only ipBlock
 *   can match it, and no policy isolates it (the most common CNI behaviour, see §8);
 * - `external`: any other address.
 */
export type PolicyPeer =
  | { type: 'pod'; pod: Pod; ip: string | undefined; namespaceLabels: Labels }
  | { type: 'host'; ip: string | undefined; node: string | undefined; pod?: Pod }
  | { type: 'external'; ip: string };

/** true / false, or undefined when the data to decide is missing (an address not known yet). */
export type Tri = boolean | undefined;

export interface PeerMatch {
  match: Tri;
  /** Words for the evidence: what matched, or why not. */
  detail: string;
  /** Caveats that depend on the CNI (ipBlock over a pod IP, hostNetwork pods). */
  notes: string[];
}

export const describeEndpoint = (peer: PolicyPeer): string => {
  if (peer.type === 'pod') return `pod ${peer.pod.namespace}/${peer.pod.name}`;
  if (peer.type === 'host') {
    if (peer.pod) return `hostNetwork pod ${peer.pod.namespace}/${peer.pod.name}`;
    return peer.node ? `node ${peer.node} (${peer.ip})` : `node address ${peer.ip}`;
  }
  return `address ${peer.ip}`;
};

const cidrCache = new Map<string, CIDR | null>();

/** A parsed CIDR, or null when invalid. Legacy host-bit forms (10.0.0.5/24) mean their network. */
export function cachedCIDR(text: string): CIDR | null {
  let v = cidrCache.get(text);
  if (v === undefined) {
    try {
      v = text.includes('/') ? parseCIDR(text) : null;
    } catch {
      v = null;
    }
    cidrCache.set(text, v);
  }
  return v;
}

export const IPBLOCK_POD_NOTE =
  'an ipBlock was applied to a pod IP: knet follows the upstream e2e tests (ipBlock matches pod IPs), ' +
  'but some CNIs apply ipBlock only to cluster-external addresses';
export const HOSTNETWORK_NOTE =
  'hostNetwork pods share their node address: most CNIs ignore them in podSelector/namespaceSelector and ' +
  'treat their traffic as node traffic (only an ipBlock can match it); the behaviour is CNI-dependent';

function matchIPBlock(peer: NetworkPolicyPeer, other: PolicyPeer, text: string): PeerMatch {
  const block = peer.ipBlock!;
  const notes: string[] = [];
  if (!other.ip)
    return {
      match: undefined,
      detail: `${text}: the address of ${describeEndpoint(other)} is not known`,
      notes,
    };
  const range = cachedCIDR(block.cidr);
  if (!range) return { match: false, detail: `${text}: invalid cidr "${block.cidr}" matches nothing`, notes };
  if (!cidrContains(range, other.ip)) {
    return {
      match: false,
      detail: `${describeEndpoint(other)} (${other.ip}) is outside ${block.cidr}`,
      notes,
    };
  }
  for (const ex of block.except) {
    const exRange = cachedCIDR(ex);
    if (exRange && cidrContains(exRange, other.ip)) {
      return {
        match: false,
        detail: `${describeEndpoint(other)} (${other.ip}) is in the except ${ex} of ${block.cidr}`,
        notes,
      };
    }
  }
  // Only a match can differ on CNIs that apply ipBlock to cluster-external addresses only.
  if (other.type === 'pod') notes.push(IPBLOCK_POD_NOTE);
  const except = block.except.length ? ` and outside ${block.except.join(', ')}` : '';
  return {
    match: true,
    detail: `${describeEndpoint(other)} (${other.ip}) is in ${block.cidr}${except}`,
    notes,
  };
}

/** One `from`/`to` element against the other end of the connection. */
export function matchPeer(peer: NetworkPolicyPeer, policyNamespace: string, other: PolicyPeer): PeerMatch {
  const text = describePeer(peer, policyNamespace);
  if (peer.ipBlock) return matchIPBlock(peer, other, text);
  const { podSelector, namespaceSelector } = peer;
  if (!podSelector && !namespaceSelector) return { match: false, detail: text, notes: [] };
  if (other.type !== 'pod') {
    const notes = other.type === 'host' && other.pod ? [HOSTNETWORK_NOTE] : [];
    return { match: false, detail: `${text}: ${describeEndpoint(other)} is not a pod-network pod`, notes };
  }
  const pod = other.pod;
  if (namespaceSelector) {
    if (!matchesSelector(namespaceSelector, other.namespaceLabels)) {
      return { match: false, detail: `${text}: namespace ${pod.namespace} does not match`, notes: [] };
    }
  } else if (pod.namespace !== policyNamespace) {
    return { match: false, detail: `${text}: ${describeEndpoint(other)} is in another namespace`, notes: [] };
  }
  if (podSelector && !matchesSelector(podSelector, pod.labels)) {
    return {
      match: false,
      detail: `${text}: the labels of ${describeEndpoint(other)} do not match`,
      notes: [],
    };
  }
  return { match: true, detail: `${describeEndpoint(other)} is one of ${text}`, notes: [] };
}

/** A rule's peer list: empty = every peer (pods and addresses); otherwise any element (OR). */
export function matchPeers(
  peers: readonly NetworkPolicyPeer[],
  policyNamespace: string,
  other: PolicyPeer,
): PeerMatch {
  if (peers.length === 0)
    return { match: true, detail: 'the rule names no peers (any source or destination)', notes: [] };
  let unknown: PeerMatch | undefined;
  const misses: string[] = [];
  const notes: string[] = [];
  for (const peer of peers) {
    const m = matchPeer(peer, policyNamespace, other);
    notes.push(...m.notes);
    if (m.match === true) return { match: true, detail: m.detail, notes };
    if (m.match === undefined) unknown ??= m;
    else misses.push(m.detail);
  }
  if (unknown) return { match: undefined, detail: unknown.detail, notes };
  return { match: false, detail: misses.join('; '), notes };
}

export interface PortMatch {
  match: boolean;
  detail: string;
  notes: string[];
}

export const ENDPORT_NOTE =
  'a port range (endPort) decided this: CNIs that do not support endPort apply only `port`';

/** Named ports resolve on the destination pod: name and protocol must both match a container port. */
export function resolveNamedPort(name: string, protocol: Protocol, destination: PolicyPeer): number[] {
  if (destination.type !== 'pod') return [];
  const out: number[] = [];
  for (const c of destination.pod.containers) {
    for (const p of c.ports) if (p.name === name && p.protocol === protocol) out.push(p.containerPort);
  }
  return out;
}

export function matchPort(
  entry: NetworkPolicyPort,
  port: number,
  protocol: Protocol,
  destination: PolicyPeer,
): Tri {
  if (entry.protocol !== protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'number') {
    return entry.endPort !== undefined ? port >= entry.port && port <= entry.endPort : port === entry.port;
  }
  return resolveNamedPort(entry.port, entry.protocol, destination).includes(port);
}

/** A rule's ports list: empty = every port and protocol; otherwise any entry (OR). */
export function matchPorts(
  ports: readonly NetworkPolicyPort[],
  port: number,
  protocol: Protocol,
  destination: PolicyPeer,
): PortMatch {
  const asked = `${protocol}/${port}`;
  if (ports.length === 0) return { match: true, detail: 'the rule names no ports (any port)', notes: [] };
  const notes: string[] = [];
  for (const entry of ports) {
    if (!matchPort(entry, port, protocol, destination)) continue;
    if (typeof entry.port === 'string') {
      return {
        match: true,
        detail: `${asked} is named port ${entry.port} on ${describeEndpoint(destination)}`,
        notes,
      };
    }
    if (entry.endPort !== undefined && entry.port !== undefined) notes.push(ENDPORT_NOTE);
    return { match: true, detail: `${asked} is within ${describePort(entry)}`, notes };
  }
  const named = ports.filter((p) => typeof p.port === 'string');
  if (named.length && destination.type !== 'pod') {
    notes.push(
      `named ports never match ${describeEndpoint(destination)}: they resolve on destination pods only`,
    );
  }
  const resolved = named.map((p) => {
    const nums = resolveNamedPort(String(p.port), p.protocol, destination);
    return `${describePort(p)} = ${nums.length ? nums.map((n) => `${p.protocol}/${n}`).join(',') : 'not declared'}`;
  });
  const list = ports.map(describePort).join(', ');
  return {
    match: false,
    detail: `${asked} is not in [${list}]${resolved.length ? ` (${resolved.join('; ')})` : ''}`,
    notes,
  };
}

/** The address of an endpoint in the connection's IP family (the first one when family is unknown). */
export function addressOfFamily(ips: readonly string[], family: 4 | 6 | undefined): string | undefined {
  if (family === undefined) return ips[0];
  return ips.find((ip) => {
    try {
      return ipFamily(ip) === family;
    } catch {
      return false;
    }
  });
}
