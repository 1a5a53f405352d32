// Parser for CNI network configuration files (snapshot.md: nodes/NODE/cni/, the files of
// /etc/cni/net.d/). Two shapes exist, both JSON (CNI spec, "Network Configuration"):
//   *.conflist  {"cniVersion", "name", "plugins": [{"type": …}, …]}        a plugin chain
//   *.conf/json {"cniVersion", "name", "type": …, …}                         one plugin
// The container runtime (containerd, CRI-O through libcni) loads the first file of the
// directory in lexical order whose extension is .conf, .conflist or .json; other files (a
// calico-kubeconfig, a leftover YAML) are ignored. Pure text → structure; bad input throws a
// ParseError that names the file and line.
import { guardParse, lineOfOffset, ParseError, parseJsonText } from '../core/errors.js';

export interface CniIpamRange {
  /** A CIDR, or the literal "usePodCidr" (host-local as Calico/Canal configure it). */
  subnet: string;
  rangeStart?: string;
  rangeEnd?: string;
  gateway?: string;
}

export interface CniIpam {
  /** host-local, calico-ipam, whereabouts, static, dhcp, azure-vnet-ipam, … */
  type: string;
  /** Every range of every range set (host-local `ranges`, the legacy `subnet`, whereabouts `range`). */
  ranges: CniIpamRange[];
  /** Route destinations the IPAM plugin installs in the pod. */
  routes: string[];
  /** Static addresses (the static IPAM plugin). */
  addresses: string[];
}

export interface CniPlugin {
  type: string;
  name?: string;
  /** The bridge plugin's bridge (the plugin's default "cni0" when unset). */
  bridge?: string;
  isGateway?: boolean;
  isDefaultGateway?: boolean;
  ipMasq?: boolean;
  hairpinMode?: boolean;
  mtu?: number;
  ipam?: CniIpam;
  /** flannel: the plugin it delegates to (bridge by default). */
  delegate?: CniPlugin;
  /** Capabilities the plugin asks the runtime for (portMappings, bandwidth, …). */
  capabilities: string[];
  /** The 1-based line where the plugin's object starts, for evidence. */
  line: number;
}

export interface CniConfig {
  file: string;
  /** conflist: a "plugins" chain; conf: a single plugin. */
  format: 'conflist' | 'conf';
  name: string;
  cniVersion?: string;
  plugins: CniPlugin[];
}

const CONFIG_EXTENSIONS = ['.conf', '.conflist', '.json'];

/** Files the runtime would consider as network configs (libcni's ConfFiles extensions). */
export function isCniConfigFile(name: string): boolean {
  return CONFIG_EXTENSIONS.some((ext) => name.endsWith(ext)) && !name.startsWith('.');
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Finds where `"key"` first appears at or after `from`: a best-effort line for structural errors. */
function lineOfKey(text: string, key: string, from = 0): number {
  const at = text.indexOf(`"${key}"`, from);
  return at < 0 ? 1 : lineOfOffset(text, at);
}

function parseIpam(raw: Json): CniIpam {
  const ranges: CniIpamRange[] = [];
  const addRange = (r: unknown) => {
    if (!isObject(r)) return;
    const subnet = str(r.subnet) ?? str(r.range);
    if (!subnet) return;
    ranges.push({
      subnet,
      rangeStart: str(r.rangeStart) ?? str(r.range_start),
      rangeEnd: str(r.rangeEnd) ?? str(r.range_end),
      gateway: str(r.gateway),
    });
  };
  // host-local: "ranges": [[{subnet…}, …], …] (a list of range sets); legacy: "subnet" at the top.
  if (Array.isArray(raw.ranges)) {
    for (const set of raw.ranges) {
      if (Array.isArray(set)) for (const r of set) addRange(r);
      else addRange(set);
    }
  }
  addRange(raw);
  // whereabouts: "ipRanges": [{"range": "…"}]
  if (Array.isArray(raw.ipRanges)) for (const r of raw.ipRanges) addRange(r);
  const routes = (Array.isArray(raw.routes) ? raw.routes : [])
    .map((r) => (isObject(r) ? str(r.dst) : undefined))
    .filter((d): d is string => Boolean(d));
  const addresses = (Array.isArray(raw.addresses) ? raw.addresses : [])
    .map((a) => (isObject(a) ? str(a.address) : undefined))
    .filter((a): a is string => Boolean(a));
  return { type: str(raw.type) ?? '', ranges, routes, addresses };
}

function parsePlugin(raw: unknown, text: string, file: string, where: string, from: number): CniPlugin {
  const line = lineOfOffset(text, Math.max(0, from));
  if (!isObject(raw)) throw new ParseError(file, line, `${where} is not a JSON object`);
  const type = str(raw.type);
  if (!type) throw new ParseError(file, line, `${where} has no "type" (the CNI plugin to run)`);
  const capabilities = isObject(raw.capabilities)
    ? Object.entries(raw.capabilities)
        .filter(([, on]) => on === true)
        .map(([k]) => k)
    : [];
  const plugin: CniPlugin = { type, capabilities, line };
  const name = str(raw.name);
  if (name) plugin.name = name;
  const bridge = str(raw.bridge);
  if (bridge) plugin.bridge = bridge;
  for (const key of ['isGateway', 'isDefaultGateway', 'ipMasq', 'hairpinMode'] as const) {
    const v = bool(raw[key]);
    if (v !== undefined) plugin[key] = v;
  }
  const mtu = num(raw.mtu);
  if (mtu !== undefined && mtu > 0) plugin.mtu = mtu;
  if (isObject(raw.ipam) && Object.keys(raw.ipam).length > 0) plugin.ipam = parseIpam(raw.ipam);
  if (isObject(raw.delegate)) {
    // flannel's delegate has no "type" of its own by default: flannel fills in "bridge".
    const delegate = { type: 'bridge', ...raw.delegate };
    plugin.delegate = parsePlugin(
      delegate,
      text,
      file,
      `${where}.delegate`,
      text.indexOf('"delegate"', from),
    );
  }
  return plugin;
}

/** Parses one file of /etc/cni/net.d (a .conflist, or a single-plugin .conf/.json). */
function parseCniConfigUnguarded(text: string, file: string): CniConfig {
  if (text.trim() === '') throw new ParseError(file, 1, 'empty CNI config file');
  const doc = parseJsonText(text, file);
  if (!isObject(doc)) throw new ParseError(file, 1, 'a CNI config must be a JSON object');
  const name = str(doc.name);
  const cniVersion = str(doc.cniVersion);
  if ('plugins' in doc || file.endsWith('.conflist')) {
    if (!Array.isArray(doc.plugins)) {
      throw new ParseError(file, lineOfKey(text, 'plugins'), 'a .conflist needs a "plugins" array');
    }
    if (doc.plugins.length === 0)
      throw new ParseError(file, lineOfKey(text, 'plugins'), '"plugins" is empty');
    if (!name) throw new ParseError(file, 1, 'the network config list has no "name"');
    // Locate each plugin object in the text, in order, for line numbers.
    let cursor = text.indexOf('"plugins"');
    const plugins = doc.plugins.map((p, i) => {
      const at = text.indexOf('{', cursor + 1);
      cursor = at >= 0 ? skipObject(text, at) : cursor;
      return parsePlugin(p, text, file, `plugins[${i}]`, at);
    });
    return { file, format: 'conflist', name, cniVersion, plugins };
  }
  if (!name) throw new ParseError(file, 1, 'the network config has no "name"');
  return { file, format: 'conf', name, cniVersion, plugins: [parsePlugin(doc, text, file, 'the config', 0)] };
}

/** The offset just past the JSON object that starts at `start` (strings and nesting respected). */
function skipObject(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{') depth++;
    else if (ch === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return text.length;
}

/** parseCniConfig, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseCniConfig: typeof parseCniConfigUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseCniConfigUnguarded(...args));
