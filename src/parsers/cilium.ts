// `cilium-dbg service list -o json` (the agent's load-balancing table, kube-proxy replacement):
// a JSON array of the API's Service model, `{spec: {id, frontend-address: {ip, port,
// protocol, scope}, backend-addresses: [{ip, port, state, weight, nodeName}], flags: {type,
// name, namespace, …}}, status: {realized: <spec>}}`. The realized spec (what is in the BPF
// maps) wins over the desired one.
import { guardParse, ParseError } from '../core/errors.js';

export interface CiliumBackend {
  ip: string;
  port: number;
  /** active (default), terminating, quarantined, maintenance. */
  state: string;
  weight?: number;
  nodeName?: string;
}

export interface CiliumService {
  id: number;
  frontend: { ip: string; port: number; protocol: string; scope?: string };
  backends: CiliumBackend[];
  /** ClusterIP, NodePort, ExternalIPs, LoadBalancer, HostPort, LocalRedirect. */
  type?: string;
  name?: string;
  namespace?: string;
  /** The entry's position in the file (1-based), for evidence. */
  index: number;
  /** The entry in one line, as `cilium-dbg service list` prints it (evidence). */
  text: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function parseCiliumServiceListUnguarded(text: string, file: string): CiliumService[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ParseError(
      file,
      1,
      `invalid JSON (expected \`cilium-dbg service list -o json\`): ${(err as Error).message}`,
    );
  }
  if (!Array.isArray(doc))
    throw new ParseError(file, 1, 'expected a JSON array (the output of `cilium-dbg service list -o json`)');
  const out: CiliumService[] = [];
  doc.forEach((item, i) => {
    const entry = obj(item);
    const spec = obj(obj(entry?.status)?.realized) ?? obj(entry?.spec);
    const fe = obj(spec?.['frontend-address']);
    const ip = str(fe?.ip);
    if (!spec || !fe || !ip)
      throw new ParseError(
        file,
        1,
        `entry ${i + 1}: no spec.frontend-address.ip (expected \`cilium-dbg service list -o json\`)`,
      );
    const flags = obj(spec.flags);
    const backends: CiliumBackend[] = [];
    const list = spec['backend-addresses'];
    for (const b of Array.isArray(list) ? list : []) {
      const be = obj(b);
      const bip = str(be?.ip);
      if (!be || !bip) continue;
      const backend: CiliumBackend = { ip: bip, port: num(be.port) ?? 0, state: str(be.state) ?? 'active' };
      const weight = num(be.weight);
      if (weight !== undefined) backend.weight = weight;
      const nodeName = str(be.nodeName);
      if (nodeName) backend.nodeName = nodeName;
      backends.push(backend);
    }
    const service: Omit<CiliumService, 'text'> = {
      id: num(spec.id) ?? 0,
      frontend: {
        ip,
        port: num(fe.port) ?? 0,
        protocol: (str(fe.protocol) ?? 'ANY').toUpperCase(),
        ...(str(fe.scope) ? { scope: str(fe.scope) } : {}),
      },
      backends,
      ...(str(flags?.type) ? { type: str(flags?.type) } : {}),
      ...(str(flags?.name) ? { name: str(flags?.name) } : {}),
      ...(str(flags?.namespace) ? { namespace: str(flags?.namespace) } : {}),
      index: i + 1,
    };
    out.push({ ...service, text: serviceLine(service) });
  });
  return out;
}

export const parseCiliumServiceList: typeof parseCiliumServiceListUnguarded = (...args) =>
  guardParse(args[1] ?? '<input>', () => parseCiliumServiceListUnguarded(...args));

/** One line of evidence for an entry, as `cilium-dbg service list` prints it. */
function serviceLine(s: Omit<CiliumService, 'text'>): string {
  const backends = s.backends.map((b) => `${b.ip}:${b.port} (${b.state})`).join(', ');
  return `${s.id} ${s.frontend.ip}:${s.frontend.port}/${s.frontend.protocol}${s.type ? ` ${s.type}` : ''} -> ${backends || 'no backends'}`;
}
