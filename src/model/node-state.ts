// Per-node dataplane state: the node's interfaces, routes and sysctls, and the network
// namespaces of its pods, parsed from the node files on first use and kept with the model.
// A missing file is `undefined` (the analysis then says which file would have answered);
// a malformed one throws a ParseError naming the file and line.

import { ParseError } from '../core/errors.js';
import { type CiliumService, parseCiliumServiceList } from '../parsers/cilium.js';
import { type CniConfig, isCniConfigFile, parseCniConfig } from '../parsers/cni.js';
import {
  type BridgeFdb,
  type IpAddrInterface,
  type IpLink,
  type IpNeigh,
  type IpRoute,
  type IpRule,
  parseBridgeFdb,
  parseIpAddr,
  parseIpLink,
  parseIpNeigh,
  parseIpRoute,
  parseIpRule,
} from '../parsers/iproute2.js';
import { type IptablesDump, parseIptablesSave } from '../parsers/iptables-save.js';
import { type IpvsDump, parseIpvsadm } from '../parsers/ipvsadm.js';
import { type NftRuleset, parseNftJson } from '../parsers/nft.js';
import { parseResolvConf, type ResolvConf } from '../parsers/resolv-conf.js';
import { parseSysctl } from '../parsers/sysctl.js';
import type { ClusterModel } from './cluster.js';
import type { Pod } from './types.js';

/** The node's CNI configuration directory (nodes/NODE/cni/, the files of /etc/cni/net.d/). */
export interface CniConfigs {
  /** Every file of the folder, as bundle paths. */
  files: string[];
  /** The network configs that parse, in the runtime's (lexical) order. */
  configs: CniConfig[];
  /** The network configs that do not parse: a finding, not an error. */
  invalid: { file: string; error: ParseError }[];
}

/** The node files holding the Cilium agent's view (node collection execs into the agent). */
export const CILIUM_FILES = {
  services: 'cilium-service-list.json',
} as const;

export interface ListeningSocket {
  protocol: 'TCP' | 'UDP';
  address: string;
  port: number;
}

export interface PodNetState {
  addrs?: IpAddrInterface[];
  routes?: IpRoute[];
  listening?: ListeningSocket[];
  /** The pod namespace's own netfilter rules (a sidecar's REDIRECT, the application's firewall). */
  iptables?: IptablesDump;
  ip6tables?: IptablesDump;
  nft?: NftRuleset;
  /** Which of the pod's files exist, as bundle paths (for evidence). */
  files: Record<string, string>;
}

export class NodeState {
  constructor(
    private readonly model: ClusterModel,
    readonly node: string,
  ) {}

  private cache = new Map<string, unknown>();

  private parsed<T>(file: string, parse: (text: string, shown: string) => T): T | undefined {
    if (this.cache.has(file)) return this.cache.get(file) as T | undefined;
    const text = this.model.nodeFiles.read(this.node, file);
    const value =
      text === undefined ? undefined : parse(text, this.model.nodeFiles.describe(this.node, file));
    this.cache.set(file, value);
    return value;
  }

  /** Drops what was parsed from these files: read again when next asked for. */
  forget(files: readonly string[]): void {
    for (const f of files) this.cache.delete(f);
  }

  /** The bundle path of a node file, for evidence and NO_NODE_DATA messages. */
  describe(file: string): string {
    return this.model.nodeFiles.describe(this.node, file);
  }

  get addrs(): IpAddrInterface[] | undefined {
    return this.parsed('ip-addr.json', parseIpAddr);
  }

  get links(): IpLink[] | undefined {
    return this.parsed('ip-link.json', parseIpLink);
  }

  get routes(): IpRoute[] | undefined {
    return this.parsed('ip-route.json', parseIpRoute);
  }

  get sysctl(): Map<string, string> | undefined {
    return this.parsed('sysctl.txt', parseSysctl);
  }

  /** The node's iptables rules (either back end), parsed lazily chain by chain. */
  get iptables(): IptablesDump | undefined {
    return this.dump('iptables-save.txt');
  }

  get ip6tables(): IptablesDump | undefined {
    return this.dump('ip6tables-save.txt');
  }

  /** A rule dump: through its chain table when it has one (only the chains read are read). */
  private dump(file: string): IptablesDump | undefined {
    if (!this.cache.has(file)) {
      const indexed = this.model.nodeFiles.indexedDump?.(this.node, file);
      if (indexed) this.cache.set(file, indexed);
    }
    return this.parsed(
      file,
      blankIsAbsent((t, f) => parseIptablesSave(t, f, { lazy: true })),
    );
  }

  /** IPVS virtual servers (`ipvsadm -Sn`). */
  get ipvs(): IpvsDump | undefined {
    return this.parsed('ipvsadm.txt', parseIpvsadm);
  }

  /** Every nftables table of the node (`nft -j list ruleset`). */
  get nft(): NftRuleset | undefined {
    return this.parsed('nft.json', blankIsAbsent(parseNftJson));
  }

  /** The Cilium agent's load-balancing table (`cilium-dbg service list -o json`). */
  get ciliumServices(): CiliumService[] | undefined {
    return this.parsed(CILIUM_FILES.services, parseCiliumServiceList);
  }

  /** Policy routing rules (`ip -j rule show`). */
  get ipRules(): IpRule[] | undefined {
    return this.parsed('ip-rule.json', parseIpRule);
  }

  /** ARP/NDP entries, including the overlay's VTEP neighbours. */
  get neigh(): IpNeigh[] | undefined {
    return this.parsed('ip-neigh.json', parseIpNeigh);
  }

  /** Bridge and VXLAN forwarding entries. */
  get fdb(): BridgeFdb[] | undefined {
    return this.parsed('bridge-fdb.json', parseBridgeFdb);
  }

  /** The CNI network configurations; a config that does not parse is listed, not thrown. */
  get cniConfigs(): CniConfigs {
    const key = 'cni/';
    if (this.cache.has(key)) return this.cache.get(key) as CniConfigs;
    const files = this.model.nodeFiles;
    const names = files.list(this.node, 'cni').sort();
    const loaded: CniConfigs = {
      files: names.map((n) => files.describe(this.node, `cni/${n}`)),
      configs: [],
      invalid: [],
    };
    for (const name of names.filter(isCniConfigFile)) {
      const text = files.read(this.node, `cni/${name}`);
      if (text === undefined) continue;
      const shown = files.describe(this.node, `cni/${name}`);
      try {
        loaded.configs.push(parseCniConfig(text, shown));
      } catch (err) {
        if (err instanceof ParseError) loaded.invalid.push({ file: shown, error: err });
        else throw err;
      }
    }
    this.cache.set(key, loaded);
    return loaded;
  }

  /** The node's resolver file (kubelet --resolv-conf), when the bundle carries it. */
  get resolvConf(): ResolvConf | undefined {
    return this.parsed('resolv.conf', parseResolvConf);
  }

  /** The pod's own /etc/resolv.conf, when the bundle carries it. */
  podResolvConf(pod: Pod): ResolvConf | undefined {
    return this.parsed(`${podDir(pod)}/resolv.conf`, parseResolvConf);
  }

  /** The node's own listening sockets (host-network processes). */
  get listening(): ListeningSocket[] | undefined {
    return this.parsed('ss.txt', parseSsListening);
  }

  /** True when any dataplane file of this node is present. */
  get hasData(): boolean {
    return this.model.nodeFiles.nodes().includes(this.node);
  }

  pod(pod: Pod): PodNetState {
    const dir = podDir(pod);
    const key = `pod:${dir}`;
    if (this.cache.has(key)) return this.cache.get(key) as PodNetState;
    const files: Record<string, string> = {};
    const read = <T>(name: string, parse: (text: string, shown: string) => T): T | undefined => {
      const rel = `${dir}/${name}`;
      const text = this.model.nodeFiles.read(this.node, rel);
      if (text === undefined) return undefined;
      files[name] = this.model.nodeFiles.describe(this.node, rel);
      return parse(text, files[name]);
    };
    const state: PodNetState = {
      addrs: read('ip-addr.json', parseIpAddr),
      routes: read('ip-route.json', parseIpRoute),
      listening: read('ss.txt', parseSsListening),
      iptables: read('iptables-save.txt', (t, f) => parseIptablesSave(t, f)),
      ip6tables: read('ip6tables-save.txt', (t, f) => parseIptablesSave(t, f)),
      nft: read('nft.json', parseNftJson),
      files,
    };
    this.cache.set(key, state);
    return state;
  }
}

/** A pod's folder below nodes/NODE/ (snapshot.md). */
function podDir(pod: Pod): string {
  return `pods/${pod.namespace}_${pod.name}`;
}

/** An empty rule dump (a table-less iptables-save, no nft) says nothing: it counts as absent. */
function blankIsAbsent<T>(
  parse: (text: string, shown: string) => T,
): (text: string, shown: string) => T | undefined {
  return (text, shown) => (text.trim() === '' ? undefined : parse(text, shown));
}

const states = new WeakMap<ClusterModel, Map<string, NodeState>>();

export function nodeState(model: ClusterModel, node: string): NodeState {
  let byNode = states.get(model);
  if (!byNode) {
    byNode = new Map();
    states.set(model, byNode);
  }
  let state = byNode.get(node);
  if (!state) {
    state = new NodeState(model, node);
    byNode.set(node, state);
  }
  return state;
}

/**
 * `ss -H -lntu` lines: `tcp LISTEN 0 4096 0.0.0.0:8080 0.0.0.0:*` or, for UDP,
 * `udp UNCONN 0 0 [::]:53 [::]:*`. Local address is the 5th column (Netid first with -u -t).
 */
export function parseSsListening(text: string, file: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const cols = line.split(/\s+/);
    const netid = cols[0]?.toLowerCase();
    if ((netid !== 'tcp' && netid !== 'udp') || cols.length < 5) {
      throw new ParseError(
        file,
        i + 1,
        `expected \`ss -H -lntu\` output (Netid State Recv-Q Send-Q Local Peer), got: ${line.slice(0, 60)}`,
      );
    }
    const local = cols[4];
    const m = /^(.*):(\d+|\*)$/.exec(local);
    if (!m || m[2] === '*') return;
    const address = m[1].replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    out.push({ protocol: netid === 'tcp' ? 'TCP' : 'UDP', address, port: Number(m[2]) });
  });
  return out;
}
