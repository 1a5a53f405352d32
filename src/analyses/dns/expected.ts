// The answer the Kubernetes DNS specification (and CoreDNS, its reference implementation)
// gives for a name, computed from the cluster's objects alone. Pure: no I/O.
//
// Name grammar inside the cluster zone, as CoreDNS parses it (plugin/kubernetes/parse.go):
//   [_port._proto. | endpoint.] service.namespace.svc.zone    and    ip-dashed.namespace.pod.zone

import { ipFamily, normalizeIP } from '../../core/ip.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { EndpointPort, Service } from '../../model/types.js';
import {
  type CoreDnsConfig,
  coreDnsConfigOf,
  fallsThrough,
  forwardZone,
  kubeadmDefault,
} from './corefile.js';
import {
  dashedIP,
  inZone,
  ipFromDashed,
  ipFromReverseName,
  isDomainName,
  isReverseName,
  labelsBelow,
  normalizeName,
} from './names.js';
import type { DnsAnswer, DnsRecord, DnsType } from './types.js';

export interface ExpectOptions {
  clusterDomain: string;
  /** CoreDNS's kubernetes-plugin settings; default: the model's Corefile, else kubeadm's. */
  coredns?: CoreDnsConfig;
}

/** The DNS schema version CoreDNS publishes in `dns-version.<zone>` (spec §2.2). */
export const DNS_SCHEMA_VERSION = '1.1.0';
const DNS_VERSION_TTL = 28800;

const svcRef = (s: Service) => `svc/${s.namespace}/${s.name}`;

function answer(partial: Partial<DnsAnswer> & Pick<DnsAnswer, 'rcode' | 'reason'>): DnsAnswer {
  return { answers: [], match: 'all', upstream: [], objects: [], ...partial };
}

const nxdomain = (reason: string, objects: string[] = []) => answer({ rcode: 'NXDOMAIN', reason, objects });
const nodata = (reason: string, objects: string[] = []) => answer({ rcode: 'NOERROR', reason, objects });

/** An endpoint address CoreDNS serves for a service: ready (or published unready). */
export interface DnsEndpoint {
  ip: string;
  /** The endpoint's DNS label: its hostname, the pod name (endpoint_pod_names) or the dashed IP. */
  hostname: string;
  /** Ports from the EndpointSlice; a sentinel { port: -1 } when the slice has none. */
  ports: EndpointPort[];
  slice: string;
  pod?: string;
}

/**
 * The endpoints of `svc` that DNS publishes, from its EndpointSlices: ready ones, or every
 * one when the service sets publishNotReadyAddresses. Deduplicated by address.
 */
export function dnsEndpoints(model: ClusterModel, svc: Service, config?: CoreDnsConfig): DnsEndpoint[] {
  const out = new Map<string, DnsEndpoint>();
  for (const slice of model.endpointSlicesFor(svc)) {
    if (slice.addressType === 'FQDN') continue;
    const ports: EndpointPort[] = slice.ports.length
      ? slice.ports
      : [{ name: '', port: -1, protocol: 'TCP' }];
    for (const ep of slice.endpoints) {
      if (!ep.conditions.ready && !svc.publishNotReadyAddresses) continue;
      const pod =
        ep.targetRef?.kind === 'Pod'
          ? model.pod(ep.targetRef.namespace ?? svc.namespace, ep.targetRef.name)
          : undefined;
      for (const address of ep.addresses) {
        let ip: string;
        try {
          ip = normalizeIP(address);
        } catch {
          continue;
        }
        // The EndpointSlice controller copies a pod's spec.hostname when its subdomain is the service.
        const podHostname =
          pod?.hostname && pod.subdomain === svc.name && pod.namespace === svc.namespace
            ? pod.hostname
            : undefined;
        const byName =
          config?.endpointPodNames && ep.targetRef?.name && ep.targetRef.name.length < 64
            ? ep.targetRef.name
            : undefined;
        const hostname = (ep.hostname ?? podHostname ?? byName ?? dashedIP(ip)).toLowerCase();
        const key = `${ip}|${hostname}`;
        if (!out.has(key)) {
          out.set(key, {
            ip,
            hostname,
            ports,
            slice: `endpointslice/${slice.namespace}/${slice.name}`,
            pod: pod ? `pod/${pod.namespace}/${pod.name}` : undefined,
          });
        }
      }
    }
  }
  return [...out.values()];
}

function matchPortProto(wantPort: string, port: string, wantProto: string, proto: string): boolean {
  return (
    (wantPort === '' || wantPort === port.toLowerCase()) &&
    (wantProto === '' || wantProto === proto.toLowerCase())
  );
}

const stripUnderscore = (s: string) => (s.startsWith('_') ? s.slice(1) : s);

/** floor(100 / n), at least 1: CoreDNS's SRV weight for n candidate records. */
function srvWeight(n: number): number {
  return Math.max(1, Math.floor(100 / Math.max(1, n)));
}

function addrRecords(name: string, type: DnsType, ips: string[], ttl: number): DnsRecord[] {
  const family = type === 'A' ? 4 : 6;
  const seen = new Set<string>();
  const out: DnsRecord[] = [];
  for (const ip of ips) {
    if (ipFamily(ip) !== family || seen.has(ip)) continue;
    seen.add(ip);
    out.push({ name, type, data: ip, ttl });
  }
  return out;
}

interface Ctx {
  model: ClusterModel;
  config: CoreDnsConfig;
  zones: string[];
  depth: number;
}

/**
 * The answer the cluster DNS must give for `query`. `rcode` NOERROR with no answers is
 * NODATA; UNKNOWN means CoreDNS does not decide this name from the cluster's objects.
 */
export function expectedAnswer(
  model: ClusterModel,
  query: { name: string; type: DnsType },
  options: ExpectOptions,
): DnsAnswer {
  const clusterDomain = normalizeName(options.clusterDomain);
  const config = options.coredns ?? coreDnsConfigOf(model) ?? kubeadmDefault(clusterDomain);
  const zones = [clusterDomain];
  for (const z of config.zones) {
    if (z && !z.endsWith('arpa') && !zones.includes(z)) zones.push(z);
  }
  return lookup({ model, config, zones, depth: 0 }, normalizeName(query.name), query.type);
}

function lookup(ctx: Ctx, name: string, type: DnsType): DnsAnswer {
  if (isReverseName(name)) return reverseLookup(ctx, name, type);
  const zone = ctx.zones.find((z) => inZone(name, z));
  if (!zone) {
    return answer({
      rcode: 'UNKNOWN',
      reason: `${name} is outside the cluster domain (${ctx.zones.join(', ')}): CoreDNS forwards it upstream`,
    });
  }
  const segs = labelsBelow(name, zone);
  const cfg = [`configmap/kube-system/coredns`];
  if (segs.length === 0) return nodata(`${zone} is the zone apex (it has only SOA and NS records)`);
  if (segs.length === 1 && segs[0] === 'dns-version') {
    if (type !== 'TXT') return nodata(`dns-version.${zone} has only a TXT record`);
    return answer({
      rcode: 'NOERROR',
      answers: [{ name, type: 'TXT', data: DNS_SCHEMA_VERSION, ttl: DNS_VERSION_TTL }],
      reason: `the DNS schema version record (spec 2.2)`,
    });
  }
  if (segs.length === 2 && segs[0] === 'ns' && segs[1] === 'dns') {
    return answer({
      rcode: 'UNKNOWN',
      reason: `ns.dns.${zone} is CoreDNS's own address, not derived from objects`,
    });
  }
  const kind = segs[segs.length - 1];
  if (kind !== 'svc' && kind !== 'pod') {
    return nxdomain(`${name} is neither under svc.${zone} nor under pod.${zone}`);
  }
  if (segs.length === 1) return nodata(`${kind}.${zone} is an empty non-terminal`);
  const namespace = segs[segs.length - 2];
  if (!namespaceExposed(ctx, namespace)) {
    return nxdomain(
      ctx.config.namespaces.length && !ctx.config.namespaces.includes(namespace)
        ? `namespace ${namespace} is not in the kubernetes plugin's namespaces option`
        : `namespace ${namespace} does not exist`,
      ctx.config.namespaces.length ? cfg : [],
    );
  }
  if (segs.length === 2)
    return nodata(`${namespace}.${kind}.${zone} is an empty non-terminal`, [`namespace/${namespace}`]);
  const rest = segs.slice(0, -3);
  const target = segs[segs.length - 3];
  if (rest.length > 2) return nxdomain(`${name} has too many labels for a ${kind} name`);
  if (kind === 'pod') return podLookup(ctx, name, type, namespace, target);
  const endpoint = rest.length === 1 ? rest[0] : '';
  const port = rest.length === 2 ? stripUnderscore(rest[0]) : '';
  const proto = rest.length === 2 ? stripUnderscore(rest[1]) : '';
  return serviceLookup(ctx, { name, type, zone, namespace, service: target, endpoint, port, proto });
}

function namespaceExposed(ctx: Ctx, namespace: string): boolean {
  if (ctx.config.namespaces.length && !ctx.config.namespaces.includes(namespace)) return false;
  return ctx.model.namespace(namespace) !== undefined;
}

function podLookup(ctx: Ctx, name: string, type: DnsType, namespace: string, label: string): DnsAnswer {
  const { config, model } = ctx;
  const cfg = config.origin;
  if (config.pods === 'disabled') return nxdomain(`pod records are disabled (${cfg})`);
  const ip = ipFromDashed(label);
  if (!ip) return nxdomain(`${label} is not a dashed IP address`);
  let objects: string[] = [];
  if (config.pods === 'verified') {
    const pods = model.podsByIP(ip).filter((p) => p.namespace === namespace);
    if (pods.length === 0) {
      return nxdomain(`no pod in namespace ${namespace} has IP ${ip} (pods verified, ${cfg})`);
    }
    objects = pods.map((p) => `pod/${p.namespace}/${p.name}`);
  }
  const mode = `pods ${config.pods}`;
  if (type !== 'A' && type !== 'AAAA') return nodata(`a pod record has only an address (${mode})`, objects);
  const records = addrRecords(name, type, [ip], config.ttl);
  return answer({
    rcode: 'NOERROR',
    answers: records,
    reason: records.length
      ? `pod record for ${ip} (${mode}, ${cfg})`
      : `${ip} is not an IPv${type === 'A' ? 4 : 6} address (${mode})`,
    objects,
  });
}

interface SvcQuery {
  name: string;
  type: DnsType;
  zone: string;
  namespace: string;
  service: string;
  endpoint: string;
  port: string;
  proto: string;
}

function serviceLookup(ctx: Ctx, q: SvcQuery): DnsAnswer {
  const { model, config } = ctx;
  const svc = model.service(q.namespace, q.service);
  if (!svc) return nxdomain(`service ${q.namespace}/${q.service} does not exist`);
  const objects = [svcRef(svc)];
  const svcName = `${svc.name}.${svc.namespace}.svc.${q.zone}`;

  if (svc.type === 'ExternalName') {
    if (q.endpoint) return nxdomain(`an ExternalName service has no endpoints`, objects);
    if (!svc.externalName || !isDomainName(svc.externalName)) {
      return nxdomain(
        `externalName "${svc.externalName ?? ''}" is not a domain name: CoreDNS skips it`,
        objects,
      );
    }
    const target = normalizeName(svc.externalName);
    const cname: DnsRecord = { name: q.name, type: 'CNAME', data: target, ttl: config.ttl };
    if (q.type === 'CNAME') {
      return answer({ rcode: 'NOERROR', answers: [cname], reason: `ExternalName → ${target}`, objects });
    }
    if (q.type !== 'A' && q.type !== 'AAAA') {
      return nodata(`an ExternalName service answers only CNAME, A and AAAA (CNAME chased)`, objects);
    }
    const internal = ctx.zones.some((z) => inZone(target, z)) || isReverseName(target);
    if (!internal) {
      return answer({
        rcode: 'NOERROR',
        answers: [cname],
        upstream: [target],
        reason: `ExternalName → ${target}; its ${q.type} records come from upstream DNS`,
        objects,
      });
    }
    const chased = ctx.depth < 8 ? lookup({ ...ctx, depth: ctx.depth + 1 }, target, q.type) : undefined;
    return answer({
      rcode: 'NOERROR',
      answers: [cname, ...(chased?.answers ?? [])],
      upstream: chased?.upstream ?? [],
      reason: `ExternalName → ${target} (inside the cluster domain: CoreDNS follows it)`,
      objects: [...objects, ...(chased?.objects ?? [])],
    });
  }

  if (config.ignoreEmptyService && !svc.headless && dnsEndpoints(model, svc, config).length === 0) {
    return nxdomain(`the service has no ready endpoints and CoreDNS has "ignore empty_service"`, objects);
  }

  if (svc.headless || q.endpoint) {
    const eps = dnsEndpoints(model, svc, config).filter((e) => !q.endpoint || e.hostname === q.endpoint);
    const hits: { ep: DnsEndpoint; port: EndpointPort }[] = [];
    for (const ep of eps) {
      for (const p of ep.ports) {
        if (matchPortProto(q.port, p.name, q.proto, p.protocol)) hits.push({ ep, port: p });
      }
    }
    const epObjects = [...objects, ...new Set(eps.map((e) => e.slice))];
    if (hits.length === 0) {
      if (q.endpoint) {
        return nxdomain(
          `no ready endpoint of ${svc.namespace}/${svc.name} has hostname ${q.endpoint}`,
          epObjects,
        );
      }
      if (eps.length === 0) {
        return nxdomain(
          `headless service ${svc.namespace}/${svc.name} has no ready endpoints (spec 2.4.1)`,
          epObjects,
        );
      }
      return nxdomain(`no endpoint port matches _${q.port}._${q.proto}`, epObjects);
    }
    const what = q.endpoint ? `endpoint ${q.endpoint} of` : 'ready endpoints of headless';
    if (q.type === 'A' || q.type === 'AAAA') {
      const records = addrRecords(
        q.name,
        q.type,
        hits.map((h) => h.ep.ip),
        config.ttl,
      );
      return answer({
        rcode: 'NOERROR',
        answers: records,
        reason: records.length
          ? `${what} service ${svc.namespace}/${svc.name}`
          : `no IPv${q.type === 'A' ? 4 : 6} address among the ${what} service ${svc.namespace}/${svc.name}`,
        objects: epObjects,
      });
    }
    if (q.type === 'SRV') {
      const weight = srvWeight(hits.length);
      const seen = new Set<string>();
      const records: DnsRecord[] = [];
      for (const h of hits) {
        if (h.port.port < 0) continue;
        const target = `${h.ep.hostname}.${svcName}`;
        const key = `${h.port.port} ${target}`;
        if (seen.has(key)) continue;
        seen.add(key);
        records.push({
          name: q.name,
          type: 'SRV',
          data: `0 ${weight} ${h.port.port} ${target}`,
          ttl: config.ttl,
        });
      }
      return answer({
        rcode: 'NOERROR',
        answers: records,
        reason: `one SRV per ready endpoint and port of ${svc.namespace}/${svc.name} (spec 2.4.2)`,
        objects: epObjects,
      });
    }
    return nodata(`a service name has only A, AAAA and SRV records`, epObjects);
  }

  // ClusterIP (also NodePort / LoadBalancer): the VIP exists whatever the endpoints.
  const ports = svc.ports.filter((p) => matchPortProto(q.port, p.name, q.proto, p.protocol));
  if (ports.length === 0) {
    return nxdomain(
      q.port
        ? `service ${svc.namespace}/${svc.name} has no port named ${q.port} with protocol ${q.proto}`
        : `service ${svc.namespace}/${svc.name} has no ports`,
      objects,
    );
  }
  if (q.type === 'A' || q.type === 'AAAA') {
    const records = addrRecords(q.name, q.type, svc.clusterIPs.map(normalizeIP), config.ttl);
    return answer({
      rcode: 'NOERROR',
      answers: records,
      reason: records.length
        ? `ClusterIP of ${svc.namespace}/${svc.name} (spec 2.3.1)`
        : `${svc.namespace}/${svc.name} has no IPv${q.type === 'A' ? 4 : 6} ClusterIP`,
      objects,
    });
  }
  if (q.type === 'SRV') {
    const weight = srvWeight(ports.length * Math.max(1, svc.clusterIPs.length));
    const seen = new Set<number>();
    const records: DnsRecord[] = [];
    for (const p of ports) {
      if (seen.has(p.port)) continue;
      seen.add(p.port);
      records.push({ name: q.name, type: 'SRV', data: `0 ${weight} ${p.port} ${svcName}`, ttl: config.ttl });
    }
    return answer({
      rcode: 'NOERROR',
      answers: records,
      reason: `SRV for ${q.port ? `port ${q.port}` : 'every port'} of ${svc.namespace}/${svc.name} (spec 2.3.2)`,
      objects,
    });
  }
  return nodata(`a service name has only A, AAAA and SRV records`, objects);
}

function reverseLookup(ctx: Ctx, name: string, type: DnsType): DnsAnswer {
  const { model, config } = ctx;
  const served = config.zones.some((z) => inZone(name, z));
  if (!served) {
    return answer({
      rcode: 'UNKNOWN',
      reason: `${name} is not a zone of CoreDNS's kubernetes plugin: it is forwarded upstream`,
    });
  }
  const ip = ipFromReverseName(name);
  const notFound = (why: string) =>
    fallsThrough(config, name)
      ? answer({ rcode: 'UNKNOWN', reason: `${why}; CoreDNS passes it on (fallthrough) to its upstream` })
      : nxdomain(why);
  if (!ip) return notFound(`${name} is not a full reverse name`);
  const candidates: { target: string; objects: string[] }[] = [];
  for (const svc of model.services) {
    if (svc.clusterIPs.some((c) => normalizeIP(c) === ip)) {
      candidates.push({ target: `${svc.name}.${svc.namespace}.svc.${ctx.zones[0]}`, objects: [svcRef(svc)] });
    }
  }
  if (candidates.length === 0) {
    for (const svc of model.services) {
      if (svc.type === 'ExternalName') continue;
      for (const ep of dnsEndpoints(model, svc, config)) {
        if (ep.ip !== ip) continue;
        const target = `${ep.hostname}.${svc.name}.${svc.namespace}.svc.${ctx.zones[0]}`;
        if (!candidates.some((c) => c.target === target)) {
          candidates.push({ target, objects: [svcRef(svc), ep.slice] });
        }
      }
    }
  }
  if (candidates.length === 0) return notFound(`${ip} is no ClusterIP and no ready endpoint address`);
  const objects = [...new Set(candidates.flatMap((c) => c.objects))];
  if (type !== 'PTR') return nodata(`a reverse name has only a PTR record`, objects);
  return answer({
    rcode: 'NOERROR',
    answers: candidates.map((c) => ({ name, type: 'PTR', data: c.target, ttl: config.ttl })),
    match: candidates.length > 1 ? 'any' : 'all',
    reason:
      candidates.length > 1
        ? `${ip} is an endpoint of ${candidates.length} services; CoreDNS answers with one of them`
        : `${ip} belongs to ${objects[0]} (spec ${objects.length > 1 ? '2.4.3' : '2.3.3'})`,
    objects,
  });
}

/**
 * The cluster domain as the cluster's configuration states it: the zone of CoreDNS's
 * kubernetes plugin, else kubelet's clusterDomain (kubeadm's kubelet-config ConfigMap), else
 * the search list of a pod's resolv.conf in the bundle. undefined when none is visible.
 */
export function clusterDomainOf(model: ClusterModel): string | undefined {
  return findClusterDomain(model)?.domain;
}

/** The cluster domain to use: the one given (--cluster-domain), else found, else cluster.local; and why. */
export function chooseClusterDomain(model: ClusterModel, given?: string): { domain: string; source: string } {
  const found = findClusterDomain(model);
  return {
    domain: normalizeName(given ?? found?.domain ?? 'cluster.local'),
    source: given
      ? '--cluster-domain'
      : (found?.source ?? 'default: no CoreDNS or kubelet configuration in the input'),
  };
}

/** clusterDomainOf, with where it was found. */
export function findClusterDomain(model: ClusterModel): { domain: string; source: string } | undefined {
  const coredns = coreDnsConfigOf(model);
  const fromCorefile = coredns ? forwardZone(coredns) : undefined;
  if (fromCorefile && coredns) return { domain: fromCorefile, source: coredns.origin };
  for (const cm of model.configMaps) {
    if (cm.namespace !== 'kube-system' || !cm.name.startsWith('kubelet-config')) continue;
    const m = /^\s*clusterDomain:\s*["']?([A-Za-z0-9.-]+)["']?\s*$/m.exec(cm.data.kubelet ?? '');
    if (m) return { domain: normalizeName(m[1]), source: `configmap/kube-system/${cm.name} clusterDomain` };
  }
  for (const node of model.nodeFiles.nodes()) {
    for (const dir of model.nodeFiles.list(node, 'pods')) {
      const path = `pods/${dir}/resolv.conf`;
      const text = model.nodeFiles.read(node, path);
      if (!text) continue;
      for (const line of text.split('\n')) {
        const m = /^\s*search\s+(.*)$/.exec(line);
        if (!m) continue;
        for (const domain of m[1].trim().split(/\s+/)) {
          const d = /^[^.]+\.svc\.(.+?)\.?$/.exec(domain);
          if (d)
            return {
              domain: normalizeName(d[1]),
              source: `search list of ${model.nodeFiles.describe(node, path)}`,
            };
        }
      }
    }
  }
  return undefined;
}
