// Target syntax (cli.md): KIND/NAME or KIND/NAMESPACE/NAME, optionally :PORT (number or name).
// The one grammar and alias table of every command; analyses/targets.ts resolves what it parses.

import { UserError } from './errors.js';
import { isIP } from './ip.js';

export type TargetKind = 'pod' | 'svc' | 'node' | 'ing' | 'httproute' | 'gateway' | 'ip' | 'dns';

/** Workload kinds a pod target may be named by: resolved to one of its ready pods. */
export type WorkloadKind = 'deploy' | 'sts' | 'ds' | 'rs';

/** A target, parsed from the command line or named by an analysis (a trace's hop to a controller). */
export interface Target<K extends TargetKind = TargetKind> {
  kind: K;
  /** The target was written as a workload (deploy/NS/NAME…): `name` is the workload's until resolved. */
  workload?: WorkloadKind;
  /** Set for namespaced kinds (pod, svc, ing, httproute, gateway); defaulted from -n / the context. */
  namespace?: string;
  /** Object name, IP address, or DNS name. */
  name: string;
  port?: number | string;
  /** As the user wrote it (parsed targets only). */
  text?: string;
}

const KIND_ALIASES: Record<string, TargetKind> = {
  pod: 'pod',
  po: 'pod',
  pods: 'pod',
  svc: 'svc',
  service: 'svc',
  services: 'svc',
  node: 'node',
  no: 'node',
  nodes: 'node',
  ing: 'ing',
  ingress: 'ing',
  ingresses: 'ing',
  httproute: 'httproute',
  httproutes: 'httproute',
  gateway: 'gateway',
  gateways: 'gateway',
  gtw: 'gateway',
  ip: 'ip',
  dns: 'dns',
};

const WORKLOAD_ALIASES: Record<string, WorkloadKind> = {
  deploy: 'deploy',
  deployment: 'deploy',
  deployments: 'deploy',
  sts: 'sts',
  statefulset: 'sts',
  statefulsets: 'sts',
  ds: 'ds',
  daemonset: 'ds',
  daemonsets: 'ds',
  rs: 'rs',
  replicaset: 'rs',
  replicasets: 'rs',
};

// Own keys only: "constructor/x" is not a kind.
const own = <T>(table: Record<string, T>, word: string): T | undefined =>
  Object.hasOwn(table, word) ? table[word] : undefined;

/** The kind a spelling names (a workload word names a pod target), or undefined. */
function kindOfWord(word: string): TargetKind | undefined {
  return own(WORKLOAD_ALIASES, word) ? 'pod' : own(KIND_ALIASES, word);
}

const CLUSTER_SCOPED: readonly TargetKind[] = ['node', 'ip', 'dns'];

/**
 * The namespace a target text names explicitly (KIND/NS/NAME[:PORT], any spelling of a
 * namespaced kind or a workload), else undefined; the rest of the text is not checked.
 */
export function explicitNamespace(text: string): string | undefined {
  const parts = text.replace(/:[^/]*$/, '').split('/');
  if (parts.length !== 3) return undefined;
  const word = parts[0].toLowerCase();
  const kind = kindOfWord(word);
  return kind && !CLUSTER_SCOPED.includes(kind) ? parts[1] : undefined;
}

const FORMS =
  'pod/NAME, pod/NS/NAME, deploy|sts|ds|rs/[NS/]NAME, svc/NS/NAME[:PORT], node/NAME, ing/NS/NAME, httproute/NS/NAME, gateway/NS/NAME, ip/ADDR[:PORT], dns/NAME[:PORT]';

function splitPort(text: string): { rest: string; port?: number | string } {
  const m = /^(.*?):([A-Za-z0-9-]+)$/.exec(text);
  if (!m) return { rest: text };
  return { rest: m[1], port: /^\d+$/.test(m[2]) ? Number(m[2]) : m[2] };
}

export function parseTarget<K extends TargetKind = TargetKind>(
  text: string,
  defaultNamespace: string,
  allowed?: readonly K[],
): Target<K> {
  return parseAny(text, defaultNamespace, allowed) as Target<K>;
}

function parseAny(text: string, defaultNamespace: string, allowed?: readonly TargetKind[]): Target {
  const slash = text.indexOf('/');
  if (slash < 0) throw new UserError(`target "${text}" needs a kind: use ${FORMS}`);
  const word = text.slice(0, slash).toLowerCase();
  const workload = own(WORKLOAD_ALIASES, word);
  const kind = kindOfWord(word);
  if (!kind) throw new UserError(`unknown target kind in "${text}": use ${FORMS}`);
  if (allowed && !allowed.includes(kind)) {
    throw new UserError(
      `target "${text}" is not accepted here: use ${allowed.map((k) => `${k}/…`).join(', ')}`,
    );
  }
  const body = text.slice(slash + 1);
  if (kind === 'ip') {
    // ip/10.0.0.1, ip/10.0.0.1:80, ip/fd00::1, ip/[fd00::1]:80
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(body);
    if (bracket && isIP(bracket[1]))
      return { kind, name: bracket[1], port: bracket[2] ? Number(bracket[2]) : undefined, text };
    if (isIP(body)) return { kind, name: body, text };
    const { rest, port } = splitPort(body);
    if (isIP(rest) && typeof port === 'number' && port > 0 && port < 65536)
      return { kind, name: rest, port, text };
    throw new UserError(
      `"${text}" is not an IP target: use ip/ADDR or ip/ADDR:PORT (ip/[ADDR]:PORT for IPv6)`,
    );
  }
  const { rest, port } = splitPort(body);
  if (port !== undefined && (kind === 'node' || kind === 'gateway')) {
    throw new UserError(`"${text}": a port is not accepted on ${kind}/ targets`);
  }
  const parts = rest.split('/');
  if (kind === 'node' || kind === 'dns') {
    if (parts.length !== 1 || !parts[0]) throw new UserError(`"${text}" is not a valid target: use ${FORMS}`);
    return { kind, name: parts[0], port, text };
  }
  if (parts.length > 2 || parts.some((p) => p === ''))
    throw new UserError(`"${text}" is not a valid target: use ${FORMS}`);
  const [namespace, name] = parts.length === 2 ? parts : [defaultNamespace, parts[0]];
  return { kind, namespace, name, port, text, ...(workload ? { workload } : {}) };
}

/** KIND/NS/NAME (KIND/NAME for cluster-scoped kinds), as findings name objects. */
export function targetRef(t: Pick<Target, 'kind' | 'namespace' | 'name'>): string {
  return t.namespace === undefined || CLUSTER_SCOPED.includes(t.kind)
    ? `${t.kind}/${t.name}`
    : `${t.kind}/${t.namespace}/${t.name}`;
}
