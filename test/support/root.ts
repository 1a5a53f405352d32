// The real-component tiers (network namespaces, iptables and nft captures, BIND on the
// namespace's port 53, the kernel lab) need root; each asks here whether it has it.
export const isRoot = process.getuid?.() === 0;
