// The fix of a root error: one sentence, and where the fix is a change to an object a ready
// `kubectl patch` with the concrete values; where it is a node fact, the commands to check it
// and to change it. knet never runs any of them.
import type { ClusterModel } from '../model/cluster.js';
import type { Labels, Pod } from '../model/types.js';
import { CATALOG } from './catalog.js';
import type { Finding, Fix } from './types.js';

/** A shell single-quoted word. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const json = (v: unknown) => JSON.stringify(v);
const split = (ref: string) => ref.split('/') as [string, string, string];
const nodeOf = (f: Finding) => f.objects.find((o) => o.startsWith('node/'))?.slice(5);
const firstSentence = (s: string) =>
  s
    .match(/^.*?[.:](\s|$)/)?.[0]
    .trim()
    .replace(/:$/, '.') ?? s;

/** Labels a controller adds per pod: never part of a selector fix. */
const GENERATED = new Set([
  'pod-template-hash',
  'controller-revision-hash',
  'statefulset.kubernetes.io/pod-name',
]);
const stableLabels = (labels: Labels) =>
  Object.fromEntries(Object.entries(labels).filter(([k]) => !GENERATED.has(k)));

export function kubectlPatch(
  kind: string,
  namespace: string | undefined,
  name: string,
  type: 'strategic' | 'merge' | 'json',
  body: unknown,
): string {
  const ns = namespace ? ` -n ${namespace}` : '';
  return `kubectl patch ${kind} ${name}${ns} --type ${type} -p ${sq(json(body))}`;
}

type FixRule = (f: Finding, model: ClusterModel | undefined) => Fix | undefined;

/** The Service a finding names and the pods it names in the Service's namespace. */
function serviceAndPods(f: Finding, model: ClusterModel | undefined) {
  const svcRef = f.objects.find((o) => o.startsWith('svc/'));
  if (!svcRef || !model) return undefined;
  const [, ns, name] = split(svcRef);
  const pods = f.objects
    .filter((o) => o.startsWith('pod/'))
    .map((o) => model.pod(ns, split(o)[2]))
    .filter((p): p is Pod => Boolean(p));
  return { model, svcRef, ns, name, svc: model.service(ns, name), pods };
}

const labelMismatch: FixRule = (f, model) => {
  const found = serviceAndPods(f, model);
  if (!found) return undefined;
  const { svcRef, ns, name, svc, pods } = found;
  if (!svc?.selector || pods.length === 0) return undefined;
  const selector = svc.selector;
  const labels = pods[0].labels;
  const change: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(selector)) {
    if (labels[k] === v) continue;
    change[k] = labels[k] ?? null;
  }
  // Same owner's pods do match: these pods drifted, relabel them; else the selector is the odd one.
  const siblings = found.model.podsMatchingLabels(ns, selector);
  const text = (o: Record<string, string | null>) =>
    Object.entries(o)
      .map(([k, v]) => (v === null ? `remove ${k}` : `${k}: ${v}`))
      .join(', ');
  if (siblings.length > 0) {
    const want: Record<string, string> = {};
    for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) want[k] = v;
    return {
      summary:
        `Set ${text(want)} on ${pods.length === 1 ? `pod ${pods[0].name}` : `the ${pods.length} pods`}: ` +
        `${siblings.length} other ${siblings.length === 1 ? `pod of ${svcRef} already carries` : `pods of ${svcRef} already carry`} it, so the pods drifted, not the selector (fix their owner's template too, or a rollout brings it back).`,
      patch: pods
        .map((p) => kubectlPatch('pod', ns, p.name, 'merge', { metadata: { labels: want } }))
        .join('\n'),
    };
  }
  const owners = [
    ...new Set(pods.map((p) => p.ownerReferences[0]).flatMap((o) => (o ? [`${o.kind} ${o.name}`] : []))),
  ];
  return {
    summary:
      `Set ${text(change)} in the selector of ${svcRef}: the ${pods.length === 1 ? 'pod carries' : `${pods.length} pods carry`} ${Object.entries(
        change,
      )
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ')} from their owner's template${owners.length ? ` (${owners.join(', ')})` : ''}, ` +
      'so a patch to the pods is undone by the next rollout, while the Service is one object that nothing else writes.',
    patch: kubectlPatch('service', ns, name, 'merge', { spec: { selector: change } }),
  };
};

const noSelectorMatch: FixRule = (f) => {
  const svcRef = f.objects.find((o) => o.startsWith('svc/'));
  if (!svcRef) return undefined;
  const [, ns] = split(svcRef);
  return {
    summary: `Set the selector of ${svcRef} to the labels of the pods it should serve (no pod in namespace ${ns} carries its labels).`,
    commands: [`kubectl get pods -n ${ns} --show-labels`],
  };
};

const targetPortMismatch: FixRule = (f, model) => {
  const found = serviceAndPods(f, model);
  if (!found) return undefined;
  const { svcRef, ns, name, svc, pods } = found;
  const wanted = f.message.match(/named "([^"]+)"/)?.[1];
  const sp = svc?.ports.find((p) => p.targetPort === wanted) ?? svc?.ports[0];
  if (!svc || !sp || pods.length === 0) return undefined;
  const declared = pods[0].containers.flatMap((c) => c.ports).filter((p) => p.protocol === sp.protocol);
  if (declared.length === 0) return undefined;
  const close = (n?: string) =>
    n !== undefined && wanted !== undefined && (wanted.startsWith(n) || n.startsWith(wanted));
  const pick = declared.length === 1 ? declared[0] : (declared.find((p) => close(p.name)) ?? declared[0]);
  const target = pick.name ?? pick.containerPort;
  return {
    summary:
      `Set targetPort of port ${sp.port} of ${svcRef} to ${json(target)}: the pods declare ` +
      `${declared.map((p) => `${p.name ? `${p.name} ` : ''}(${p.containerPort}/${p.protocol})`).join(', ')}, ` +
      `none named ${json(wanted ?? sp.targetPort)}.`,
    patch: kubectlPatch('service', ns, name, 'strategic', {
      spec: { ports: [{ port: sp.port, protocol: sp.protocol, targetPort: target }] },
    }),
  };
};

const backendPort: FixRule = (f, model) => {
  const owner = f.objects[0];
  const m = f.message.match(/sends requests to port (\S+) of Service ([^/\s]+)\/([^,\s]+), which/);
  if (!owner || !m || !model) return undefined;
  const [kindRef, ns, name] = split(owner);
  const svc = model.service(m[2], m[3]);
  if (!svc) return undefined;
  const wrong = /^\d+$/.test(m[1]) ? Number(m[1]) : m[1];
  const right =
    svc.ports.find((p) => p.targetPort === wrong) ?? (svc.ports.length === 1 ? svc.ports[0] : undefined);
  if (!right) return undefined;
  const ing = f.message.match(/spec\.rules\[(\d+)\]\.http\.paths\[(\d+)\]/);
  const route = f.message.match(/spec\.rules\[(\d+)\]\.backendRefs\[(\d+)\]/);
  const summary =
    `Send ${owner}'s requests to port ${right.port}${right.name ? ` (${right.name})` : ''} of svc/${svc.namespace}/${svc.name}` +
    `${right.targetPort === wrong ? `: ${wrong} is its targetPort, the pods' port, not a port of the Service` : ''}.`;
  if (kindRef === 'ing' && (ing || f.message.includes('spec.defaultBackend'))) {
    const path = ing
      ? `/spec/rules/${ing[1]}/http/paths/${ing[2]}/backend/service/port`
      : '/spec/defaultBackend/service/port';
    return {
      summary,
      patch: kubectlPatch('ingress', ns, name, 'json', [
        { op: 'replace', path, value: { number: right.port } },
      ]),
    };
  }
  if (kindRef === 'httproute' && route) {
    return {
      summary,
      patch: kubectlPatch('httproute', ns, name, 'json', [
        { op: 'replace', path: `/spec/rules/${route[1]}/backendRefs/${route[2]}/port`, value: right.port },
      ]),
    };
  }
  return { summary };
};

const refNotPermitted: FixRule = (f) => {
  const route = f.objects.find((o) => o.startsWith('httproute/'));
  const svc = f.objects.find((o) => o.startsWith('svc/'));
  if (!route || !svc) return undefined;
  const [, routeNs] = split(route);
  const [, svcNs, svcName] = split(svc);
  const yaml = [
    'apiVersion: gateway.networking.k8s.io/v1beta1',
    'kind: ReferenceGrant',
    'metadata:',
    `  name: allow-httproutes-from-${routeNs}`,
    `  namespace: ${svcNs}`,
    'spec:',
    '  from:',
    '  - group: gateway.networking.k8s.io',
    '    kind: HTTPRoute',
    `    namespace: ${routeNs}`,
    '  to:',
    '  - group: ""',
    '    kind: Service',
    `    name: ${svcName}`,
  ].join('\n');
  return {
    summary: `Create a ReferenceGrant in namespace ${svcNs} that lets HTTPRoutes of ${routeNs} send to ${svc}.`,
    patch: `kubectl apply -f - <<'EOF'\n${yaml}\nEOF`,
  };
};

const policyDenied: FixRule = (f, model) => {
  const egress = f.code === 'POLICY_DENIED_EGRESS';
  const [subject, peer] = f.objects;
  const policies = f.objects.filter((o) => o.startsWith('networkpolicy/'));
  const m = f.message.match(/on (TCP|UDP|SCTP)\/(\d+)/);
  if (!model || !subject?.startsWith('pod/') || !peer || !policies.length || !m) return undefined;
  const [, ns] = split(subject);
  const list = egress ? 'egress' : 'ingress';
  const chosen =
    policies
      .map((p) => model.policiesInNamespace(ns).find((x) => `networkpolicy/${x.namespace}/${x.name}` === p))
      .find((p) => p && p[list].length > 0) ??
    model.policiesInNamespace(ns).find((x) => `networkpolicy/${x.namespace}/${x.name}` === policies[0]);
  if (!chosen) return undefined;
  let who: Record<string, unknown>;
  let whoText: string;
  if (peer.startsWith('pod/')) {
    const [, pns, pname] = split(peer);
    const pod = model.pod(pns, pname);
    if (!pod) return undefined;
    const labels = stableLabels(pod.labels);
    const key = 'app' in labels ? { app: labels.app } : labels;
    who = { podSelector: { matchLabels: key } };
    if (pns !== ns) who.namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': pns } };
    whoText = `pods ${Object.entries(key)
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}${pns !== ns ? ` of namespace ${pns}` : ''}`;
  } else if (peer.startsWith('ip/')) {
    const ip = peer.slice(3);
    who = { ipBlock: { cidr: `${ip}/${ip.includes(':') ? 128 : 32}` } };
    whoText = ip;
  } else return undefined;
  const rule = { [egress ? 'to' : 'from']: [who], ports: [{ protocol: m[1], port: Number(m[2]) }] };
  const op =
    chosen[list].length > 0
      ? { op: 'add', path: `/spec/${list}/-`, value: rule }
      : { op: 'add', path: `/spec/${list}`, value: [rule] };
  return {
    summary: `If this traffic is meant to flow: add an ${list} rule for ${whoText} on ${m[1]}/${m[2]} to NetworkPolicy ${chosen.namespace}/${chosen.name} (it selects ${subject}); the policies deny it on purpose otherwise.`,
    patch: kubectlPatch('networkpolicy', chosen.namespace, chosen.name, 'json', [op]),
  };
};

const kubeProxy = (node: string) => [
  `kubectl -n kube-system get pods -l k8s-app=kube-proxy --field-selector spec.nodeName=${node} -o name`,
  `kubectl -n kube-system logs POD_FROM_ABOVE --tail=100`,
  `kubectl -n kube-system delete POD_FROM_ABOVE   # the DaemonSet recreates it and it rewrites its rules`,
];
const cniAgent = (node: string) => [
  `kubectl get pods -A -o wide --field-selector spec.nodeName=${node} | grep -Ei 'flannel|calico|canal|cilium|weave'`,
  'kubectl -n NAMESPACE delete pod CNI_POD_FROM_ABOVE   # its DaemonSet recreates it and it reprograms the node',
];
const onNode = (node: string | undefined) => (node ? `on node ${node}` : 'on the node');

/** Node facts: the command to check and the setting to change, on the node. */
const NODE_FIXES: Record<string, FixRule> = {
  IP_FORWARD_DISABLED: (f) => {
    const key = f.message.match(/has (\S+) = 0/)?.[1] ?? 'net.ipv4.ip_forward';
    return {
      summary: `Set ${key}=1 ${onNode(nodeOf(f))}, and keep it in /etc/sysctl.d/ so a reboot does not undo it.`,
      commands: [`sysctl ${key}`, `sysctl -w ${key}=1`, `echo '${key} = 1' > /etc/sysctl.d/99-forward.conf`],
    };
  },
  BRIDGE_NF_DISABLED: (f) => ({
    summary: `Load br_netfilter and set net.bridge.bridge-nf-call-iptables=1 ${onNode(nodeOf(f))}.`,
    commands: [
      'sysctl net.bridge.bridge-nf-call-iptables',
      'modprobe br_netfilter',
      'sysctl -w net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1',
    ],
  }),
  RP_FILTER_DROP: (f) => {
    const iface = f.message.match(/arriving on (\S+):/)?.[1] ?? 'IFACE';
    return {
      summary: `Set rp_filter to 2 (loose) for ${iface} and all ${onNode(nodeOf(f))}, or fix the route that makes the reply leave by another interface.`,
      commands: [
        `sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.${iface}.rp_filter`,
        `sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.${iface}.rp_filter=2`,
      ],
    };
  },
  HAIRPIN_DISABLED: (f) => {
    const m = f.message.match(/bridge port (\S+) on (\S+) has hairpin off/);
    const veth = m?.[1] ?? 'VETH';
    return {
      summary: `Turn hairpin on for ${veth} ${onNode(nodeOf(f))} now, and set "hairpinMode": true in the bridge conflist so new pods get it.`,
      commands: [
        `cat /sys/class/net/${veth}/brport/hairpin_mode`,
        `ip link set ${veth} type bridge_slave hairpin on`,
      ],
    };
  },
  PROXY_ARP_DISABLED: (f) => {
    const veth = f.message.match(/through (\S+), which has proxy_arp off/)?.[1] ?? 'VETH';
    return {
      summary: `Set net.ipv4.conf.${veth}.proxy_arp=1 ${onNode(nodeOf(f))} (or recreate the pod: the CNI sets it).`,
      commands: [`sysctl net.ipv4.conf.${veth}.proxy_arp`, `sysctl -w net.ipv4.conf.${veth}.proxy_arp=1`],
    };
  },
  IFACE_DOWN: (f) => {
    const dev = f.message.match(/^The \S+ (\S+) on node/)?.[1] ?? 'DEV';
    return {
      summary: `Bring ${dev} up ${onNode(nodeOf(f))}, then find out why it went down (dmesg, the CNI agent's log).`,
      commands: [`ip link show ${dev}`, `ip link set ${dev} up`],
    };
  },
  CONNTRACK_TABLE_FULL: (f) => ({
    summary: `Raise net.netfilter.nf_conntrack_max ${onNode(nodeOf(f))} (kube-proxy --conntrack-max-per-core), or find what leaks connections.`,
    commands: [
      'sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max',
      'sysctl -w net.netfilter.nf_conntrack_max=$(( $(sysctl -n net.netfilter.nf_conntrack_max) * 2 ))',
    ],
  }),
  PROXY_RULES_MISSING: (f) => ({
    summary: `Restart kube-proxy ${onNode(nodeOf(f))} so that it programs the Service, after reading why it did not (its log).`,
    commands: kubeProxy(nodeOf(f) ?? 'NODE'),
  }),
  PROXY_ENDPOINT_STALE: (f) => ({
    summary: `Restart kube-proxy ${onNode(nodeOf(f))}: its rules lag behind the EndpointSlices.`,
    commands: kubeProxy(nodeOf(f) ?? 'NODE'),
  }),
  PROXY_DNAT_MISSING: (f) => ({
    summary: `Restart kube-proxy ${onNode(nodeOf(f))} so it rewrites its chains, and find what edited them.`,
    commands: ['iptables-save -t nat | grep -c -- "-j DNAT"', ...kubeProxy(nodeOf(f) ?? 'NODE')],
  }),
  HOSTPORT_RULE_MISSING: (f) => {
    const pod = f.objects.find((o) => o.startsWith('pod/'));
    const [, ns, name] = pod ? split(pod) : ['', 'NAMESPACE', 'POD'];
    return {
      summary: `Recreate pod ${ns}/${name} so the portmap plugin writes its hostPort DNAT again ${onNode(nodeOf(f))}.`,
      commands: [
        'iptables-save -t nat | grep -E "CNI-HOSTPORT|CNI-DN-"',
        `kubectl delete pod ${name} -n ${ns}`,
      ],
    };
  },
  OVERLAY_FDB_MISSING: (f) => ({
    summary: `Restart the CNI agent ${onNode(nodeOf(f))} so it writes the VXLAN forwarding entries of its peers again.`,
    commands: ['bridge fdb show dev flannel.1', ...cniAgent(nodeOf(f) ?? 'NODE')],
  }),
  OVERLAY_NEIGH_MISSING: (f) => ({
    summary: `Restart the CNI agent ${onNode(nodeOf(f))} so it writes the VXLAN neighbour entries of its peers again.`,
    commands: ['ip neigh show dev flannel.1', ...cniAgent(nodeOf(f) ?? 'NODE')],
  }),
  ROUTE_MISSING: (f) => ({
    summary: `Restore the route ${onNode(nodeOf(f))} (the CNI agent writes it): restart the agent there.`,
    commands: ['ip route', ...cniAgent(nodeOf(f) ?? 'NODE')],
  }),
  ROUTE_WRONG_NEXT_HOP: (f) => ({
    summary: `Point the route ${onNode(nodeOf(f))} at the node that owns the destination pod CIDR (restart the CNI agent there).`,
    commands: ['ip route', 'kubectl get nodes -o custom-columns=NAME:.metadata.name,CIDR:.spec.podCIDR'],
  }),
  REPLY_ROUTE_MISSING: (f) => {
    const pod = f.objects.find((o) => o.startsWith('pod/'));
    if (pod) {
      const [, ns, name] = split(pod);
      return {
        summary: `Recreate pod ${ns}/${name}: it has no route for its replies.`,
        commands: [`kubectl exec -n ${ns} ${name} -- ip route`, `kubectl delete pod ${name} -n ${ns}`],
      };
    }
    return {
      summary: `Restore the route back to the source ${onNode(nodeOf(f))}.`,
      commands: ['ip route'],
    };
  },
  NODE_PORT_NOT_LISTENING: (f) => {
    const port = f.message.match(/port (\d+)/)?.[1] ?? 'PORT';
    return {
      summary: `Start the host-network process that should listen on ${port} ${onNode(nodeOf(f))}, or fix the port it binds.`,
      commands: [`ss -lntu | grep ':${port} '`],
    };
  },
  FILTER_DROP: (f) => {
    const rule = (f.evidence ?? []).find((e) => e.startsWith('-A '));
    const table = f.message.match(/\b(filter|nat|mangle|raw)\b/)?.[1] ?? 'filter';
    return {
      summary: `Remove (or narrow) the firewall rule that drops this packet ${onNode(nodeOf(f))}, after finding out who wrote it.`,
      commands: rule
        ? [
            `iptables-save -t ${table} | grep -n -F -- ${sq(rule)}`,
            `iptables -t ${table} -D ${rule.slice(3)}`,
          ]
        : ['iptables-save'],
    };
  },
  NAT_ASYMMETRIC: (f) => ({
    summary: `Remove the DNAT rule ${onNode(nodeOf(f))} (see the evidence), or masquerade the rewritten traffic so its answer comes back through that node.`,
    commands: ['iptables-save -t nat'],
  }),
  CNI_POLICY_DROP: () => ({
    summary: 'Find the Calico or Kubernetes policy that should allow this traffic and add the rule to it.',
    commands: ['kubectl get networkpolicy,globalnetworkpolicy -A'],
  }),
};

const ref = (f: Finding, kind: string) => f.objects.find((o) => o.startsWith(`${kind}/`));
const coreDnsLogs = 'kubectl -n kube-system logs -l k8s-app=kube-dns --tail=100 --prefix';

/**
 * The errors whose fix knet cannot compute: one sentence that names the object and the change,
 * and the commands that show why (the catalog's hint says the same in general words).
 */
const ADVICE: Record<string, FixRule> = {
  POD_NOT_RUNNING: (f) => {
    const pod = ref(f, 'pod');
    if (!pod) return undefined;
    const [, ns, name] = split(pod);
    return {
      summary: `Fix what keeps ${pod} from running (its events and its containers' logs say what: image, crash, scheduling, volumes).`,
      commands: [
        `kubectl describe pod ${name} -n ${ns}`,
        `kubectl logs ${name} -n ${ns} --all-containers --tail=50`,
      ],
    };
  },
  POD_NO_IP: (f) => {
    const pod = ref(f, 'pod');
    if (!pod) return undefined;
    const [, ns, name] = split(pod);
    return {
      summary: `Find out why the CNI gave ${pod} no address (the pod's events; the CNI agent ${onNode(nodeOf(f))}).`,
      commands: [`kubectl describe pod ${name} -n ${ns}`, ...cniAgent(nodeOf(f) ?? 'NODE')],
    };
  },
  POD_IP_DUPLICATE: (f) => {
    const pod = ref(f, 'pod');
    if (!pod) return undefined;
    const [, ns, name] = split(pod);
    return {
      summary: `Delete ${pod} so that it gets a fresh address, then check the CNI's IPAM state: two live pods must never share an IP.`,
      commands: [`kubectl delete pod ${name} -n ${ns}`],
    };
  },
  NODE_NOT_READY: (f) => {
    const node = nodeOf(f);
    if (!node) return undefined;
    return {
      summary: `Bring node ${node} back to Ready: its conditions and the kubelet's log say what fails (often the kubelet, the runtime or the CNI).`,
      commands: [`kubectl describe node ${node}`, 'journalctl -u kubelet --since -15min   # on the node'],
    };
  },
  NODE_POD_CIDR_OVERLAP: (f) => ({
    summary: `Give ${f.objects.join(' and ')} disjoint pod CIDRs: spec.podCIDR cannot be changed, so re-register one node (delete the Node object, restart its kubelet) after fixing the IPAM pool.`,
    commands: ['kubectl get nodes -o custom-columns=NAME:.metadata.name,CIDRS:.spec.podCIDRs'],
  }),
  SVC_NO_READY_ENDPOINTS: (f) => {
    const svc = ref(f, 'svc');
    if (!svc) return undefined;
    const [, ns] = split(svc);
    return {
      summary: `Make the pods of ${svc} pass their readiness probe: kubectl describe pod shows why they fail it.`,
      commands: [`kubectl get pods -n ${ns} -o wide`],
    };
  },
  SVC_ENDPOINTS_MISSING: (f) => {
    const svc = ref(f, 'svc');
    if (!svc) return undefined;
    const [, ns, name] = split(svc);
    return {
      summary: `Find out why the EndpointSlice controller (kube-controller-manager) did not write the ready pods of ${svc} into its EndpointSlices.`,
      commands: [
        `kubectl get endpointslices -n ${ns} -l kubernetes.io/service-name=${name} -o wide`,
        'kubectl -n kube-system logs -l component=kube-controller-manager --tail=100',
      ],
    };
  },
  PROXY_REJECT: (f) => {
    const svc = ref(f, 'svc');
    if (!svc) return undefined;
    const [, ns, name] = split(svc);
    return {
      summary: `Give ${svc} a ready endpoint: kube-proxy rejects its traffic for lack of one (knet endpoints ${svc} says why it has none).`,
      commands: [`kubectl get endpointslices -n ${ns} -l kubernetes.io/service-name=${name}`],
    };
  },
  DNS_ANSWER_MISMATCH: () => ({
    summary:
      "Restart the CoreDNS replica that answers differently from the cluster's objects, after reading its log (a stale cache or a lost API watch).",
    commands: [coreDnsLogs],
  }),
  DNS_NO_RESPONSE: () => ({
    summary:
      'Make the cluster DNS answer: check that the CoreDNS pods run and are the ready endpoints of the kube-dns Service.',
    commands: [
      'kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide',
      'kubectl -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns',
    ],
  }),
  DNS_SERVER_ERROR: () => ({
    summary:
      'Read the CoreDNS log for the failing query and check the upstream servers its forward plugin uses.',
    commands: [coreDnsLogs, 'kubectl -n kube-system get configmap coredns -o yaml'],
  }),
  DNS_REPLICAS_DISAGREE: () => ({
    summary:
      'Restart the CoreDNS replica that answers unlike the others, after reading its log (its connection to the API server).',
    commands: [coreDnsLogs],
  }),
  GATEWAY_REFS_UNRESOLVED: (f) => {
    const route = ref(f, 'httproute');
    if (!route) return undefined;
    const [, ns, name] = split(route);
    return {
      summary: `Fix the reference of ${route} that the controller names in its ResolvedRefs condition.`,
      commands: [`kubectl describe httproute ${name} -n ${ns}`],
    };
  },
  CNI_CONFIG_MISSING: (f) => ({
    summary: `Restart the CNI agent ${onNode(nodeOf(f))} so that it writes its network config into /etc/cni/net.d.`,
    commands: ['ls -l /etc/cni/net.d', ...cniAgent(nodeOf(f) ?? 'NODE')],
  }),
  CNI_CONFIG_INVALID: (f) => ({
    summary: `Fix or remove the CNI config file named in the evidence ${onNode(nodeOf(f))}, or let the CNI agent rewrite it.`,
    commands: ['ls -l /etc/cni/net.d', ...cniAgent(nodeOf(f) ?? 'NODE')],
  }),
  CNI_CONFIG_CIDR_MISMATCH: (f) => ({
    summary: `Make the CNI IPAM range ${onNode(nodeOf(f))} match its spec.podCIDR (or use "subnet": "usePodCidr"): other nodes route the podCIDR to it.`,
    commands: [
      'cat /etc/cni/net.d/*',
      `kubectl get node ${nodeOf(f) ?? 'NODE'} -o jsonpath='{.spec.podCIDRs}'`,
    ],
  }),
};

const OBJECT_FIXES: Record<string, FixRule> = {
  SVC_LABEL_MISMATCH: labelMismatch,
  SVC_NO_SELECTOR_MATCH: noSelectorMatch,
  SVC_TARGET_PORT_MISMATCH: targetPortMismatch,
  INGRESS_BACKEND_PORT_NOT_FOUND: backendPort,
  GATEWAY_REF_NOT_PERMITTED: refNotPermitted,
  POLICY_DENIED_INGRESS: policyDenied,
  POLICY_DENIED_EGRESS: policyDenied,
};

/** The fix of a (root) finding: a specific one where knet knows the values, else the catalog's advice. */
export function fixFor(f: Finding, model?: ClusterModel): Fix {
  const rule = OBJECT_FIXES[f.code] ?? NODE_FIXES[f.code] ?? ADVICE[f.code];
  const specific = rule?.(f, model);
  if (specific) return specific;
  const general = CATALOG[f.code as keyof typeof CATALOG]?.hint ?? '';
  // A hint the analysis wrote for this finding names the values: all of it is the fix.
  if (f.hint && f.hint !== general) return { summary: f.hint };
  return { summary: firstSentence(general) };
}

/** Codes with a fix of their own (docs/findings.md says which). */
export const SPECIFIC_FIXES = [
  ...Object.keys(OBJECT_FIXES),
  ...Object.keys(NODE_FIXES),
  ...Object.keys(ADVICE),
];
