// Drift between the API (Services, EndpointSlices) and a node's kube-proxy dataplane, per
// service port: the addresses kube-proxy should capture, the endpoints its rules send to
// (found by running packets through the real rules, so one check serves iptables, IPVS and
// nftables), the endpoints the API says should be used, and findings for the differences.
// Chains are tied to services by kube-proxy's recomputed hashes, never by comments.

import { firstHost, ipFamily } from '../../core/ip.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import { perModel } from '../../model/memo.js';
import type { Protocol, Service } from '../../model/types.js';
import { detectNodeDataplane } from '../dataplane/detect.js';
import { classifyKubeChain } from './chain-names.js';
import { iptablesDriftClasses } from './drift-classes.js';
import type { Dataplane, FlowEndpoint, Packet, PacketFlow } from './packet.js';
import type { ProxyEndpoint, ProxyServicePort } from './service-ports.js';
import { loadNodeProxy, type NodeProxyRules, simulatePacket } from './simulate.js';

export interface DriftEndpoint {
  ip: string;
  port: number;
}

export interface ApiEndpoint extends DriftEndpoint {
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  node?: string;
  local: boolean;
  /** kube-proxy on this node should send ClusterIP traffic here. */
  expected: boolean;
}

export interface AddressCheck {
  /** "clusterIP", "externalIP", "loadBalancerIP", "nodePort". */
  kind: 'clusterIP' | 'externalIP' | 'loadBalancerIP' | 'nodePort';
  address: string;
  port: number;
  outcome: PacketFlow['outcome'];
  expected: 'dnat' | 'reject' | 'drop';
  endpoints: FlowEndpoint[];
  ok: boolean;
  /** The flow went through a per-service chain (or IPVS virtual server) of this service. */
  viaServiceChain?: boolean;
  unknown?: string;
}

export interface ProxyServiceRow {
  namespace: string;
  name: string;
  portName: string;
  /** ServicePortName, e.g. "ns1/svc1:p80". */
  servicePort: string;
  protocol: Protocol;
  port: number;
  clusterIP: string;
  nodePort?: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  externalTrafficPolicy: 'Cluster' | 'Local';
  internalTrafficPolicy: 'Cluster' | 'Local';
  sessionAffinity: 'None' | 'ClientIP';
  /** ClusterIP traffic: what the rules do with it. */
  rulesOutcome: PacketFlow['outcome'];
  /** Endpoints the rules DNAT ClusterIP traffic to, with probabilities. */
  rulesEndpoints: FlowEndpoint[];
  apiEndpoints: ApiEndpoint[];
  checks: AddressCheck[];
  /** The kube-proxy chain (iptables) or chain base (nftables) for the service port. */
  chain?: string;
  status: 'ok' | 'drift' | 'missing' | 'no-endpoints' | 'unknown';
  evidence: string[];
}

export interface ProxyRulesReport {
  node: string;
  dataplane: Dataplane | null;
  modeReason?: string;
  services: ProxyServiceRow[];
  /** kube-proxy chains in the dump whose hash matches no API service port. */
  staleChains: string[];
  findings: Finding[];
}

const key = (e: DriftEndpoint) => `${e.ip}|${e.port}`;

/** Endpoints kube-proxy should use for traffic of one kind, per dataplane. */
function expectedEndpoints(sp: ProxyServicePort, mode: Dataplane, external: boolean): ProxyEndpoint[] {
  const local = external ? sp.externalPolicyLocal : sp.internalPolicyLocal;
  if (mode === 'ipvs') {
    let usable = sp.endpoints.filter((e) => e.ready);
    if (usable.length === 0) usable = sp.endpoints.filter((e) => e.serving && e.terminating);
    if (!local) return usable;
    const loc = sp.endpoints.filter((e) => e.isLocal && e.ready);
    if (loc.length) return loc;
    const locTerm = sp.endpoints.filter((e) => e.isLocal && e.serving && e.terminating);
    // IPVS falls back to all endpoints when none is local (kube-proxy PR 97081).
    return locTerm.length ? locTerm : usable;
  }
  return local ? sp.localEndpoints : sp.clusterEndpoints;
}

function expectedOutcome(
  sp: ProxyServicePort,
  mode: Dataplane,
  eps: ProxyEndpoint[],
): 'dnat' | 'reject' | 'drop' {
  if (eps.length > 0) return 'dnat';
  if (mode === 'ipvs') return 'reject';
  return sp.hasEndpoints ? 'drop' : 'reject';
}

const podSources = perModel<string>();

/** (Once per node and family: doctor asks for every service port.) */
function podSource(model: ClusterModel, node: string, family: 4 | 6): string {
  return podSources(model, `${node}\u0000${family}`, () => {
    const cidr = model.node(node)?.podCIDRs.find((c) => ipFamily(c.split('/')[0]) === family);
    if (cidr) return firstHost(cidr);
    return family === 4 ? '10.255.255.254' : 'fd00::fffe';
  });
}

function externalSource(sp: ProxyServicePort): string {
  if (sp.sourceRanges.length) return firstHost(sp.sourceRanges[0]);
  return sp.family === 4 ? '203.0.113.254' : '2001:db8::fffe';
}

/** The drift report for one node (optionally one service). */
export function diagnoseProxyDrift(
  model: ClusterModel,
  nodeName: string,
  options: { service?: Pick<Service, 'namespace' | 'name'> } = {},
): ProxyRulesReport {
  const rules = loadNodeProxy(model, nodeName);
  const plane = detectNodeDataplane(model, nodeName);
  // Another dataplane translates Services here (kube-proxy's rules are not expected at all), or
  // there are no dumps: nothing to check, said in one finding.
  const nothing = !rules
    ? `Node ${nodeName} has no kube-proxy dumps (iptables-save.txt, ipvsadm.txt or nft.json).`
    : !plane.services.startsWith('kube-proxy-')
      ? `Node ${nodeName} translates Services with ${plane.services} (${plane.servicesReason}), not kube-proxy: there are no kube-proxy rules to check.`
      : undefined;
  if (!rules || nothing) {
    return {
      node: nodeName,
      dataplane: null,
      services: [],
      staleChains: [],
      findings: [finding('NO_NODE_DATA', { message: nothing!, objects: [`node/${nodeName}`] })],
    };
  }
  return driftFromRules(model, rules, options);
}

export function driftFromRules(
  model: ClusterModel,
  rules: NodeProxyRules,
  options: { service?: Pick<Service, 'namespace' | 'name'> } = {},
): ProxyRulesReport {
  const findings: Finding[] = [];
  const rows: ProxyServiceRow[] = [];
  for (const sp of rules.index.ports) {
    if (
      options.service &&
      (sp.service.namespace !== options.service.namespace || sp.service.name !== options.service.name)
    )
      continue;
    if (!hasFamilyDump(rules, sp)) continue;
    const d = servicePortDrift(model, rules, sp);
    rows.push(d.row);
    for (const f of d.findings) findings.push(f);
  }
  return {
    node: rules.node,
    dataplane: rules.mode,
    modeReason: rules.modeReason,
    services: rows,
    staleChains: options.service ? [] : staleChains(rules),
    findings,
  };
}

export function hasFamilyDump(rules: NodeProxyRules, sp: ProxyServicePort): boolean {
  if (rules.mode === 'nftables') return Boolean(rules.nft);
  return Boolean(sp.family === 6 ? rules.ip6tables : rules.iptables);
}

/** One address of a service port to send a packet to, and the endpoints it should reach. */
export interface DriftCheck {
  kind: AddressCheck['kind'];
  packet: Packet;
  /** What kube-proxy should do with it. */
  endpoints: ProxyEndpoint[];
}

/** The packets the drift check sends for a service port: ClusterIP first, then external addresses. */
export function driftChecks(model: ClusterModel, rules: NodeProxyRules, sp: ProxyServicePort): DriftCheck[] {
  const mode = rules.mode;
  const protocol = sp.port.protocol;
  const port = sp.port.port;
  const internalEps = expectedEndpoints(sp, mode, false);
  const externalEps = expectedEndpoints(sp, mode, true);
  const out: DriftCheck[] = [
    {
      kind: 'clusterIP',
      packet: {
        from: 'pod',
        source: podSource(model, rules.node, sp.family),
        destination: sp.clusterIP,
        port,
        protocol,
      },
      endpoints: internalEps,
    },
  ];
  const ext = externalSource(sp);
  for (const ip of sp.externalIPs) {
    out.push({
      kind: 'externalIP',
      packet: { from: 'external', source: ext, destination: ip, port, protocol },
      endpoints: externalEps,
    });
  }
  for (const ip of sp.loadBalancerIPs) {
    out.push({
      kind: 'loadBalancerIP',
      packet: { from: 'external', source: ext, destination: ip, port, protocol },
      endpoints: externalEps,
    });
  }
  const nodeIP = rules.nodeAddresses.find((ip) => ipFamily(ip) === sp.family);
  if (sp.nodePort && nodeIP) {
    out.push({
      kind: 'nodePort',
      packet: {
        from: 'external',
        source: sp.family === 4 ? '203.0.113.254' : '2001:db8::fffe',
        destination: nodeIP,
        port: sp.nodePort,
        protocol,
      },
      endpoints: externalEps,
    });
  }
  return out;
}

/** The drift row and findings of one service port, by running its packets through the rules. */
export function servicePortDrift(
  model: ClusterModel,
  rules: NodeProxyRules,
  sp: ProxyServicePort,
  plan = driftChecks(model, rules, sp),
): { row: ProxyServiceRow; findings: Finding[] } {
  const nodeName = rules.node;
  const mode = rules.mode;
  const findings: Finding[] = [];
  const nodeObj = `node/${nodeName}`;
  const svcObj = `svc/${sp.service.namespace}/${sp.service.name}`;
  const proto = sp.port.protocol;
  const internalEps = plan[0].endpoints;
  const flows = plan.map((c) => simulatePacket(rules, c.packet));
  const cipFlow = flows[0];
  const checks: AddressCheck[] = plan.map((pc, i) => {
    const flow = flows[i];
    const expected = expectedOutcome(sp, mode, pc.endpoints);
    let ok = flow.outcome === expected;
    if (ok && expected === 'dnat') {
      const want = new Set(pc.endpoints.map(key));
      ok = flow.endpoints.length === want.size && flow.endpoints.every((e) => want.has(key(e)));
    }
    const c: AddressCheck = {
      kind: pc.kind,
      address: pc.packet.destination,
      port: pc.packet.port,
      outcome: flow.outcome,
      expected,
      endpoints: flow.endpoints,
      ok,
    };
    if (chainFor(flow) !== undefined) c.viaServiceChain = true;
    if (flow.unknown) c.unknown = flow.unknown;
    return c;
  });

  const expectedSet = new Set(internalEps.map(key));
  const apiEndpoints: ApiEndpoint[] = sp.endpoints.map((e) => ({
    ip: e.ip,
    port: e.port,
    ready: e.ready,
    serving: e.serving,
    terminating: e.terminating,
    node: e.nodeName,
    local: e.isLocal,
    expected: expectedSet.has(key(e)),
  }));
  const row: ProxyServiceRow = {
    namespace: sp.service.namespace,
    name: sp.service.name,
    portName: sp.port.name,
    servicePort: sp.spn,
    protocol: proto,
    port: sp.port.port,
    clusterIP: sp.clusterIP,
    nodePort: sp.nodePort,
    externalIPs: sp.externalIPs,
    loadBalancerIPs: sp.loadBalancerIPs,
    loadBalancerSourceRanges: sp.sourceRanges,
    externalTrafficPolicy: sp.service.externalTrafficPolicy,
    internalTrafficPolicy: sp.service.internalTrafficPolicy,
    sessionAffinity: sp.service.sessionAffinity,
    rulesOutcome: cipFlow.outcome,
    rulesEndpoints: cipFlow.endpoints,
    apiEndpoints,
    checks,
    chain: chainFor(cipFlow),
    status: 'ok',
    evidence: [...cipFlow.evidence],
  };

  // Findings, most specific first.
  const allEps = new Map(sp.endpoints.map((e) => [key(e), e]));
  const stale = new Map<string, FlowEndpoint>();
  const missing = new Map<string, ProxyEndpoint>();
  let rulesMissing = false;
  checks.forEach((c, i) => {
    const want = plan[i].endpoints;
    if (c.outcome === 'pass' && c.expected !== 'dnat' && c.kind !== 'clusterIP' && mode !== 'nftables') {
      // iptables/IPVS: external addresses without endpoints may legitimately pass
      // (e.g. eTP=Local short-circuit rules absent); only flag DNAT expectations.
      if (c.unknown) row.status = 'unknown';
      return;
    }
    if (c.outcome === 'pass' && !c.unknown) rulesMissing = true;
    else if (
      c.expected === 'dnat' &&
      (c.outcome === 'reject' || c.outcome === 'drop') &&
      !c.viaServiceChain
    ) {
      // Rejected/dropped before reaching any chain of this service (e.g. nftables'
      // cluster-ips-check): kube-proxy has not programmed it.
      rulesMissing = true;
      return;
    }
    if (c.outcome === 'dnat') {
      const wantSet = new Set(want.map(key));
      for (const e of c.endpoints) if (!wantSet.has(key(e))) stale.set(key(e), e);
      const got = new Set(c.endpoints.map(key));
      for (const e of want) if (!got.has(key(e))) missing.set(key(e), e);
    } else if (c.expected === 'dnat' && (c.outcome === 'reject' || c.outcome === 'drop')) {
      for (const e of want) missing.set(key(e), e);
    }
    if (c.unknown) row.status = 'unknown';
  });
  const label = `${sp.spn} (${sp.protocol})`;
  if (rulesMissing) {
    row.status = 'missing';
    const passed = checks.filter((c) => c.outcome === 'pass').map((c) => `${c.kind} ${c.address}:${c.port}`);
    findings.push(
      finding('PROXY_RULES_MISSING', {
        message: `kube-proxy on ${nodeName} has no rule for ${label}: ${passed.join(', ')} is not captured.`,
        objects: [svcObj, nodeObj],
        evidence: rules.files.iptables ? [`searched ${Object.values(rules.files).join(', ')}`] : undefined,
      }),
    );
  }
  for (const e of stale.values()) {
    const api = allEps.get(key(e));
    const why = api
      ? `an endpoint that is ${api.ready ? 'not usable from this node under the traffic policy' : api.serving ? 'terminating' : 'not ready'}`
      : 'not an endpoint of the service in the API';
    row.status = row.status === 'missing' ? 'missing' : 'drift';
    findings.push(
      finding('PROXY_ENDPOINT_STALE', {
        message: `kube-proxy on ${nodeName} sends ${label} to ${e.ip}:${e.port}, ${why}.`,
        objects: [svcObj, nodeObj],
        evidence: dnatEvidence(cipFlow, e),
      }),
    );
  }
  for (const e of missing.values()) {
    if (row.status === 'ok') row.status = 'drift';
    findings.push(
      finding('PROXY_ENDPOINT_MISSING', {
        message: `Ready endpoint ${e.ip}:${e.port} of ${label} is absent from kube-proxy's rules on ${nodeName}.`,
        objects: [svcObj, nodeObj],
      }),
    );
  }
  if (!rulesMissing && (cipFlow.outcome === 'reject' || cipFlow.outcome === 'drop')) {
    const code = cipFlow.decidedBy === 'kube-proxy' ? 'PROXY_REJECT' : 'FILTER_DROP';
    if (code === 'PROXY_REJECT' && internalEps.length === 0 && row.status === 'ok')
      row.status = 'no-endpoints';
    findings.push(
      finding(code, {
        message:
          code === 'PROXY_REJECT'
            ? `kube-proxy on ${nodeName} ${cipFlow.outcome === 'reject' ? 'rejects' : 'drops'} traffic to ${label} at ${sp.clusterIP}:${sp.port.port}: ${
                sp.hasEndpoints
                  ? 'no endpoint usable under the traffic policy'
                  : 'the service has no ready endpoints'
              }.`
            : `A firewall rule that is not kube-proxy's ${cipFlow.outcome}s traffic to ${label} on ${nodeName}.`,
        objects: [svcObj, nodeObj],
        evidence: cipFlow.decidingRule ? [cipFlow.decidingRule] : undefined,
      }),
    );
  }
  return { row, findings };
}

function chainFor(flow: PacketFlow): string | undefined {
  for (const line of flow.evidence) {
    const m =
      /-j (KUBE-(?:SVC|SVL|FW|EXT)-[A-Z2-7]{16})/.exec(line) ??
      /goto ((?:service|local|external|firewall)-[A-Z2-7]{8}-\S+)/.exec(line) ??
      /^(-A -[tu] |-A --sctp-service |(?:TCP|UDP|SCTP) )/.exec(line);
    if (m) return m[1].startsWith('-A') || /^(TCP|UDP|SCTP)/.test(m[1]) ? 'ipvs' : m[1];
  }
  return undefined;
}

function dnatEvidence(flow: PacketFlow, e: FlowEndpoint): string[] | undefined {
  const hit = flow.evidence.filter((l) => l.includes(`${e.ip}:${e.port}`));
  return hit.length ? hit : undefined;
}

/** Per-service chains (iptables nat, nftables kube-proxy table) whose hash names no API service port. */
export function staleChains(rules: NodeProxyRules): string[] {
  const out: string[] = [];
  for (const dump of [rules.iptables, rules.ip6tables]) {
    const nat = dump?.tables.get('nat');
    if (!nat || rules.mode !== 'iptables') continue;
    for (const name of nat.chains.keys()) {
      const k = classifyKubeChain(name);
      if (!k) continue;
      const known = k.kind === 'SEP' ? rules.index.bySepChain.has(name) : rules.index.byHash.has(k.hash);
      if (!known) out.push(name);
    }
  }
  if (rules.mode === 'nftables') {
    for (const t of rules.nft?.tables ?? []) {
      if (t.name !== 'kube-proxy') continue;
      for (const name of t.chains.keys()) {
        const m = /^(service|local|external|firewall|endpoint)-(.+)$/.exec(name);
        if (!m || !name.includes('/')) continue;
        const known =
          m[1] === 'endpoint' ? rules.index.byNftEndpointBase.has(m[2]) : rules.index.byNftBase.has(m[2]);
        if (!known) out.push(name);
      }
    }
  }
  return out.sort();
}

/** Drift findings for a node (doctor): empty when the node has no kube-proxy dumps. */
export function proxyDriftFindings(
  model: ClusterModel,
  nodeName: string,
  filter?: { namespace?: string; services?: ReadonlySet<string> },
): Finding[] {
  const rules = loadNodeProxy(model, nodeName);
  if (!rules || !detectNodeDataplane(model, nodeName).services.startsWith('kube-proxy-')) return [];
  return driftFindings(model, rules, filter?.namespace, filter?.services);
}

/**
 * driftFromRules' findings (of one namespace's services, or all), without the rows: a service
 * port whose checks all fall in classes (drift-classes.ts) whose first member was simulated
 * without a finding has none either, and is not simulated.
 */
export function driftFindings(
  model: ClusterModel,
  rules: NodeProxyRules,
  namespace?: string,
  /** `ns/name` of the Services to check; undefined = all. */
  services?: ReadonlySet<string>,
): Finding[] {
  const classes = services ? undefined : iptablesDriftClasses(model, rules);
  const quiet = new Map<string, boolean>();
  const out: Finding[] = [];
  for (const sp of rules.index.ports) {
    if (
      (namespace !== undefined && sp.service.namespace !== namespace) ||
      (services && !services.has(`${sp.service.namespace}/${sp.service.name}`)) ||
      !hasFamilyDump(rules, sp)
    )
      continue;
    const plan = driftChecks(model, rules, sp);
    const keys = classes?.keys(sp, plan);
    if (keys?.every((k) => quiet.get(k))) continue;
    const d = servicePortDrift(model, rules, sp, plan);
    keys?.forEach((k, i) => {
      if (!quiet.has(k)) quiet.set(k, addsNoFinding(d.row.checks[i], rules.mode));
    });
    for (const f of d.findings) out.push(f);
  }
  return out;
}

/**
 * servicePortDrift turns this check into no finding: the ClusterIP DNATed to exactly the
 * expected endpoints (a rejected ClusterIP is PROXY_REJECT even when expected), an external
 * address treated as expected, or passed where no DNAT is expected.
 */
function addsNoFinding(c: AddressCheck, mode: Dataplane): boolean {
  if (c.kind === 'clusterIP') return c.ok && c.outcome === 'dnat';
  return c.ok || (c.outcome === 'pass' && c.expected !== 'dnat' && mode !== 'nftables');
}
