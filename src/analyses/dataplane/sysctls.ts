// The sysctls the kernel consults on a packet's way through a node.

/** net.ipv4.ip_forward from a parsed sysctl map: true/false, or undefined when absent. */
export function ipForwarding(sysctl: ReadonlyMap<string, string>, family: 4 | 6 = 4): boolean | undefined {
  const v = sysctl.get(family === 4 ? 'net.ipv4.ip_forward' : 'net.ipv6.conf.all.forwarding');
  if (v === undefined) return undefined;
  return v.trim() !== '0';
}

/** Effective rp_filter of an interface: the kernel uses max(conf.all, conf.IFACE). */
export function rpFilter(
  sysctl: ReadonlyMap<string, string>,
  iface: string,
): { value: number; keys: string[] } | undefined {
  const allKey = 'net.ipv4.conf.all.rp_filter';
  const ifKey = `net.ipv4.conf.${iface.replace(/\./g, '/')}.rp_filter`;
  const all = sysctl.get(allKey);
  const own = sysctl.get(ifKey) ?? sysctl.get(`net.ipv4.conf.${iface}.rp_filter`);
  if (all === undefined || own === undefined) return undefined;
  const value = Math.max(Number(all), Number(own));
  return { value, keys: [`${allKey} = ${all}`, `${ifKey} = ${own}`] };
}
