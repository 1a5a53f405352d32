// What knet needs from CoreDNS's configuration (the kube-system/coredns ConfigMap's
// Corefile): the kubernetes plugin's zones and the options that change which records exist.
import type { ClusterModel } from '../../model/cluster.js';
import { normalizeName } from './names.js';

export interface CoreDnsConfig {
  /** Zones of the kubernetes plugin, in order; the first forward zone is the cluster domain. */
  zones: string[];
  /** `pods disabled | insecure | verified` (plugin default: disabled). */
  pods: 'disabled' | 'insecure' | 'verified';
  /** Record TTL (plugin default 5). */
  ttl: number;
  /** `namespaces a b`: only these are exposed; empty = all. */
  namespaces: string[];
  endpointPodNames: boolean;
  /** Zones `fallthrough` passes on when a name is not found ([] = every zone of the plugin). */
  fallthrough: string[] | undefined;
  ignoreEmptyService: boolean;
  /** Where this was read from, for evidence. */
  origin: string;
}

/** The plugin's built-in defaults (what a `kubernetes cluster.local` line with no block gets). */
export const PLUGIN_DEFAULTS = { pods: 'disabled', ttl: 5 } as const;

/**
 * The kubeadm default (`pods insecure`, `ttl 30`, `fallthrough in-addr.arpa ip6.arpa`):
 * what knet assumes when the Corefile is not visible.
 */
export function kubeadmDefault(clusterDomain: string): CoreDnsConfig {
  return {
    zones: [clusterDomain, 'in-addr.arpa', 'ip6.arpa'],
    pods: 'insecure',
    ttl: 30,
    namespaces: [],
    endpointPodNames: false,
    fallthrough: ['in-addr.arpa', 'ip6.arpa'],
    ignoreEmptyService: false,
    origin: 'kubeadm default Corefile (the coredns ConfigMap is not in the input)',
  };
}

/** Corefile tokens per line, comments removed; braces are their own tokens. */
function tokenize(text: string): { tokens: string[]; line: number }[] {
  const out: { tokens: string[]; line: number }[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '');
    const tokens = line
      .replace(/([{}])/g, ' $1 ')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    if (tokens.length) out.push({ tokens, line: i + 1 });
  });
  return out;
}

/**
 * Reads the first `kubernetes` plugin of a Corefile. Returns undefined when there is none.
 * Zones given without one (`kubernetes {`) take the server block's zones.
 */
export function parseCorefile(text: string, origin = 'Corefile'): CoreDnsConfig | undefined {
  const lines = tokenize(text);
  let depth = 0;
  let serverZones: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const { tokens } = lines[i];
    if (depth === 0 && tokens.includes('{')) {
      serverZones = tokens
        .slice(0, tokens.indexOf('{'))
        .map((z) => normalizeName(z.replace(/^dns:\/\//, '').replace(/:\d+$/, '')))
        .filter((z) => z !== '');
    }
    if (depth === 1 && tokens[0] === 'kubernetes') {
      const open = tokens.indexOf('{');
      const args = tokens.slice(1, open === -1 ? undefined : open).map(normalizeName);
      const config: CoreDnsConfig = {
        zones: args.length ? args : serverZones,
        pods: PLUGIN_DEFAULTS.pods,
        ttl: PLUGIN_DEFAULTS.ttl,
        namespaces: [],
        endpointPodNames: false,
        fallthrough: undefined,
        ignoreEmptyService: false,
        origin: `${origin}:${lines[i].line}`,
      };
      if (open !== -1 && !tokens.slice(open + 1).includes('}')) {
        for (let j = i + 1; j < lines.length && lines[j].tokens[0] !== '}'; j++) {
          const [opt, ...rest] = lines[j].tokens;
          if (
            opt === 'pods' &&
            (rest[0] === 'insecure' || rest[0] === 'verified' || rest[0] === 'disabled')
          ) {
            config.pods = rest[0];
          } else if (opt === 'ttl' && /^\d+$/.test(rest[0] ?? '')) {
            config.ttl = Number(rest[0]);
          } else if (opt === 'namespaces') {
            config.namespaces = rest;
          } else if (opt === 'endpoint_pod_names') {
            config.endpointPodNames = true;
          } else if (opt === 'fallthrough') {
            config.fallthrough = rest.map(normalizeName);
          } else if (opt === 'ignore' && rest[0] === 'empty_service') {
            config.ignoreEmptyService = true;
          }
        }
      }
      return config;
    }
    for (const t of tokens) {
      if (t === '{') depth++;
      else if (t === '}') depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

/** The kubernetes plugin's configuration from the kube-system/coredns ConfigMap, if visible. */
export function coreDnsConfigOf(model: ClusterModel): CoreDnsConfig | undefined {
  const cm = model.configMap('kube-system', 'coredns');
  const text = cm?.data.Corefile;
  if (!text) return undefined;
  return parseCorefile(text, 'configmap/kube-system/coredns Corefile');
}

/** The first zone of the plugin that is not a reverse zone: the cluster domain. */
export function forwardZone(config: CoreDnsConfig): string | undefined {
  return config.zones.find(
    (z) => z !== '.' && z !== '' && !z.endsWith('in-addr.arpa') && !z.endsWith('ip6.arpa'),
  );
}

/** True when a name-not-found in `name` is passed on to the next plugin instead of NXDOMAIN. */
export function fallsThrough(config: CoreDnsConfig, name: string): boolean {
  if (config.fallthrough === undefined) return false;
  if (config.fallthrough.length === 0) return true;
  return config.fallthrough.some((z) => name === z || name.endsWith(`.${z}`));
}
