// The findings catalog (shared/design/findings.md, extended in docs/findings.md). Codes are a
// public contract: add, never rename. Severity is fixed per code so that every analysis
// reports the same code the same way.
import type { Finding, Severity } from './types.js';

export const CATALOG = {
  POD_NOT_FOUND: { severity: 'error', hint: 'Check the name and namespace: kubectl get pods -n NAMESPACE.' },
  SVC_NOT_FOUND: { severity: 'error', hint: 'Check the name and namespace: kubectl get svc -n NAMESPACE.' },
  NODE_NOT_FOUND: { severity: 'error', hint: 'Check the name: kubectl get nodes.' },
  POD_NOT_RUNNING: { severity: 'error', hint: 'Look at the pod events: kubectl describe pod.' },
  POD_NO_IP: {
    severity: 'error',
    hint: 'The CNI has not assigned an IP yet; check the CNI pods and kubelet logs on the node.',
  },
  POD_NOT_READY: {
    severity: 'warning',
    hint: 'Check the readiness probe: kubectl describe pod; unready pods are removed from Service endpoints.',
  },
  POD_IP_OUTSIDE_NODE_CIDR: {
    severity: 'warning',
    hint: "Check the CNI's IPAM configuration against the node's spec.podCIDR.",
  },
  POD_IP_DUPLICATE: {
    severity: 'error',
    hint: 'Two live pods share an IP: the CNI IPAM leaked or reused an address; delete one pod and check IPAM state.',
  },
  POD_PORT_NOT_LISTENING: {
    severity: 'error',
    hint: 'The process in the pod does not listen on that port; check the containerPort and the application config.',
  },
  NODE_NOT_READY: {
    severity: 'error',
    hint: 'Check the kubelet and the CNI on the node: kubectl describe node.',
  },
  NODE_NO_POD_CIDR: {
    severity: 'warning',
    hint: 'Set --allocate-node-cidrs on the controller manager, or check that your CNI does not need node pod CIDRs.',
  },
  NODE_POD_CIDR_OVERLAP: {
    severity: 'error',
    hint: 'Two nodes own overlapping pod CIDRs: routes will be ambiguous; fix the node specs or the IPAM pool.',
  },
  NODE_POD_CIDR_EXHAUSTED: {
    severity: 'warning',
    hint: 'The node is about to run out of pod IPs; use larger node CIDRs (--node-cidr-mask-size) or lower maxPods.',
  },
  SVC_PORT_NOT_FOUND: { severity: 'error', hint: 'Use one of the service ports listed by kubectl get svc.' },
  SVC_NO_SELECTOR_MATCH: { severity: 'error', hint: "Make the Service's selector match the pods' labels." },
  SVC_LABEL_MISMATCH: {
    severity: 'error',
    hint: "Fix the differing label on the pods or the Service's selector.",
  },
  SVC_NO_READY_ENDPOINTS: {
    severity: 'error',
    hint: 'None of the matching pods is ready: check their readiness probes.',
  },
  SVC_SOME_ENDPOINTS_NOT_READY: {
    severity: 'warning',
    hint: 'Some backends are not ready and get no traffic; check their readiness probes.',
  },
  SVC_TARGET_PORT_MISMATCH: {
    severity: 'error',
    hint: "Make the Service's targetPort match a containerPort (number or name) of the pods.",
  },
  SVC_TARGET_PORT_UNDECLARED: {
    severity: 'warning',
    hint: 'Undeclared ports still receive traffic if the process listens there: check that it listens on the targetPort, or fix the targetPort.',
  },
  SVC_PROTOCOL_MISMATCH: {
    severity: 'error',
    hint: "Make the Service port's protocol match the container port's protocol.",
  },
  SVC_ENDPOINTS_MISSING: {
    severity: 'error',
    hint: 'The EndpointSlice controller lags or failed: check kube-controller-manager logs.',
  },
  SVC_ENDPOINTS_STALE: {
    severity: 'warning',
    hint: 'EndpointSlices list addresses no live pod has: check kube-controller-manager, or the manual Endpoints.',
  },
  SVC_NO_LOCAL_ENDPOINTS: {
    severity: 'error',
    hint: 'With traffic policy Local only endpoints on the receiving node are used; run a backend there or use Cluster.',
  },
  SVC_HEADLESS: {
    severity: 'info',
    hint: 'Clients resolve the pod IPs through DNS and connect to them directly; no kube-proxy rules apply.',
  },
  SVC_EXTERNAL_NAME: {
    severity: 'info',
    hint: 'DNS answers with a CNAME; traffic goes to that name, not through kube-proxy.',
  },
  SVC_NO_SELECTOR: {
    severity: 'info',
    hint: 'Endpoints of a Service without selector are managed by hand (or by another controller).',
  },
  PROXY_RULES_MISSING: {
    severity: 'error',
    hint: 'kube-proxy has not programmed this service on the node: check the kube-proxy pod and its logs there.',
  },
  PROXY_ENDPOINT_STALE: {
    severity: 'error',
    hint: "kube-proxy's rules DNAT to an address that is not a ready endpoint: check kube-proxy's sync on the node.",
  },
  PROXY_ENDPOINT_MISSING: {
    severity: 'warning',
    hint: "A ready endpoint is absent from the node's rules: check kube-proxy's sync on the node.",
  },
  PROXY_REJECT: {
    severity: 'error',
    hint: 'kube-proxy rejects traffic to a service without ready endpoints: fix the endpoints first.',
  },
  FILTER_DROP: {
    severity: 'error',
    hint: "A firewall rule that is not kube-proxy's drops this packet: review the rule shown as evidence.",
  },
  ROUTE_MISSING: {
    severity: 'error',
    hint: "Add the route to the destination's pod CIDR (the CNI normally writes it).",
  },
  ROUTE_WRONG_NEXT_HOP: {
    severity: 'error',
    hint: 'Point the route at the node that owns the destination pod CIDR.',
  },
  IFACE_DOWN: {
    severity: 'error',
    hint: 'Bring the interface up (ip link set DEV up) and find out why it went down.',
  },
  VETH_NOT_ON_BRIDGE: {
    severity: 'error',
    hint: "Enslave the pod's host veth to the bridge (ip link set VETH master BRIDGE), or recreate the pod.",
  },
  IP_FORWARD_DISABLED: { severity: 'error', hint: 'Set net.ipv4.ip_forward=1 on the node.' },
  MTU_MISMATCH: {
    severity: 'warning',
    hint: "An overlay device's MTU plus its encapsulation overhead (VXLAN: 50 bytes) exceeds the underlay link's MTU: full-size packets are dropped silently; lower the overlay and pod MTU.",
  },
  POLICY_DENIED_EGRESS: {
    severity: 'error',
    hint: 'Add an egress rule to one of the policies that select the source pod.',
  },
  POLICY_DENIED_INGRESS: {
    severity: 'error',
    hint: 'Add an ingress rule to one of the policies that select the destination pod.',
  },
  POLICY_NOT_ENFORCED: {
    severity: 'info',
    hint: 'Policies exist but the visible CNI does not enforce NetworkPolicy; use a CNI that does.',
  },
  POLICY_INVALID: {
    severity: 'warning',
    hint: 'The API server would reject this NetworkPolicy (or it predates the check): fix the field named in the evidence.',
  },
  POLICY_SELECTS_NO_POD: {
    severity: 'info',
    hint: "The policy's podSelector matches no pod in its namespace: check its labels, or delete the policy.",
  },
  POLICY_PEER_SELECTS_NOTHING: {
    severity: 'warning',
    hint: 'A from/to peer matches no pod or namespace, so that rule allows nothing: check its selectors.',
  },
  DNS_NXDOMAIN: { severity: 'error', hint: 'Check the name, the Service and the cluster DNS configuration.' },
  DNS_ANSWER_MISMATCH: {
    severity: 'error',
    hint: "The DNS answer differs from the cluster's objects: check CoreDNS's health and its cache.",
  },
  DNS_NO_RESPONSE: {
    severity: 'error',
    hint: 'The DNS server did not answer: check the CoreDNS pods and the kube-dns Service.',
  },
  DNS_SERVER_ERROR: {
    severity: 'error',
    hint: 'The DNS server answered SERVFAIL/REFUSED or another error code: check the CoreDNS logs and its upstream (forward) servers.',
  },
  DNS_REPLICAS_DISAGREE: {
    severity: 'error',
    hint: 'CoreDNS replicas answer differently: restart the odd replica and check its connection to the API server.',
  },
  INGRESS_NOT_FOUND: {
    severity: 'error',
    hint: 'Check the name and namespace: kubectl get ingress -n NAMESPACE.',
  },
  INGRESS_BACKEND_NOT_FOUND: {
    severity: 'error',
    hint: "Create the Service, or point the route at an existing Service in the route's namespace.",
  },
  INGRESS_BACKEND_PORT_NOT_FOUND: {
    severity: 'error',
    hint: "Use a port the Service exposes (its `port`, or the port's name), not the pods' targetPort.",
  },
  INGRESS_NO_CONTROLLER: {
    severity: 'error',
    hint: 'Install or fix the controller for this class, or set spec.ingressClassName to a class whose controller runs.',
  },
  INGRESS_CLASS_MISSING: {
    severity: 'error',
    hint: 'Create the IngressClass (or GatewayClass), or use the name of an existing one: kubectl get ingressclass.',
  },
  INGRESS_TLS_SECRET_MISSING: {
    severity: 'error',
    hint: 'Create the TLS Secret in the Ingress namespace (or fix spec.tls[].secretName); until then the controller serves its default certificate.',
  },
  INGRESS_PATH_SHADOWED: {
    severity: 'warning',
    hint: 'Remove or change the duplicate rule: another rule with the same host, path and path type takes every request first.',
  },
  INGRESS_NO_RULE_MATCH: {
    severity: 'error',
    hint: 'Add a rule (or a default backend) for this host and path; Prefix paths match whole path elements: /cart matches /cart/x, not /cartx.',
  },
  HTTPROUTE_NOT_FOUND: {
    severity: 'error',
    hint: 'Check the name and namespace: kubectl get httproute -n NAMESPACE.',
  },
  GATEWAY_NOT_FOUND: {
    severity: 'error',
    hint: 'Check the Gateway name and namespace in the parentRef: kubectl get gateway -A.',
  },
  GATEWAY_ROUTE_NOT_ACCEPTED: {
    severity: 'error',
    hint: "Fix the route's parentRef (Gateway, sectionName, port), the listener's allowedRoutes or the hostnames, as the evidence says.",
  },
  GATEWAY_REF_NOT_PERMITTED: {
    severity: 'error',
    hint: "Create a ReferenceGrant in the backend's namespace that allows HTTPRoutes from the route's namespace to reach the Service.",
  },
  GATEWAY_REFS_UNRESOLVED: {
    severity: 'error',
    hint: "The controller could not resolve the route's references: read the ResolvedRefs condition in kubectl describe httproute.",
  },
  CNI_CONFIG_MISSING: {
    severity: 'error',
    hint: 'The node has no CNI network config in /etc/cni/net.d: kubelet cannot set up pod networks; check the CNI DaemonSet pod on this node.',
  },
  CNI_CONFIG_INVALID: {
    severity: 'error',
    hint: 'The container runtime cannot load this CNI config: fix the file named in the evidence (or let the CNI DaemonSet rewrite it).',
  },
  CNI_CONFIG_CIDR_MISMATCH: {
    severity: 'error',
    hint: 'Make the CNI IPAM range match the node\'s spec.podCIDR (or use "subnet": "usePodCidr"); other nodes route the podCIDR, not the IPAM range, to this node.',
  },
  CONNTRACK_TABLE_FULL: {
    severity: 'error',
    hint: 'Raise net.netfilter.nf_conntrack_max (kube-proxy --conntrack-min / --conntrack-max-per-core) or find the connection leak; a full table drops new connections.',
  },
  BRIDGE_NF_DISABLED: {
    severity: 'error',
    hint: 'modprobe br_netfilter and set net.bridge.bridge-nf-call-iptables=1: without it, pod-to-service traffic between pods on the same bridge skips kube-proxy.',
  },
  RP_FILTER_STRICT: {
    severity: 'warning',
    hint: 'Set net.ipv4.conf.IFACE.rp_filter=2 (loose) or 0 on interfaces that receive traffic whose reply leaves by another interface.',
  },
  EGRESS_NOT_MASQUERADED: {
    severity: 'warning',
    hint: "Pod traffic to this address leaves with the pod IP as its source; unless the network routes the pod CIDR back to the node, replies are lost: check the CNI's masquerade rule (ipMasq / ip-masq-agent).",
  },
  PROXY_DNAT_MISSING: {
    severity: 'error',
    hint: "A share of the Service's traffic leaves kube-proxy's chains without a DNAT (a KUBE-SEP/endpoint chain lost its DNAT rule) and goes to the virtual IP, which nothing answers: restart kube-proxy on the node so it rewrites its rules, and find what edited them.",
  },
  HAIRPIN_DISABLED: {
    severity: 'error',
    hint: 'A pod that reaches its own Service and is picked as the backend needs hairpin mode on its bridge port: set "hairpinMode": true in the CNI bridge configuration (kubelet --hairpin-mode=hairpin-veth), or make the bridge promiscuous.',
  },
  HOSTPORT_RULE_MISSING: {
    severity: 'error',
    hint: "The pod's hostPort has no DNAT on its node (the CNI portmap plugin's CNI-HOSTPORT-DNAT jump or CNI-DN-… chain is gone): recreate the pod, or check that the conflist chains the portmap plugin.",
  },
  OVERLAY_FDB_MISSING: {
    severity: 'error',
    hint: "The VXLAN device has no forwarding entry (bridge fdb) for the remote node's VTEP MAC, so encapsulated packets have no underlay destination: restart the CNI agent on the node (e.g. flanneld) so that it reprograms its peers.",
  },
  OVERLAY_NEIGH_MISSING: {
    severity: 'error',
    hint: 'The VXLAN device has no neighbour entry (ip neigh) for the remote VTEP address, so the kernel cannot build the inner frame: restart the CNI agent on the node (e.g. flanneld) so that it reprograms its peers.',
  },
  RP_FILTER_DROP: {
    severity: 'error',
    hint: "Strict reverse-path filtering (rp_filter=1) drops packets that arrive on an interface the node would not use to answer them: fix the asymmetric route, or set net.ipv4.conf.all.rp_filter and the interface's to 2 (loose).",
  },
  REPLY_ROUTE_MISSING: {
    severity: 'error',
    hint: 'The destination can receive the packet but has no route to send the reply back: restore its routes (a pod: its default route via the gateway; recreate the pod).',
  },
  CNI_POLICY_DROP: {
    severity: 'error',
    hint: "The CNI's NetworkPolicy enforcement (Calico's cali-* chains) drops this packet: find the policy that should allow it (kubectl get networkpolicy,globalnetworkpolicy -A) and the chains named in the evidence.",
  },
  PROXY_ARP_DISABLED: {
    severity: 'error',
    hint: "The pod's gateway (Calico's 169.254.1.1) is answered by proxy ARP on its host veth: set net.ipv4.conf.VETH.proxy_arp=1 (the CNI does it when it creates the pod; recreate the pod).",
  },
  NAT_ASYMMETRIC: {
    severity: 'error',
    hint: 'A DNAT on a node sends the packet to an address whose answer does not come back through that node, so the NAT is never undone and the client drops the answer: remove the rule, or masquerade the rewritten traffic too.',
  },
  NODE_PORT_NOT_LISTENING: {
    severity: 'error',
    hint: 'Nothing on the node listens on that port (ss -lntu): start the host-network process, or check the port it binds.',
  },
  NO_NODE_DATA: {
    severity: 'info',
    hint: 'Capture the node files (knet snapshot --collect-nodes, or docs/snapshot.md) to check this hop.',
  },
} as const satisfies Record<string, { severity: Severity; hint: string }>;

export type FindingCode = keyof typeof CATALOG;

export interface FindingInput {
  message: string;
  objects: string[];
  hint?: string;
  evidence?: string[];
}

/** Builds a finding with the catalog's severity and default hint. */
export function finding(code: FindingCode, input: FindingInput): Finding {
  const entry = CATALOG[code];
  const out: Finding = {
    code,
    severity: entry.severity,
    message: input.message,
    objects: input.objects,
    hint: input.hint ?? entry.hint,
  };
  if (input.evidence?.length) out.evidence = input.evidence;
  return out;
}

export function hasError(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** The same finding reported twice (same code and message) is listed once, first place kept. */
export function dedupeFindings(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const k = `${f.code}\u0000${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
