// kube-proxy's per-service chain names, recomputed exactly as kube-proxy computes them
// (pkg/proxy/iptables/proxier.go portProtoHash / servicePortEndpointChainName and
// pkg/proxy/nftables/proxier.go hashAndTruncate). Mapping a chain to a Service through these
// hashes does not depend on rule comments, which large-cluster mode drops.
import { hash } from 'node:crypto';
import { ipFamily } from '../../core/ip.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 standard base32 (upper case, no padding: kube-proxy truncates anyway). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/**
 * The first `chars` (a multiple of 8) base32 characters of sha256(text): 5 bytes of digest
 * make 8 characters. crypto.hash is a few times faster than createHash on short inputs, and
 * a large cluster has ~200,000 endpoint chains to name.
 */
function sha256Base32(text: string, chars: 8 | 16): string {
  return base32(hash('sha256', text, 'buffer').subarray(0, (chars / 8) * 5));
}

/** ServicePortName string: "ns/name" plus ":port" when the port has a name. */
export function servicePortName(namespace: string, name: string, portName: string): string {
  return portName ? `${namespace}/${name}:${portName}` : `${namespace}/${name}`;
}

/** kube-proxy's endpoint string: "ip:port", "[ip]:port" for IPv6 (Go net.JoinHostPort). */
export function endpointString(ip: string, port: number): string {
  return ipFamily(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

export type LowerProtocol = 'tcp' | 'udp' | 'sctp';

const portProtoHashes = new Map<string, string>();

/** First 16 base32 characters of sha256(spn + protocol) (remembered: each names 4 chains). */
export function portProtoHash(spn: string, protocol: string): string {
  const text = spn + protocol.toLowerCase();
  let h = portProtoHashes.get(text);
  if (h === undefined) {
    h = sha256Base32(text, 16);
    if (portProtoHashes.size >= 100_000) portProtoHashes.clear();
    portProtoHashes.set(text, h);
  }
  return h;
}

/** KUBE-SVC-…: the Cluster traffic-policy chain of a service port. */
export function servicePortChainName(spn: string, protocol: string): string {
  return `KUBE-SVC-${portProtoHash(spn, protocol)}`;
}

/** KUBE-SVL-…: the Local traffic-policy chain. */
export function servicePortLocalChainName(spn: string, protocol: string): string {
  return `KUBE-SVL-${portProtoHash(spn, protocol)}`;
}

/** KUBE-EXT-…: external (NodePort / externalIP / LB IP) entry chain. */
export function serviceExternalChainName(spn: string, protocol: string): string {
  return `KUBE-EXT-${portProtoHash(spn, protocol)}`;
}

/** KUBE-FW-…: loadBalancerSourceRanges chain. */
export function serviceFirewallChainName(spn: string, protocol: string): string {
  return `KUBE-FW-${portProtoHash(spn, protocol)}`;
}

/** KUBE-XLB-…: the pre-1.24 eTP=Local chain (same hash). */
export function serviceLegacyLocalChainName(spn: string, protocol: string): string {
  return `KUBE-XLB-${portProtoHash(spn, protocol)}`;
}

/** KUBE-SEP-…: one endpoint of a service port. `endpoint` is endpointString(ip, port). */
export function endpointChainName(spn: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${sha256Base32(spn + protocol.toLowerCase() + endpoint, 16)}`;
}

// ---- nftables ----

/** hashAndTruncate: 8 base32 chars of sha256(name), "-", name (long names truncated). */
export function nftHashAndTruncate(name: string): string {
  let full = `${sha256Base32(name, 8)}-${name}`;
  if (full.length > 240) full = `${full.slice(0, 237)}...`;
  return full;
}

/** "<hash>-ns/svc/proto/portName": the base of service-/local-/external-/firewall- chains. */
export function nftServicePortChainBase(namespace: string, name: string, protocol: string, portName: string) {
  return nftHashAndTruncate(`${namespace}/${name}/${protocol.toLowerCase()}/${portName}`);
}

/** "<hash>-ns/svc/proto/portName__ip/port" (IPv6 ':' → '.'): base of endpoint- chains. */
export function nftEndpointChainBase(
  namespace: string,
  name: string,
  protocol: string,
  portName: string,
  ip: string,
  port: number,
): string {
  const ipPart = ip.replaceAll(':', '.');
  return nftHashAndTruncate(`${namespace}/${name}/${protocol.toLowerCase()}/${portName}__${ipPart}/${port}`);
}

type KubeChainKind = 'SVC' | 'SVL' | 'EXT' | 'FW' | 'SEP' | 'XLB';
const KUBE_CHAIN_KINDS: ReadonlySet<string> = new Set<KubeChainKind>([
  'SVC',
  'SVL',
  'EXT',
  'FW',
  'SEP',
  'XLB',
]);

/**
 * Kind of an iptables chain name kube-proxy owns, and its hash part: /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-([A-Z2-7]{16})$/,
 * read by hand (a large dump's 190,000 names are classified).
 */
export function classifyKubeChain(chain: string): { kind: KubeChainKind; hash: string } | undefined {
  // "KUBE-" + kind (2 or 3 letters) + "-" + 16 base32 characters.
  const n = chain.length;
  if ((n !== 24 && n !== 25) || !chain.startsWith('KUBE-') || chain.charCodeAt(n - 17) !== 45)
    return undefined;
  for (let i = n - 16; i < n; i++) {
    const c = chain.charCodeAt(i);
    if (!((c >= 65 && c <= 90) || (c >= 50 && c <= 55))) return undefined;
  }
  const kind = chain.slice(5, n - 17);
  if (!KUBE_CHAIN_KINDS.has(kind)) return undefined;
  return { kind: kind as KubeChainKind, hash: chain.slice(n - 16) };
}
