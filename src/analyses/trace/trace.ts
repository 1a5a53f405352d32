// knet trace: every path a packet from SOURCE to DESTINATION can take, hop by hop, with the
// first broken hop and its evidence. Composes the model, the endpoints analysis, the
// kube-proxy evaluator, the node's routes/links and the NetworkPolicy engine.
import { walkSearch } from '../../core/dns.js';
import { UserError } from '../../core/errors.js';
import { ipFamily, normalizeIP } from '../../core/ip.js';
import type { Target } from '../../core/target-grammar.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { nodeState } from '../../model/node-state.js';
import type { Pod, Protocol, Service, ServicePort } from '../../model/types.js';
import { CILIUM_FILES, detectNodeDataplane, type NodeDataplane } from '../dataplane/detect.js';
import { newPacket } from '../dataplane/netfilter.js';
import { nodeNetns, podNetns } from '../dataplane/netns.js';
import { nodeOwningPodIP, nodeWithAddress } from '../dataplane/owners.js';
import type { Entry, NodeBranch } from '../dataplane/walk.js';
import { queryPlan } from '../dns/check.js';
import { outcomeOfExpected } from '../dns/compare.js';
import { clusterDomainOf, expectedAnswer } from '../dns/expected.js';
import { indexSlices, readyEndpoints } from '../endpoints/backends.js';
import { diagnoseService } from '../endpoints/diagnose.js';
import { nearMissesNotSearched } from '../endpoints/near-miss.js';
import { resolveTargetPort } from '../endpoints/target-port.js';
import { egressPlan } from '../node-health/egress.js';
import { ruleLabel } from '../policy/describe.js';
import { evaluatePolicy, type PolicyEndpoint } from '../policy/evaluate.js';
import type { Packet, PacketFlow } from '../proxy/packet.js';
import { lowerProtocol } from '../proxy/packet.js';
import { classifyFlowDecision, loadNodeProxy, simulatePacket } from '../proxy/simulate.js';
import { type ObjectTargetKind, targetNotFound } from '../targets.js';
import { TraceContext } from './context.js';
import { explainTrace } from './explain.js';
import { type Arrival, arrivePodHops, leavePodHops, podHostInterface, routeHops } from './hops.js';
import {
  arrivalInterface,
  blockedHop,
  crossNetns,
  replyHops,
  replyRouteHop,
  socketCheck,
} from './netns-hops.js';
import { traceThroughRoute } from './through-route.js';
import type { Hop, TracePath, TraceQuery, TraceRef, TraceResult, TraceTarget } from './types.js';
import { overallVerdict, pathVerdict, TraceTargetNotFound } from './verdict.js';

export { TraceTargetNotFound } from './verdict.js';

/** Where the packet starts. */
interface Source {
  ref: TraceRef;
  ip: string;
  node?: string;
  /** A pod with its own network namespace (not hostNetwork). */
  pod?: Pod;
  from: Packet['from'];
}

/** Where the packet is sent (before kube-proxy). */
type Destination =
  | { type: 'service'; ref: TraceRef; service: Service; port: ServicePort; ip: string; dport: number }
  | { type: 'pod'; ref: TraceRef; pod: Pod; ip: string; dport?: number }
  | { type: 'node'; ref: TraceRef; node: string; ip: string; dport?: number }
  | { type: 'external'; ref: TraceRef; ip: string; dport?: number };

/** No Service port for the asked protocol: nothing to trace. */
interface Unserved {
  type: 'unserved';
  ref: TraceRef;
  finding: Finding;
}

/** One candidate after kube-proxy: a backend address and port, with its share. */
interface Candidate {
  ip: string;
  port?: number;
  probability: number | null;
  masquerade: boolean;
  hops: Hop[];
  /** This share never gets a backend: its hops end broken (or unknown) before routing. */
  lost?: boolean;
}

const podRefText = (p: Pod) => `pod/${p.namespace}/${p.name}`;

function pickIP(ips: readonly string[], family: 4 | 6 | undefined): string | undefined {
  return (family ? ips.find((ip) => ipFamily(ip) === family) : undefined) ?? ips[0];
}

function notFound(ctx: TraceContext, t: TraceTarget): never {
  throw new TraceTargetNotFound(targetNotFound(ctx.model, t as Target<ObjectTargetKind>, 'end'));
}

function resolveSource(ctx: TraceContext, t: TraceTarget, viaNode: string | undefined): Source {
  const model = ctx.model;
  if (t.kind === 'pod') {
    const pod = model.pod(t.namespace!, t.name) ?? notFound(ctx, t);
    if (!pod.nodeName || pod.ips.length === 0) {
      throw new TraceTargetNotFound(
        finding(pod.nodeName ? 'POD_NO_IP' : 'POD_NOT_RUNNING', {
          message: `Pod ${pod.namespace}/${pod.name} ${pod.nodeName ? 'has no IP' : 'is not scheduled to a node'}: it cannot send packets.`,
          objects: [podRefText(pod)],
        }),
      );
    }
    const ref: TraceRef = {
      kind: 'Pod',
      namespace: pod.namespace,
      name: pod.name,
      ip: pod.ips[0],
      node: pod.nodeName,
    };
    return pod.hostNetwork
      ? { ref, ip: pod.ips[0], node: pod.nodeName, from: 'local' }
      : { ref, ip: pod.ips[0], node: pod.nodeName, pod, from: 'pod' };
  }
  if (t.kind === 'node') {
    const node = model.node(t.name) ?? notFound(ctx, t);
    const ip = node.internalIPs[0];
    if (!ip) throw new UserError(`node ${node.name} has no InternalIP to send from`);
    return {
      ref: { kind: 'Node', name: node.name, ip, node: node.name },
      ip,
      node: node.name,
      from: 'local',
    };
  }
  if (t.kind === 'ip') {
    const owners = model.podsByIP(t.name);
    if (owners.length === 1)
      return resolveSource(
        ctx,
        { kind: 'pod', namespace: owners[0].namespace, name: owners[0].name },
        viaNode,
      );
    const node = nodeWithAddress(model, t.name);
    if (node) return { ref: { kind: 'Node', name: node, ip: t.name, node }, ip: t.name, node, from: 'local' };
    if (!viaNode)
      throw new UserError(`${t.name} is outside the cluster: say where it enters with --via-node NODE`);
    if (!model.node(viaNode)) notFound(ctx, { kind: 'node', name: viaNode });
    return { ref: { kind: 'IP', ip: t.name, node: null }, ip: t.name, node: viaNode, from: 'external' };
  }
  throw new UserError(`a trace source must be pod/…, node/… or ip/…, not ${t.kind}/…`);
}

/**
 * The Service port a packet goes to: asked by name or number, and with `--protocol` of that
 * protocol. A port the Service lacks for the asked protocol is an answer (no rule takes such a
 * packet: SVC_PORT_NOT_FOUND), not a question the user must rephrase.
 */
function servicePortFor(
  service: Service,
  wanted: number | string | undefined,
  protocol?: Protocol,
): ServicePort | Finding {
  if (service.ports.length === 0)
    throw new UserError(`service ${service.namespace}/${service.name} has no ports`);
  const list = service.ports.map((p) => `${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}`).join(', ');
  const candidates = protocol ? service.ports.filter((p) => p.protocol === protocol) : service.ports;
  const matching =
    wanted === undefined ? candidates : candidates.filter((p) => p.name === wanted || p.port === wanted);
  // The port exists, but not for the asked protocol (or no port of that protocol at all).
  const otherProtocol =
    wanted === undefined || service.ports.some((p) => p.name === wanted || p.port === wanted);
  if (matching.length === 0 && protocol && otherProtocol)
    return finding('SVC_PORT_NOT_FOUND', {
      message: `Service ${service.namespace}/${service.name} has no ${protocol} port${wanted === undefined ? '' : ` ${wanted}`} (ports: ${list}): a ${protocol} packet to it matches no Service rule.`,
      objects: [`svc/${service.namespace}/${service.name}`],
    });
  if (matching.length === 0)
    throw new UserError(
      `service ${service.namespace}/${service.name} has no port ${wanted} (ports: ${list})`,
    );
  if (wanted === undefined && matching.length > 1)
    throw new UserError(
      `service ${service.namespace}/${service.name} has several ports (${list}): name one with svc/${service.namespace}/${service.name}:PORT or --port`,
    );
  return matching[0];
}

/** A Service port that does not exist for the asked protocol: the trace's whole answer. */
function unserved(
  service: Service,
  ip: string | null,
  wanted: number | string | undefined,
  q: TraceQuery,
  f: Finding,
): Unserved {
  return {
    type: 'unserved',
    ref: {
      kind: 'Service',
      namespace: service.namespace,
      name: service.name,
      ip,
      port: typeof wanted === 'number' ? wanted : null,
      protocol: q.protocol,
    },
    finding: f,
  };
}

function resolveDestination(
  ctx: TraceContext,
  t: TraceTarget,
  q: TraceQuery,
  source: Source,
): Destination | Unserved {
  const model = ctx.model;
  const family = ipFamily(source.ip);
  const wantedPort = t.port ?? q.port;
  if (t.kind === 'svc') {
    const service = model.service(t.namespace!, t.name) ?? notFound(ctx, t);
    const port = servicePortFor(service, wantedPort, q.protocol);
    if (!('port' in port))
      return unserved(service, pickIP(service.clusterIPs, family) ?? null, wantedPort, q, port);
    const ref: TraceRef = {
      kind: 'Service',
      namespace: service.namespace,
      name: service.name,
      ip: null,
      port: port.port,
      protocol: port.protocol,
    };
    // From outside, the service is reached on its LB IP, an external IP, or a NodePort.
    if (source.from === 'external') {
      const lb = pickIP([...service.loadBalancerIPs, ...service.externalIPs], family);
      if (lb) return { type: 'service', ref: { ...ref, ip: lb }, service, port, ip: lb, dport: port.port };
      const nodeIP = pickIP(model.node(source.node!)?.internalIPs ?? [], family);
      if (port.nodePort && nodeIP)
        return {
          type: 'service',
          ref: { ...ref, ip: nodeIP, port: port.nodePort },
          service,
          port,
          ip: nodeIP,
          dport: port.nodePort,
        };
      throw new UserError(
        `service ${service.namespace}/${service.name} is not reachable from outside: no LoadBalancer IP, external IP or NodePort`,
      );
    }
    const ip = pickIP(service.clusterIPs, family);
    if (!ip) {
      // Headless and ExternalName services have no VIP; the trace goes to the pods / the name.
      return { type: 'service', ref, service, port, ip: '', dport: port.port };
    }
    return { type: 'service', ref: { ...ref, ip }, service, port, ip, dport: port.port };
  }
  if (t.kind === 'pod') {
    const pod = model.pod(t.namespace!, t.name) ?? notFound(ctx, t);
    const ip = pickIP(pod.ips, family);
    if (!ip)
      throw new TraceTargetNotFound(
        finding('POD_NO_IP', {
          message: `Pod ${pod.namespace}/${pod.name} has no IP address.`,
          objects: [podRefText(pod)],
        }),
      );
    const dport = podPort(pod, wantedPort, q.protocol);
    return {
      type: 'pod',
      ref: {
        kind: 'Pod',
        namespace: pod.namespace,
        name: pod.name,
        ip,
        port: dport ?? null,
        node: pod.nodeName ?? null,
      },
      pod,
      ip,
      dport,
    };
  }
  if (t.kind === 'node') {
    const node = model.node(t.name) ?? notFound(ctx, t);
    const ip = pickIP(node.internalIPs, family);
    if (!ip) throw new UserError(`node ${node.name} has no InternalIP`);
    const dport = typeof wantedPort === 'number' ? wantedPort : undefined;
    return {
      type: 'node',
      ref: { kind: 'Node', name: node.name, ip, port: dport ?? null, node: node.name },
      node: node.name,
      ip,
      dport,
    };
  }
  if (t.kind === 'ip') {
    const ip = t.name;
    const dport = typeof wantedPort === 'number' ? wantedPort : undefined;
    const k = normalizeIP(ip);
    const svc = model.services.find((s) =>
      [...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIPs].some((a) => normalizeIP(a) === k),
    );
    if (svc) {
      const port = servicePortFor(svc, wantedPort, q.protocol);
      if (!('port' in port)) return unserved(svc, ip, wantedPort, q, port);
      return {
        type: 'service',
        ref: {
          kind: 'Service',
          namespace: svc.namespace,
          name: svc.name,
          ip,
          port: port.port,
          protocol: port.protocol,
        },
        service: svc,
        port,
        ip,
        dport: port.port,
      };
    }
    const owners = model.podsByIP(ip);
    if (owners.length === 1)
      return resolveDestination(
        ctx,
        { kind: 'pod', namespace: owners[0].namespace, name: owners[0].name, port: dport },
        q,
        source,
      );
    const node = nodeWithAddress(model, ip);
    if (node)
      return {
        type: 'node',
        ref: { kind: 'Node', name: node, ip, port: dport ?? null, node },
        node,
        ip,
        dport,
      };
    return { type: 'external', ref: { kind: 'IP', ip, port: dport ?? null }, ip, dport };
  }
  throw new UserError(`a trace destination must be pod/…, svc/…, node/…, ip/… or dns/…, not ${t.kind}/…`);
}

/** A pod destination's port: asked (number or container port name), else its only port. */
function podPort(
  pod: Pod,
  wanted: number | string | undefined,
  protocol: Protocol | undefined,
): number | undefined {
  if (typeof wanted === 'number') return wanted;
  const ports = pod.containers.flatMap((c) => c.ports).filter((p) => !protocol || p.protocol === protocol);
  if (typeof wanted === 'string') {
    const named = ports.find((p) => p.name === wanted);
    if (!named) throw new UserError(`pod ${pod.namespace}/${pod.name} has no container port named ${wanted}`);
    return named.containerPort;
  }
  if (ports.length === 1) return ports[0].containerPort;
  if (ports.length === 0) return undefined;
  throw new UserError(
    `pod ${pod.namespace}/${pod.name} has several ports (${ports.map((p) => p.name ?? p.containerPort).join(', ')}): pick one with --port`,
  );
}

/** kube-proxy on the node where the packet enters: DNAT candidates, or a reject/drop. */
function proxyStage(
  ctx: TraceContext,
  source: Source,
  dest: Destination,
  protocol: Protocol,
  inIface: string | undefined,
): { candidates: Candidate[]; terminal?: Hop; flow?: PacketFlow } {
  const node = source.node!;
  const packet: Packet = {
    source: source.ip,
    destination: dest.ip,
    port: dest.dport ?? 0,
    protocol,
    from: source.from,
    inInterface: inIface,
  };
  // Another dataplane than kube-proxy may translate Services on this node (eBPF).
  const plane = detectNodeDataplane(ctx.model, node);
  if (
    dest.type === 'service' &&
    dest.ip &&
    (plane.services === 'cilium-ebpf' || plane.services === 'calico-ebpf')
  )
    return ebpfServiceStage(ctx, source, dest, plane);
  const rules = loadNodeProxy(ctx.model, node);
  if (!rules) return { candidates: inferredCandidates(ctx, source, dest) };
  const flow = simulatePacket(rules, packet);
  const evidence = flow.evidence.join('\n');
  if (flow.outcome === 'reject' || flow.outcome === 'drop') {
    const code = classifyFlowDecision(flow) ?? 'FILTER_DROP';
    const rule = flow.decidingRule ?? flow.evidence.at(-1) ?? '';
    const f = ctx.add(
      finding(code, {
        message:
          code === 'PROXY_REJECT'
            ? `kube-proxy on node ${node} ${flow.outcome === 'reject' ? 'rejects' : 'drops'} traffic to ${flow.service ?? dest.ip}: the service has no usable endpoints for this packet.`
            : `A firewall rule on node ${node} ${flow.outcome === 'reject' ? 'rejects' : 'drops'} the packet ${source.ip} → ${dest.ip}:${dest.dport ?? ''}.`,
        objects: [
          `node/${node}`,
          ...(dest.type === 'service' ? [`svc/${dest.service.namespace}/${dest.service.name}`] : []),
        ],
        evidence: [rule],
      }),
    );
    return {
      candidates: [],
      terminal: { kind: flow.outcome, node, detail: rule, status: 'broken', evidence, findings: [f] },
      flow,
    };
  }
  // The whole node, not only kube-proxy's rules: every other table on every hook.
  const entry: Entry =
    source.from === 'local'
      ? { kind: 'originate' }
      : { kind: 'arrive', iif: inIface, from: source.from === 'pod' ? 'pod' : 'external' };
  const ns = nodeNetns(ctx.model, node);
  const pkt = newPacket({
    src: source.ip,
    dst: dest.ip,
    dport: dest.dport ?? 0,
    proto: lowerProtocol(protocol),
  });
  const crossing = crossNetns(ctx, ns, pkt, entry, true);
  if (crossing.stopped && crossing.hop) return { candidates: [], terminal: crossing.hop, flow };
  if (flow.outcome === 'dnat') {
    // A share that leaves kube-proxy's chains un-NATed goes to the virtual IP, which nothing
    // answers (nftables mode rejects it at once: still a share lost for want of its DNAT).
    const unNated = [
      ...crossing.passed.filter((b) => !b.pkt.dnat && b.fate.kind !== 'local'),
      ...crossing.blocked.filter((b) => !b.pkt.dnat),
    ];
    const share = unNated.reduce((n, b) => n + b.pkt.weight, 0);
    const lost: Candidate[] = [];
    // A share stopped after its DNAT (a rule on this node for one backend): its own broken path.
    for (const b of crossing.blocked.filter((x) => x.pkt.dnat)) {
      lost.push({
        ip: b.pkt.dnat!.ip,
        port: b.pkt.dnat!.port,
        probability: round(b.pkt.weight),
        masquerade: b.pkt.masquerade,
        lost: true,
        hops: [blockedHop(ctx, ns, b, pkt)],
      });
    }
    if (share > 1e-9 && dest.type === 'service' && isClusterVIP(dest.service, dest.ip)) {
      const f = ctx.add(
        finding('PROXY_DNAT_MISSING', {
          message: `On node ${node}, ${Math.round(share * 100)}% of new connections to ${dest.ip}:${dest.dport} (service ${dest.service.namespace}/${dest.service.name}) leave kube-proxy's chains without a DNAT: they go to the virtual IP itself and are lost.`,
          objects: [`svc/${dest.service.namespace}/${dest.service.name}`, `node/${node}`],
          evidence: [...new Set(unNated.flatMap((b) => b.pkt.evidence.map((r) => r.text)))],
        }),
      );
      lost.push({
        ip: dest.ip,
        port: dest.dport,
        probability: round(share),
        masquerade: false,
        lost: true,
        hops: [
          {
            kind: 'dnat',
            node,
            detail: `no DNAT for ${round(share)} of the traffic: it stays addressed to ${dest.ip}:${dest.dport}`,
            status: 'broken',
            evidence: [...new Set(unNated.flatMap((b) => b.pkt.evidence.map((r) => r.text)))].join('\n'),
            findings: [f],
          },
        ],
      });
    }
    return {
      flow,
      candidates: flow.endpoints
        .map(
          (e): Candidate => ({
            ip: e.ip,
            port: e.port,
            probability: e.probability,
            masquerade: Boolean(e.masquerade ?? flow.masquerade),
            hops: [
              {
                kind: 'dnat',
                node,
                detail: `${dest.ip}:${dest.dport} -> ${e.ip}:${e.port}${flow.endpoints.length > 1 ? ` (p=${round(e.probability)})` : ''}`,
                status: 'ok',
                evidence,
              },
            ],
          }),
        )
        .concat(lost),
    };
  }
  // No kube-proxy rule took the packet.
  if (dest.type === 'service' && dest.ip && isClusterVIP(dest.service, dest.ip)) {
    const f = ctx.add(
      finding('PROXY_RULES_MISSING', {
        message: `kube-proxy's rules on node ${node} do not translate ${dest.ip}:${dest.dport} (service ${dest.service.namespace}/${dest.service.name}): packets to the virtual IP go nowhere.`,
        objects: [`svc/${dest.service.namespace}/${dest.service.name}`, `node/${node}`],
        evidence: flow.evidence.length
          ? flow.evidence
          : [`no rule for ${dest.ip}:${dest.dport} in ${rules.mode} rules of node ${node}`],
      }),
    );
    return {
      flow,
      candidates: [],
      terminal: {
        kind: 'dnat',
        node,
        detail: `no DNAT for ${dest.ip}:${dest.dport}`,
        status: 'broken',
        evidence,
        findings: [f],
      },
    };
  }
  const filter: Hop = {
    kind: 'filter',
    node,
    detail: `no kube-proxy or firewall rule stops ${source.ip} → ${dest.ip}${dest.dport ? `:${dest.dport}` : ''}`,
    status: 'ok',
  };
  if (evidence) filter.evidence = evidence;
  return {
    flow,
    candidates: [
      { ip: dest.ip, port: dest.dport, probability: null, masquerade: flow.masquerade, hops: [filter] },
    ],
  };
}

function isClusterVIP(service: Service, ip: string): boolean {
  const k = normalizeIP(ip);
  return (
    [...service.clusterIPs, ...service.externalIPs, ...service.loadBalancerIPs].some(
      (a) => normalizeIP(a) === k,
    ) ||
    service.type === 'NodePort' ||
    service.type === 'LoadBalancer'
  );
}

/** What the backend sees as the client's address (externalTrafficPolicy). */
function clientIPNote(service: Service): string {
  const ref = `svc/${service.namespace}/${service.name}`;
  return service.externalTrafficPolicy === 'Local'
    ? `Client IP preserved: ${ref} has externalTrafficPolicy Local, so only nodes with a ready endpoint take the traffic and the backend sees the client's address.`
    : `Client IP not preserved: ${ref} has externalTrafficPolicy Cluster, so the entry node masquerades the packet and the backend sees the node's address (set Local to keep it).`;
}

const round = (p: number) => Math.round(p * 1000) / 1000;

/** Without the node's kube-proxy rules: the ready endpoints of the EndpointSlices, equal shares. */
function inferredCandidates(ctx: TraceContext, source: Source, dest: Destination): Candidate[] {
  const node = source.node!;
  const noData = ctx.add(
    finding('NO_NODE_DATA', {
      message: `kube-proxy's rules on node ${node} are not in the bundle: the service translation was inferred from the EndpointSlices.`,
      objects: [`node/${node}`],
      evidence: ['iptables-save.txt', 'ipvsadm.txt', 'nft.json'].map((f) =>
        ctx.model.nodeFiles.describe(node, f),
      ),
    }),
  );
  if (dest.type !== 'service') {
    return [
      {
        ip: dest.ip,
        port: dest.dport,
        probability: null,
        masquerade: false,
        hops: [
          {
            kind: 'filter',
            node,
            detail: 'firewall rules unknown',
            status: 'unknown',
            inferred: true,
            findings: [noData],
          },
        ],
      },
    ];
  }
  const ready = readyEndpoints(ctx.model, dest.service, dest.port, ipFamily(dest.ip || source.ip));
  if (ready.length === 0 && !indexSlices(ctx.model, dest.service).known) {
    // No rules and no EndpointSlices: which backends the packet would get is unknown.
    ctx.note(
      'The source holds no EndpointSlices or Endpoints: the backends are unknown (capture endpointslices with the other objects).',
    );
    return [
      {
        ip: dest.ip,
        port: dest.dport,
        probability: null,
        masquerade: false,
        lost: true,
        hops: [
          {
            kind: 'dnat',
            node,
            detail: `${dest.ip}:${dest.dport} -> backends unknown (no kube-proxy rules, no EndpointSlices)`,
            status: 'unknown',
            inferred: true,
            findings: [noData],
          },
        ],
      },
    ];
  }
  return ready.map((e) => ({
    ip: e.ip,
    port: e.port,
    probability: 1 / ready.length,
    masquerade: false,
    hops: [
      {
        kind: 'dnat',
        node,
        detail: `${dest.ip}:${dest.dport} -> ${e.ip}:${e.port} (p=${round(1 / ready.length)})`,
        status: 'unknown',
        inferred: true,
        findings: [noData],
      },
    ],
  }));
}

/**
 * Services translated by an eBPF dataplane (Cilium's kube-proxy replacement, Calico eBPF): the
 * agent's own load-balancing table when the bundle has it, one path per active backend, with
 * drift against the EndpointSlices; without it the translation is unknown and says which
 * command would settle it — never "kube-proxy's rules are missing".
 */
function ebpfServiceStage(
  ctx: TraceContext,
  source: Source,
  dest: Extract<Destination, { type: 'service' }>,
  plane: NodeDataplane,
): { candidates: Candidate[]; terminal?: Hop } {
  const node = source.node!;
  const state = nodeState(ctx.model, node);
  const svcRef = `svc/${dest.service.namespace}/${dest.service.name}`;
  const table = plane.services === 'cilium-ebpf' ? state.ciliumServices : undefined;
  const file = state.describe(CILIUM_FILES.services);
  if (!table) {
    const command =
      plane.services === 'cilium-ebpf'
        ? `kubectl -n kube-system exec ds/cilium -c cilium-agent -- cilium-dbg service list -o json > ${file} (on node ${node}: the agent pod there)`
        : `calico-node -bpf nat dump on node ${node} (knet cannot read Calico's BPF maps yet)`;
    const noData = ctx.add(
      finding('NO_NODE_DATA', {
        message: `Node ${node} translates Services with ${plane.services} (${plane.servicesReason}); its load-balancing table is not in the bundle, so the backends were inferred from the EndpointSlices.`,
        objects: [`node/${node}`, svcRef],
        evidence: [command],
      }),
    );
    const ready = readyEndpoints(ctx.model, dest.service, dest.port, ipFamily(dest.ip));
    const targets = ready.length ? ready : [{ ip: dest.ip, port: dest.dport }];
    return {
      candidates: targets.map((e) => ({
        ip: e.ip,
        port: e.port,
        probability: ready.length ? round(1 / ready.length) : null,
        masquerade: false,
        lost: ready.length === 0,
        hops: [
          {
            kind: 'dnat',
            node,
            detail: `${dest.ip}:${dest.dport} -> ${ready.length ? `${e.ip}:${e.port}` : 'backends unknown'} (${plane.services}, not in the bundle)`,
            status: 'unknown',
            inferred: true,
            findings: [noData],
          },
        ],
      })),
    };
  }
  const proto = dest.port.protocol;
  const entries = table.filter(
    (e) => normalizeIP(e.frontend.ip) === normalizeIP(dest.ip) && e.frontend.port === dest.dport,
  );
  const entry =
    entries.find((e) => e.frontend.protocol === proto) ?? entries.find((e) => e.frontend.protocol === 'ANY');
  if (!entry) {
    const f = ctx.add(
      finding('PROXY_RULES_MISSING', {
        message: `Cilium's service table on node ${node} has no entry for ${dest.ip}:${dest.dport}/${proto} (service ${dest.service.namespace}/${dest.service.name}): packets to the virtual IP go nowhere.`,
        objects: [svcRef, `node/${node}`],
        evidence: [`${file}: no frontend ${dest.ip}:${dest.dport}/${proto}`],
        hint: 'Check the Cilium agent on the node (cilium-dbg status, its logs): it has not programmed this Service.',
      }),
    );
    return {
      candidates: [],
      terminal: {
        kind: 'dnat',
        node,
        detail: `no entry for ${dest.ip}:${dest.dport} in Cilium's table`,
        status: 'broken',
        findings: [f],
      },
    };
  }
  const evidence = `${file}: ${entry.text}`;
  const active = entry.backends.filter((b) => b.state === 'active' || b.state === '');
  if (active.length === 0) {
    const f = ctx.add(
      finding('PROXY_REJECT', {
        message: `Cilium on node ${node} has no active backend for ${dest.ip}:${dest.dport} (service ${dest.service.namespace}/${dest.service.name}): it drops the traffic.`,
        objects: [svcRef, `node/${node}`],
        evidence: [evidence],
      }),
    );
    return {
      candidates: [],
      terminal: { kind: 'drop', node, detail: evidence, status: 'broken', evidence, findings: [f] },
    };
  }
  // Drift: the agent's backends against the ready endpoints of the EndpointSlices.
  const ready = readyEndpoints(ctx.model, dest.service, dest.port, ipFamily(dest.ip));
  const key = (e: { ip: string; port: number }) => `${normalizeIP(e.ip)}:${e.port}`;
  const readyKeys = new Set(ready.map(key));
  const activeKeys = new Set(active.map(key));
  const missing = ready.filter((e) => !activeKeys.has(key(e)));
  if (missing.length)
    ctx.add(
      finding('PROXY_ENDPOINT_MISSING', {
        message: `Cilium on node ${node} does not send ${dest.service.namespace}/${dest.service.name} traffic to the ready endpoint${missing.length > 1 ? 's' : ''} ${missing.map(key).join(', ')}.`,
        objects: [svcRef, `node/${node}`],
        evidence: [evidence],
        hint: 'The agent lags behind the EndpointSlices: check the Cilium agent on the node.',
      }),
    );
  return {
    candidates: active.map((b) => {
      // A backend no pod has is reported further on, where its path is dropped.
      const stale = !readyKeys.has(key(b)) && ctx.model.podsByIP(b.ip).length > 0;
      const codes = stale
        ? [
            ctx.add(
              finding('PROXY_ENDPOINT_STALE', {
                message: `Cilium on node ${node} sends ${dest.service.namespace}/${dest.service.name} traffic to ${key(b)}, which is not a ready endpoint.`,
                objects: [svcRef, `node/${node}`],
                evidence: [evidence],
                hint: 'The agent lags behind the EndpointSlices: check the Cilium agent on the node.',
              }),
            ),
          ]
        : undefined;
      return {
        ip: b.ip,
        port: b.port,
        probability: round(1 / active.length),
        masquerade: false,
        hops: [
          {
            kind: 'dnat',
            node,
            detail: `${dest.ip}:${dest.dport} -> ${b.ip}:${b.port}${active.length > 1 ? ` (p=${round(1 / active.length)})` : ''} (Cilium eBPF)`,
            // A backend no pod has is dropped further on (PROXY_ENDPOINT_STALE, as for kube-proxy).
            status: 'ok',
            evidence,
            ...(codes ? { findings: codes } : {}),
          },
        ],
      };
    }),
  };
}

/** Who translates Services on the node, for messages. */
function translatorName(model: ClusterModel, node: string): string {
  const services = detectNodeDataplane(model, node).services;
  return services === 'cilium-ebpf' ? 'Cilium' : services === 'calico-ebpf' ? 'Calico eBPF' : 'kube-proxy';
}

/** Headless services have no VIP: the client connects to each ready endpoint directly. */
function headlessCandidates(
  ctx: TraceContext,
  dest: Extract<Destination, { type: 'service' }>,
  family: 4 | 6,
): Candidate[] {
  const list: Candidate[] = [];
  for (const pod of ctx.model.podsMatchingLabels(dest.service.namespace, dest.service.selector ?? {})) {
    if (!dest.service.selector || (!pod.ready && !dest.service.publishNotReadyAddresses)) continue;
    const ip = pickIP(pod.ips, family);
    const target = resolveTargetPort(dest.port, pod);
    if (ip && target) list.push({ ip, port: target.port, probability: null, masquerade: false, hops: [] });
  }
  return list.map((c) => ({ ...c, probability: 1 / list.length }));
}

function policyHop(
  ctx: TraceContext,
  source: Source,
  masqueraded: boolean,
  pod: Pod,
  port: number | undefined,
  protocol: Protocol,
): Hop | undefined {
  if (port === undefined) return undefined;
  // A masqueraded packet arrives with the node's address as its source.
  const nodeIP = source.node
    ? ctx.model.node(source.node)?.internalIPs.find((ip) => ipFamily(ip) === ipFamily(source.ip))
    : undefined;
  const from: PolicyEndpoint = source.pod
    ? { kind: 'pod', pod: source.pod }
    : { kind: 'ip', ip: masqueraded && nodeIP ? nodeIP : source.ip };
  const verdict = evaluatePolicy(ctx.model, {
    source: from,
    destination: { kind: 'pod', pod },
    port,
    protocol,
  });
  const codes = verdict.findings.map((f) => ctx.add(f));
  for (const n of verdict.notes) ctx.note(n);
  const half = (d: typeof verdict.egress, name: string) =>
    `${name} ${d.verdict}${d.allowedBy.length ? ` by ${d.allowedBy.map((r) => `${r.policy}#${r.rule}`).join(', ')}` : d.isolated ? ` (isolated by ${d.policies.join(', ')})` : ' (not isolated)'}`;
  const parts = [half(verdict.egress, 'egress'), half(verdict.ingress, 'ingress')];
  const evidence = [
    verdict.egress.reason,
    verdict.ingress.reason,
    ...verdict.egress.evidence,
    ...verdict.ingress.evidence,
  ].join('\n');
  const policy = (['egress', 'ingress'] as const).map((direction) => {
    const d = verdict[direction];
    return {
      direction,
      verdict: d.verdict,
      isolated: d.isolated,
      rules: d.allowedBy.length
        ? d.allowedBy.map((r) => `${ruleLabel(r.policy, direction, r.rule)}: ${r.description}`)
        : d.evidence,
    };
  });
  return {
    kind: 'policy',
    node: pod.nodeName,
    detail: parts.join('; '),
    status: verdict.allowed === true ? 'ok' : verdict.allowed === false ? 'broken' : 'unknown',
    ...(evidence ? { evidence } : {}),
    ...(codes.length ? { findings: codes } : {}),
    policy,
  };
}

/** The service's own findings that matter to this path (errors and warnings). */
function serviceFindings(
  ctx: TraceContext,
  dest: Extract<Destination, { type: 'service' }>,
  node: string | undefined,
): string[] {
  const diag = diagnoseService(ctx.model, dest.service.namespace, dest.service.name, {
    port: dest.port.name || dest.port.port,
    node,
  });
  const codes: string[] = [];
  const unsearched = nearMissesNotSearched(dest.service);
  if (diag.notes.includes(unsearched)) ctx.note(unsearched);
  for (const f of diag.findings) {
    if (f.severity === 'info' && !['SVC_HEADLESS', 'SVC_EXTERNAL_NAME', 'SVC_NO_SELECTOR'].includes(f.code))
      continue;
    codes.push(ctx.add(f));
  }
  return codes;
}

/**
 * dns/NAME: resolved as the source pod's resolver would (its search path, the records the
 * cluster's objects require), then traced to the address it resolves to.
 */
function resolveDnsTarget(ctx: TraceContext, query: TraceQuery): { target: TraceTarget; hop: Hop } {
  const t = query.destination;
  const source =
    query.source.kind === 'pod' ? ctx.model.pod(query.source.namespace!, query.source.name) : undefined;
  const clusterDomain = clusterDomainOf(ctx.model) ?? 'cluster.local';
  const plan = queryPlan(ctx.model, { name: t.name, from: source, clusterDomain });
  const type = source?.ips[0] && ipFamily(source.ips[0]) === 6 ? 'AAAA' : 'A';
  const answers = new Map(
    plan.queries.map((q) => [q, expectedAnswer(ctx.model, { name: q, type }, { clusterDomain })]),
  );
  const walk = walkSearch(plan.queries, (q) => outcomeOfExpected(answers.get(q)!), plan);
  const answer = walk.answeredBy ? answers.get(walk.answeredBy) : undefined;
  const ip = answer?.answers.find((r) => r.type === type)?.data;
  if (!ip) {
    throw new TraceTargetNotFound(
      finding('DNS_NXDOMAIN', {
        message: `${t.name} does not resolve from ${source ? `pod ${source.namespace}/${source.name}` : 'the cluster'} (asked: ${plan.queries.join(', ')}).`,
        objects: [`dns/${t.name}`],
      }),
    );
  }
  const hop: Hop = {
    kind: 'dns',
    detail: `${t.name} → ${walk.answeredBy} ${type} ${ip} (expected from the cluster's objects)`,
    status: 'ok',
    inferred: true,
    evidence: `queries in order: ${plan.queries.join(', ')}`,
  };
  return { target: { kind: 'ip', name: ip, port: t.port }, hop };
}

/** The Trace of a connection: its paths, and its findings with ids, links and fixes. */
export function traceConnection(model: ClusterModel, query: TraceQuery): TraceResult {
  return explainTrace(traceUnexplained(model, query), model);
}

/** The trace before its findings are explained (once, by the outermost trace). */
function traceUnexplained(model: ClusterModel, query: TraceQuery): TraceResult {
  if (query.destination.kind === 'ing' || query.destination.kind === 'httproute')
    return traceThroughRoute(model, query, (q) => traceUnexplained(model, q));
  if (query.destination.kind === 'dns') {
    const dns = resolveDnsTarget(new TraceContext(model), query);
    const result = traceUnexplained(model, { ...query, destination: dns.target });
    for (const p of result.paths) p.hops.unshift({ ...dns.hop, node: result.source.node ?? undefined });
    return result;
  }
  const ctx = new TraceContext(model);
  const source = resolveSource(ctx, query.source, query.viaNode);
  const dest = resolveDestination(ctx, query.destination, query, source);
  if (dest.type === 'unserved')
    return {
      source: source.ref,
      destination: dest.ref,
      verdict: 'unreachable',
      paths: [],
      findings: [dest.finding],
      notes: [],
    };
  const protocol: Protocol = dest.type === 'service' ? dest.port.protocol : (query.protocol ?? 'TCP');
  const family = ipFamily(source.ip);
  const paths: TracePath[] = [];

  // Leaving the source.
  const startHops: Hop[] = [];
  let serviceCodes: string[] = [];
  let bridge: string | undefined;
  let inIface: string | undefined;
  let podMtu: number | undefined;
  if (source.pod) {
    const left = leavePodHops(ctx, source.pod, source.ip, dest.ip || source.ip);
    startHops.push(...left.hops);
    bridge = left.bridge;
    inIface = left.inIface;
    podMtu = left.mtu;
    // The pod's own namespace first: its OUTPUT and POSTROUTING rules.
    const own = crossNetns(
      ctx,
      podNetns(model, source.pod),
      newPacket({
        src: source.ip,
        dst: dest.ip || source.ip,
        dport: dest.dport ?? 0,
        proto: lowerProtocol(protocol),
      }),
      { kind: 'originate' },
      false,
    );
    if (own.hop) startHops.splice(1, 0, own.hop);
    if (own.stopped) {
      paths.push({ to: null, probability: null, verdict: 'unreachable', hops: startHops });
      return finish(ctx, source, dest, paths);
    }
  } else if (source.from === 'external') {
    startHops.push({
      kind: 'external',
      detail: `client ${source.ip} enters through node ${source.node}`,
      status: 'ok',
    });
    startHops.push({
      kind: 'node',
      node: source.node,
      detail: `${source.node} ${dest.ip}${dest.dport ? `:${dest.dport}` : ''}`,
      status: 'ok',
    });
  } else {
    startHops.push({
      kind: 'node',
      node: source.node,
      detail: `${source.ref.name ?? source.node} ${source.ip} (host network)`,
      status: 'ok',
    });
  }

  if (dest.type === 'service') {
    const codes = serviceFindings(ctx, dest, source.from === 'external' ? source.node : undefined);
    if (dest.service.type === 'ExternalName') {
      paths.push({
        to: { kind: 'IP', name: dest.service.externalName, ip: null },
        probability: null,
        verdict: 'unknown',
        hops: [
          ...startHops,
          {
            kind: 'external',
            detail: `CNAME ${dest.service.externalName}: resolved and reached outside the cluster`,
            status: 'unknown',
            findings: codes,
          },
        ],
      });
      return finish(ctx, source, dest, paths);
    }
    serviceCodes = codes.filter((c) => c.startsWith('SVC_') && c !== 'SVC_HEADLESS');
    if (source.from === 'external') ctx.note(clientIPNote(dest.service));
  }

  // A pod reaching an address outside the cluster: pod → node → SNAT/masquerade → default route.
  if (dest.type === 'external' && source.pod) {
    const plan = egressPlan(model, source.pod, { destination: dest.ip, port: dest.dport ?? 0, protocol });
    for (const f of plan.findings) ctx.add(f);
    for (const n of plan.notes) ctx.note(n);
    const hops = [...startHops, ...plan.hops];
    paths.push({ to: dest.ref, probability: null, verdict: pathVerdict(hops), hops });
    return finish(ctx, source, dest, paths);
  }

  let candidates: Candidate[];
  let terminal: Hop | undefined;
  if (dest.type === 'service' && dest.service.headless) {
    candidates = headlessCandidates(ctx, dest, family);
  } else {
    // The interface netfilter sees: the bridge for a bridged pod, else its veth.
    const stage = proxyStage(ctx, source, dest, protocol, bridge ?? inIface);
    candidates = stage.candidates;
    terminal = stage.terminal;
    if (stage.flow?.sessionAffinity)
      ctx.note(
        `sessionAffinity ClientIP: one client sticks to one backend for ${stage.flow.sessionAffinity.timeoutSeconds}s; every candidate is shown.`,
      );
  }
  const attach = (hop: Hop | undefined) => {
    if (hop && serviceCodes.length) hop.findings = [...new Set([...(hop.findings ?? []), ...serviceCodes])];
  };
  attach(terminal);
  for (const cand of candidates) attach(cand.hops.find((h) => h.kind === 'dnat'));
  if (terminal) {
    paths.push({ to: null, probability: null, verdict: 'unreachable', hops: [...startHops, terminal] });
    return finish(ctx, source, dest, paths);
  }
  if (candidates.length === 0 && dest.type === 'service') {
    const f = ctx.add(
      finding('SVC_NO_READY_ENDPOINTS', {
        message: `Service ${dest.service.namespace}/${dest.service.name} has no ready endpoint for port ${dest.port.name || dest.port.port}.`,
        objects: [`svc/${dest.service.namespace}/${dest.service.name}`],
      }),
    );
    paths.push({
      to: null,
      probability: null,
      verdict: 'unreachable',
      hops: [
        ...startHops,
        { kind: 'drop', detail: 'no backend to send the packet to', status: 'broken', findings: [f] },
      ],
    });
    return finish(ctx, source, dest, paths);
  }

  for (const cand of candidates) {
    const hops = [...startHops, ...cand.hops];
    if (cand.lost) {
      paths.push({
        to: { kind: 'IP', ip: cand.ip, port: cand.port ?? null },
        probability: cand.probability,
        verdict: pathVerdict(hops),
        hops,
      });
      continue;
    }
    const targetPods = model.podsByIP(cand.ip);
    const targetPod = targetPods.length ? targetPods[0] : dest.type === 'pod' ? dest.pod : undefined;
    if (cand.masquerade)
      hops.push({
        kind: 'masquerade',
        node: source.node,
        detail: `source ${source.ip} rewritten to node ${source.node}'s address`,
        status: 'ok',
      });

    // NetworkPolicy: egress at a pod source and ingress at the backend, decided after DNAT.
    const policy =
      targetPod && !targetPod.hostNetwork
        ? policyHop(ctx, source, cand.masquerade, targetPod, cand.port, protocol)
        : undefined;

    if (
      dest.type === 'service' &&
      targetPods.length === 0 &&
      !model.nodeByIP(cand.ip) &&
      cand.hops.some((h) => h.kind === 'dnat' && !h.inferred)
    ) {
      // kube-proxy DNATs to an address no pod has.
      const f = ctx.add(
        finding('PROXY_ENDPOINT_STALE', {
          message: `${translatorName(model, source.node!)} on node ${source.node} sends ${dest.service.namespace}/${dest.service.name} traffic to ${cand.ip}, which no pod has.`,
          objects: [`svc/${dest.service.namespace}/${dest.service.name}`, `node/${source.node}`],
          evidence: cand.hops.map((h) => h.evidence ?? '').filter(Boolean),
        }),
      );
      hops.push({
        kind: 'drop',
        node: source.node,
        detail: `${cand.ip} belongs to no pod`,
        status: 'broken',
        findings: [f],
      });
      paths.push({
        to: { kind: 'IP', ip: cand.ip, port: cand.port ?? null },
        probability: cand.probability,
        verdict: 'unreachable',
        hops,
      });
      continue;
    }

    const owner = targetPod?.nodeName ?? nodeOwningPodIP(model, cand.ip) ?? nodeWithAddress(model, cand.ip);
    const sameNode = owner === source.node;
    // A pod reaching a pod on its own bridge and subnet is switched, not routed; a routed CNI's
    // pod (its host veth on no bridge) is routed by the node even to a pod of the same node.
    const switched = Boolean(source.pod && sameNode && dest.type === 'pod' && !(inIface && !bridge));
    let overlay: string | undefined;
    if (!switched) {
      const routed = routeHops(ctx, source.node!, cand.ip, owner, source.from !== 'local', {
        podMtu,
        src: source.ip,
        iif: source.pod ? (bridge ?? inIface) : undefined,
        podIface:
          targetPod && !targetPod.hostNetwork && sameNode
            ? podHostInterface(model, targetPod, cand.ip)
            : undefined,
      });
      hops.push(...routed.hops);
      overlay = routed.via;
      if (routed.broken) {
        if (policy) hops.push(policy);
        paths.push(pathFor(cand, targetPod, hops));
        continue;
      }
    }
    // What the destination sees as the source: the node's address once masqueraded.
    const seenFrom = (cand.masquerade && sourceNodeIP(model, source)) || source.ip;
    if (targetPod && !targetPod.hostNetwork) {
      const arrival = arrivePodHops(
        ctx,
        targetPod,
        cand.ip,
        cand.port,
        protocol,
        source.node,
        Boolean(source.pod && sameNode),
        { src: seenFrom, overlay, sourcePod: source.pod },
      );
      // The policy is enforced at the destination pod's interface: just before the pod hop.
      if (policy)
        arrival.splice(arrival.at(-1)?.kind === 'pod' ? arrival.length - 1 : arrival.length, 0, policy);
      hops.push(...arrival);
      // The answer goes back across the nodes: its route, tunnel entries, rp_filter there.
      if (owner && source.node && owner !== source.node && !arrival.some((h) => h.status === 'broken')) {
        const reply = replyHops(ctx, {
          destNode: owner,
          srcNode: source.node,
          replyFrom: cand.ip,
          replyTo: seenFrom,
          iif: podHostInterface(model, targetPod, cand.ip),
        });
        if (reply) hops.push(reply);
      }
    } else if (owner) {
      hops.push(
        ...arriveNodeHops(ctx, owner, cand, protocol, source, {
          src: seenFrom,
          overlay,
          sourcePod: source.pod,
        }),
      );
    } else {
      hops.push({
        kind: 'external',
        detail: `${cand.ip}${cand.port ? `:${cand.port}` : ''} is outside the cluster: knet cannot see beyond the node`,
        status: 'unknown',
      });
    }
    paths.push(pathFor(cand, targetPod, hops));
  }
  return finish(ctx, source, dest, paths);
}

/** The source node's address of the source's family (what masquerading rewrites the source to). */
function sourceNodeIP(model: ClusterModel, source: Source): string | undefined {
  return source.node
    ? model.node(source.node)?.internalIPs.find((ip) => ipFamily(ip) === ipFamily(source.ip))
    : undefined;
}

/**
 * Arriving at a node's own address (a host-network pod, a hostPort, a NodePort, the node
 * itself): the node's netfilter, a DNAT there that sends the packet on to a pod (the portmap
 * plugin's hostPort chains, kube-proxy's NodePort rules), else its INPUT rules, the route of
 * its reply and a listening socket.
 */
function arriveNodeHops(
  ctx: TraceContext,
  owner: string,
  cand: Candidate,
  protocol: Protocol,
  source: Source,
  arrival: Arrival,
): Hop[] {
  const model = ctx.model;
  const nodeHop: Hop = {
    kind: 'node',
    node: owner,
    detail: `${owner} ${cand.ip}${cand.port ? `:${cand.port}` : ''} (host network)`,
    status: 'ok',
  };
  const hops: Hop[] = [nodeHop];
  const ns = nodeNetns(model, owner);
  const pkt = newPacket({
    src: arrival.src,
    dst: cand.ip,
    dport: cand.port ?? 0,
    proto: lowerProtocol(protocol),
  });
  let passed: NodeBranch[] = [];
  if (owner !== source.node || source.from === 'local') {
    const entry: Entry =
      owner !== source.node
        ? { kind: 'arrive', iif: arrivalInterface(model, owner, arrival.overlay), from: 'external' }
        : { kind: 'originate' };
    const crossing = crossNetns(ctx, ns, pkt, entry, true);
    if (crossing.hop) hops.push(crossing.hop);
    if (crossing.stopped) return hops;
    passed = crossing.passed;
  }
  // A DNAT on this node sends the packet on to a pod.
  const dnat = passed.find((b) => b.pkt.dnat && b.fate.kind === 'out')?.pkt.dnat;
  const to = dnat ? model.podsByIP(dnat.ip)[0] : undefined;
  if (dnat && to && !to.hostNetwork) {
    hops.push({
      kind: 'dnat',
      node: owner,
      detail: `${cand.ip}:${cand.port} -> ${dnat.ip}:${dnat.port}`,
      status: 'ok',
      evidence: `${ns.label}: ${dnat.rule}`,
    });
    hops.push(...arrivePodHops(ctx, to, dnat.ip, dnat.port, protocol, owner, false, arrival));
    return hops;
  }
  if (cand.port === undefined) return hops;
  const onNode = model.pods.filter((p) => p.nodeName === owner);
  const hostPortPod = onNode.find(
    (p) =>
      !p.hostNetwork &&
      p.containers.some((c) => c.ports.some((x) => x.hostPort === cand.port && x.protocol === protocol)),
  );
  if (hostPortPod && ns.rules) {
    const code = ctx.add(
      finding('HOSTPORT_RULE_MISSING', {
        message: `Pod ${hostPortPod.namespace}/${hostPortPod.name} declares hostPort ${cand.port}/${protocol}, but no rule on node ${owner} translates ${cand.ip}:${cand.port} to it: the packet is delivered to the node itself.`,
        objects: [`pod/${hostPortPod.namespace}/${hostPortPod.name}`, `node/${owner}`],
        evidence: [`${ns.ruleFiles.join(', ')}: no DNAT for ${cand.ip}:${cand.port} (CNI-HOSTPORT-DNAT)`],
      }),
    );
    nodeHop.status = 'broken';
    nodeHop.findings = [code];
    return hops;
  }
  const reply = replyRouteHop(ctx, ns, arrival.src);
  if (reply) {
    hops.push(reply);
    return hops;
  }
  const declared = onNode.some(
    (p) =>
      p.hostNetwork &&
      p.containers.some((c) => c.ports.some((x) => x.containerPort === cand.port && x.protocol === protocol)),
  );
  const socket = socketCheck(ctx, ns, cand.ip, cand.port, protocol, declared);
  if (socket.evidence) nodeHop.evidence = socket.evidence;
  if (socket.inferred) nodeHop.inferred = true;
  if (socket.status !== 'ok') {
    nodeHop.status = socket.status;
    nodeHop.findings = socket.findings;
  }
  return hops;
}

function pathFor(cand: Candidate, pod: Pod | undefined, hops: Hop[]): TracePath {
  const to: TraceRef = pod
    ? {
        kind: 'Pod',
        namespace: pod.namespace,
        name: pod.name,
        ip: cand.ip,
        port: cand.port ?? null,
        node: pod.nodeName ?? null,
      }
    : { kind: 'IP', ip: cand.ip, port: cand.port ?? null };
  return { to, probability: cand.probability, verdict: pathVerdict(hops), hops };
}

function finish(ctx: TraceContext, source: Source, dest: Destination, paths: TracePath[]): TraceResult {
  let verdict = overallVerdict(paths);
  // An MTU black hole passes small packets and drops full-size ones: partly broken.
  if (verdict === 'reachable' && paths.some((p) => p.hops.some((h) => h.findings?.includes('MTU_MISMATCH'))))
    verdict = 'partial';
  if (ctx.assumedNoRules.length)
    ctx.note(
      `Taken as empty (not in the bundle: pods/NAMESPACE_NAME/iptables-save.txt, nft.json): the own netfilter rules of ${ctx.assumedNoRules.join(', ')}.`,
    );
  return {
    source: source.ref,
    destination: dest.ref,
    verdict,
    paths,
    findings: ctx.findings.sorted(),
    notes: ctx.notes,
  };
}
