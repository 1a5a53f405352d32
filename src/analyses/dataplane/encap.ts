// Encapsulation: which links are tunnels, and what each adds to a packet (one table for the
// trace's overlay hop and for node health's MTU check).

/** Link kinds that encapsulate: their routes lead to another node through the underlay. */
export const TUNNEL_KINDS = new Set([
  'vxlan',
  'geneve',
  'ipip',
  'sit',
  'ip6tnl',
  'gre',
  'gretap',
  'ip6gre',
  'wireguard',
]);

/** Bytes a tunnel adds to every packet, by kind and underlay family (without options). */
export function encapOverhead(kind: string, underlayFamily: 4 | 6 = 4): number {
  const ip = underlayFamily === 6 ? 40 : 20;
  switch (kind) {
    case 'vxlan':
    case 'geneve':
      return ip + 8 + 8 + 14; // outer IP + UDP + VXLAN/Geneve header + inner Ethernet
    case 'ipip':
    case 'sit':
    case 'ip6tnl':
      return ip;
    case 'gre':
    case 'ip6gre':
      return ip + 4;
    case 'gretap':
      return ip + 4 + 14;
    case 'wireguard':
      return ip + 8 + 32; // outer IP + UDP + WireGuard data header and tag
    default:
      return 0;
  }
}
