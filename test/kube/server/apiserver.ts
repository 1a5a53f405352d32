// A test Kubernetes API server: HTTPS with a CA made at test time, bearer-token and
// client-certificate authentication, objects served at the real paths with limit/continue,
// label and field selectors, metadata-only answers (PartialObjectMetadataList), discovery,
// Status errors (401/403/404/410/500 and hanging
// requests), pod create/delete with a simulated kubelet, and the exec and port-forward
// websocket subresources (the channel protocols as client-node speaks them).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Raw } from '../../../src/model/normalize.js';
import { parseFieldSelector, parseLabelSelector, SelectorError } from './selectors.js';
import { makePki, type TestPki } from './tls.js';
import { acceptUpgrade, type WsConnection } from './websocket.js';

interface Served {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

const CORE: Served[] = [
  { group: '', version: 'v1', resource: 'namespaces', kind: 'Namespace', namespaced: false },
  { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', resource: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', resource: 'endpoints', kind: 'Endpoints', namespaced: true },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', resource: 'secrets', kind: 'Secret', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'daemonsets', kind: 'DaemonSet', namespaced: true },
  { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    resource: 'endpointslices',
    kind: 'EndpointSlice',
    namespaced: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'networkpolicies',
    kind: 'NetworkPolicy',
    namespaced: true,
  },
  { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses', kind: 'Ingress', namespaced: true },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'ingressclasses',
    kind: 'IngressClass',
    namespaced: false,
  },
];

const GW = 'gateway.networking.k8s.io';
const GATEWAY: Served[] = [
  { group: GW, version: 'v1', resource: 'gatewayclasses', kind: 'GatewayClass', namespaced: false },
  { group: GW, version: 'v1', resource: 'gateways', kind: 'Gateway', namespaced: true },
  { group: GW, version: 'v1', resource: 'httproutes', kind: 'HTTPRoute', namespaced: true },
  { group: GW, version: 'v1', resource: 'grpcroutes', kind: 'GRPCRoute', namespaced: true },
  { group: GW, version: 'v1beta1', resource: 'referencegrants', kind: 'ReferenceGrant', namespaced: true },
  { group: GW, version: 'v1beta1', resource: 'gateways', kind: 'Gateway', namespaced: true },
  { group: GW, version: 'v1beta1', resource: 'httproutes', kind: 'HTTPRoute', namespaced: true },
];

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  user?: string;
  status?: number;
  /** The JSON body of a write. */
  body?: Raw;
  /** The Accept header. */
  accept?: string;
  /** "list pods", "create pods/exec", …: the RBAC view of the request. */
  verb?: string;
  resource?: string;
  namespace?: string;
}

export interface ForbidRule {
  verb?: string;
  /** Plural resource, with subresource if any ("pods/exec"). */
  resource: string;
  group?: string;
  /** Only in this namespace ("" = only cluster-scope requests); any when absent. */
  namespace?: string;
}

export interface Fault {
  method?: string;
  /** Matches the path (without query). */
  path: RegExp;
  /** Answer this Status code... */
  status?: number;
  reason?: string;
  message?: string;
  /** ...or never answer (a hung server). */
  hang?: boolean;
  /** Only for requests that carry a continue token (for 410 Expired). */
  withContinue?: boolean;
  /** How many times it fires (default: always). */
  times?: number;
  /** Answer normally, but only after this delay (a slow server). */
  delayMs?: number;
  /** A Retry-After header (seconds) on the error answer. */
  retryAfter?: number;
  /** Answer this body (with `status`, default 200) instead: a captive portal's HTML page. */
  body?: string;
  contentType?: string;
  /** For a pod create: store the pod at once, answer after this delay (a slow create). */
  createDelayMs?: number;
}

export interface ExecContext {
  namespace: string;
  pod: Raw;
  container: string;
  command: string[];
}

export interface ExecIo {
  stdout(data: string | Buffer): void;
  stderr(data: string | Buffer): void;
  /** Cuts the connection abruptly (a node or network failure mid-stream). */
  destroy(): void;
  /** The client went away. */
  closed(): boolean;
}

export type ExecHandler = (ctx: ExecContext, io: ExecIo) => Promise<number>;

export type KubeletDecision =
  | { run: true; delayMs?: number }
  | { waiting: string; message?: string; delayMs?: number }
  | { pending: true };

export interface TestApiServerOptions {
  objects: Raw[];
  /** Serve the Gateway API group (CRDs installed). Default: when objects hold Gateway kinds. */
  gateway?: boolean;
  forbid?: ForbidRule[];
  faults?: Fault[];
  exec?: ExecHandler;
  /** Where a port-forward to a pod's port goes (a loopback address the test runs). */
  portForward?: (ctx: {
    namespace: string;
    pod: Raw;
    port: number;
  }) => { host: string; port: number } | undefined;
  /** What the simulated kubelet does with a created pod (default: runs it after 20 ms). */
  kubelet?: (pod: Raw) => KubeletDecision;
  /**
   * Metadata-only answers (Accept: …;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1): served
   * (default), rejected with 406 NotAcceptable, or ignored (the full objects, as old servers).
   */
  partialMetadata?: 'serve' | 'reject' | 'ignore';
  pki?: TestPki;
  /** Resources (plural, e.g. "ingresses") this server does not serve: an older or trimmed API. */
  unserved?: string[];
}

export interface TestApiServer {
  url: string;
  port: number;
  pki: TestPki;
  token: string;
  user: string;
  requests: LoggedRequest[];
  /** Current objects (pods created by clients included). */
  objects(kind: string): Raw[];
  /** Writes a kubeconfig; returns its path. */
  kubeconfig(opts?: KubeconfigOptions): string;
  faults: Fault[];
  forbid: ForbidRule[];
  /** Websocket sessions currently open. */
  openSessions(): number;
  /** The most requests that were in flight at once. */
  maxInFlight(): number;
  /** The most client-created pods that existed at once. */
  maxCreatedPods(): number;
  /** Starts maxInFlight/maxCreatedPods afresh. */
  resetStats(): void;
  close(): Promise<void>;
}

export interface KubeconfigOptions {
  auth?: 'token' | 'cert' | 'stranger-cert' | 'none';
  token?: string;
  namespace?: string;
  context?: string;
  server?: string;
  /** Leave out the CA (the server certificate is then untrusted). */
  noCa?: boolean;
  /** An exec credential plugin instead of a static credential. */
  exec?: { command: string; args?: string[] };
}

function status(
  res: ServerResponse,
  code: number,
  reason: string,
  message: string,
  details?: object,
  headers: Record<string, string> = {},
): void {
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      details,
      code,
    }),
  );
}

function rawStatus(socket: Duplex, code: number, reason: string, message: string): void {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
  socket.end(
    `HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The `as=` of a metadata-only Accept header (PartialObjectMetadata or …List), if any. */
function partialAs(accept: string | undefined): string | undefined {
  const m = /;\s*as=(PartialObjectMetadata(?:List)?)\b/.exec(accept ?? '');
  return m && /;\s*g=meta\.k8s\.io\b/.test(accept ?? '') && /;\s*v=v1\b/.test(accept ?? '')
    ? m[1]
    : undefined;
}

/** An object's metadata alone, as the API sends it for PartialObjectMetadata. */
const partialObject = (o: Raw): Raw => ({
  kind: 'PartialObjectMetadata',
  apiVersion: 'meta.k8s.io/v1',
  metadata: clone(o.metadata),
});

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
const keyOf = (o: Raw) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
const clone = <T>(x: T): T => structuredClone(x);

interface Route {
  served: Served;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export async function startTestApiServer(opts: TestApiServerOptions): Promise<TestApiServer> {
  const pki = opts.pki ?? makePki();
  const token = randomBytes(16).toString('hex');
  const user = 'knet-test';
  const served = [
    ...CORE,
    ...((opts.gateway ?? opts.objects.some((o) => groupOf(String(o.apiVersion)) === GW)) ? GATEWAY : []),
  ].filter((s) => !opts.unserved?.includes(s.resource));
  const store = new Map<string, Map<string, Raw>>();
  let rv = 1000;
  const storeKey = (group: string, kind: string) => `${group}/${kind}`;
  const put = (o: Raw) => {
    const k = storeKey(groupOf(String(o.apiVersion ?? 'v1')), String(o.kind));
    const m = store.get(k) ?? new Map<string, Raw>();
    store.set(k, m);
    const copy = clone(o);
    copy.metadata ??= {};
    copy.metadata.resourceVersion ??= String(++rv);
    copy.metadata.uid ??= randomUUID();
    m.set(keyOf(copy), copy);
    return copy;
  };
  for (const o of opts.objects) put(o);
  const requests: LoggedRequest[] = [];
  const faults = opts.faults ?? [];
  const forbid = opts.forbid ?? [];
  const sessions = new Set<WsConnection>();
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  let maxInFlight = 0;
  const created = new Set<string>();
  let maxCreated = 0;

  const authenticate = (req: IncomingMessage): string | undefined => {
    const h = req.headers.authorization;
    if (h === `Bearer ${token}`) return user;
    const sock = req.socket as TLSSocket;
    if (sock.authorized) {
      const cert = sock.getPeerCertificate();
      const cn = cert?.subject?.CN;
      if (cn) return Array.isArray(cn) ? cn[0] : cn;
    }
    return undefined;
  };

  const forbidden = (verb: string, r: Route): boolean =>
    forbid.some(
      (f) =>
        (f.verb === undefined || f.verb === verb) &&
        f.resource === (r.subresource ? `${r.served.resource}/${r.subresource}` : r.served.resource) &&
        (f.group === undefined || f.group === r.served.group) &&
        (f.namespace === undefined || f.namespace === (r.namespace ?? '')),
    );

  const forbiddenMessage = (who: string, verb: string, r: Route) => {
    const res = r.subresource ? `${r.served.resource}/${r.subresource}` : r.served.resource;
    const qualified = r.served.group ? `${r.served.resource}.${r.served.group}` : r.served.resource;
    const scope = r.namespace ? `in the namespace "${r.namespace}"` : 'at the cluster scope';
    return `${qualified}${r.name ? ` "${r.name}"` : ''} is forbidden: User "${who}" cannot ${verb} resource "${res}" in API group "${r.served.group}" ${scope}`;
  };

  const route = (p: string): Route | 'discovery' | undefined => {
    const parts = p.split('/').filter(Boolean).map(decodeURIComponent);
    let group = '';
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 2) {
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    } else return undefined;
    if (rest.length === 0) return 'discovery';
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [resource, name, subresource] = rest;
    const s = served.find((x) => x.group === group && x.version === version && x.resource === resource);
    if (!s || rest.length > 3) return undefined;
    if (namespace && !s.namespaced) return undefined;
    return { served: s, namespace, name, subresource };
  };

  const objectsOf = (s: Served): Raw[] => [...(store.get(storeKey(s.group, s.kind))?.values() ?? [])];

  const discovery = (p: string, res: ServerResponse) => {
    const json = (body: object) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (p === '/version') return json({ major: '1', minor: '31', gitVersion: 'v1.31.0-knet-test' });
    if (p === '/api') return json({ kind: 'APIVersions', versions: ['v1'] });
    const groups = [...new Set(served.filter((s) => s.group).map((s) => s.group))];
    const versionsOf = (g: string) => [...new Set(served.filter((s) => s.group === g).map((s) => s.version))];
    const groupDoc = (g: string) => ({
      name: g,
      versions: versionsOf(g).map((v) => ({ groupVersion: `${g}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${g}/${versionsOf(g)[0]}`, version: versionsOf(g)[0] },
    });
    if (p === '/apis') return json({ kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDoc) });
    const parts = p.split('/').filter(Boolean);
    if (parts[0] === 'apis' && parts.length === 2 && groups.includes(parts[1])) {
      return json({ kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(parts[1]) });
    }
    const [g, v] = parts[0] === 'api' ? ['', parts[1]] : [parts[1], parts[2]];
    const list = served.filter((s) => s.group === g && s.version === v);
    if (list.length === 0)
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    return json({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: g ? `${g}/${v}` : v,
      resources: list.map((s) => ({
        name: s.resource,
        namespaced: s.namespaced,
        kind: s.kind,
        verbs: ['get', 'list'],
      })),
    });
  };

  const list = (r: Route, url: URL, res: ServerResponse, partial: boolean) => {
    let items = objectsOf(r.served).filter((o) => !r.namespace || o.metadata?.namespace === r.namespace);
    try {
      const ls = url.searchParams.get('labelSelector');
      if (ls) {
        const match = parseLabelSelector(ls);
        items = items.filter((o) => match(o.metadata?.labels ?? {}));
      }
      const fs = url.searchParams.get('fieldSelector');
      if (fs) {
        const match = parseFieldSelector(fs, r.served.kind);
        items = items.filter(match);
      }
    } catch (err) {
      if (err instanceof SelectorError) return status(res, 400, 'BadRequest', err.message);
      throw err;
    }
    items.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    const cont = url.searchParams.get('continue');
    if (cont) {
      let after: string;
      try {
        after = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')).after;
        if (typeof after !== 'string') throw new Error('bad');
      } catch {
        return status(res, 400, 'BadRequest', 'continue key is not valid: invalid continue token');
      }
      items = items.filter((o) => keyOf(o) > after);
    }
    const limit = Number(url.searchParams.get('limit') ?? 0);
    const metadata: Raw = { resourceVersion: String(rv) };
    if (limit > 0 && items.length > limit) {
      const page = items.slice(0, limit);
      metadata.continue = Buffer.from(
        JSON.stringify({ v: 'meta.k8s.io/v1', rv, after: keyOf(page[page.length - 1]) }),
      ).toString('base64url');
      metadata.remainingItemCount = items.length - limit;
      items = page;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify(
        partial
          ? {
              kind: 'PartialObjectMetadataList',
              apiVersion: 'meta.k8s.io/v1',
              metadata,
              items: items.map(partialObject),
            }
          : {
              kind: `${r.served.kind}List`,
              apiVersion: r.served.group ? `${r.served.group}/${r.served.version}` : r.served.version,
              metadata,
              // List items carry no kind/apiVersion, as from a real API server.
              items: items.map(({ kind: _k, apiVersion: _v, ...rest }) => rest),
            },
      ),
    );
  };

  const runKubelet = (pod: Raw) => {
    const decision: KubeletDecision = opts.kubelet?.(pod) ?? { run: true };
    if ('pending' in decision) return;
    const t = setTimeout(() => {
      timers.delete(t);
      const current = store.get(storeKey('', 'Pod'))?.get(keyOf(pod));
      if (!current) return;
      const node = objectsOf(CORE[1]).find((n) => n.metadata?.name === current.spec?.nodeName);
      const hostIP = node?.status?.addresses?.find((a: Raw) => a.type === 'InternalIP')?.address;
      const name = current.spec?.containers?.[0]?.name ?? 'main';
      current.metadata.resourceVersion = String(++rv);
      if ('run' in decision) {
        current.status = {
          phase: 'Running',
          hostIP,
          podIP: current.spec?.hostNetwork ? hostIP : undefined,
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [
            {
              name,
              ready: true,
              restartCount: 0,
              state: { running: { startedAt: new Date().toISOString() } },
            },
          ],
        };
      } else {
        current.status = {
          phase: 'Pending',
          hostIP,
          containerStatuses: [
            {
              name,
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: decision.waiting, message: decision.message } },
            },
          ],
        };
      }
    }, decision.delayMs ?? 20);
    timers.add(t);
  };

  const readBody = (req: IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const verbOf = (method: string, r: Route): string => {
    if (r.subresource === 'exec' || r.subresource === 'portforward') return 'create';
    if (method === 'GET') return r.name ? 'get' : 'list';
    if (method === 'POST') return 'create';
    if (method === 'DELETE') return 'delete';
    if (method === 'PUT') return 'update';
    if (method === 'PATCH') return 'patch';
    return method.toLowerCase();
  };

  const fault = (method: string, p: string, url: URL): Fault | undefined => {
    const f = faults.find(
      (x) =>
        (x.method === undefined || x.method === method) &&
        x.path.test(p) &&
        (!x.withContinue || url.searchParams.has('continue')) &&
        (x.times === undefined || x.times > 0),
    );
    if (f && f.times !== undefined) f.times--;
    return f;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const p = url.pathname;
    const method = req.method ?? 'GET';
    const entry: LoggedRequest = { method, path: p, query: url.searchParams, accept: req.headers.accept };
    requests.push(entry);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => {
      inFlight--;
      entry.status = res.statusCode;
    });
    const who = authenticate(req);
    entry.user = who;
    if (!who) return status(res, 401, 'Unauthorized', 'Unauthorized');
    const f = fault(method, p, url);
    if (f?.hang) return; // never answered; the socket closes with the server
    if (f?.body !== undefined) {
      res.writeHead(f.status ?? 200, { 'Content-Type': f.contentType ?? 'text/html; charset=utf-8' });
      return res.end(f.body);
    }
    if (f?.delayMs) await new Promise((r) => setTimeout(r, f.delayMs));
    else if (f && !f.createDelayMs) {
      const headers: Record<string, string> =
        f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {};
      const message = f.message ?? 'Internal error occurred: injected fault';
      return status(res, f.status ?? 500, f.reason ?? 'InternalError', message, undefined, headers);
    }
    if (p === '/version' || p === '/api' || p === '/apis') return discovery(p, res);
    const r = route(p);
    if (r === 'discovery') return discovery(p, res);
    if (!r) {
      if (/^\/apis\/[^/]+\/?$/.test(p) || /^\/apis\/[^/]+\/[^/]+\/?$/.test(p)) return discovery(p, res);
      return status(res, 404, 'NotFound', 'the server could not find the requested resource');
    }
    const verb = verbOf(method, r);
    Object.assign(entry, { verb, resource: r.served.resource, namespace: r.namespace });
    if (forbidden(verb, r)) return status(res, 403, 'Forbidden', forbiddenMessage(who, verb, r));
    const as = method === 'GET' ? partialAs(req.headers.accept) : undefined;
    const partialMode = opts.partialMetadata ?? 'serve';
    if (as && partialMode === 'reject')
      return status(
        res,
        406,
        'NotAcceptable',
        'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
      );
    const partial = as !== undefined && partialMode === 'serve';
    if (method === 'GET' && !r.name) return list(r, url, res, partial);
    const k = `${r.served.kind === 'Namespace' || !r.served.namespaced ? '' : (r.namespace ?? '')}/${r.name}`;
    const bucket = store.get(storeKey(r.served.group, r.served.kind));
    if (method === 'GET' && !r.subresource) {
      const o = bucket?.get(k);
      if (!o)
        return status(res, 404, 'NotFound', `${r.served.resource} "${r.name}" not found`, {
          name: r.name,
          kind: r.served.resource,
        });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(partial ? partialObject(o) : o));
    }
    if (method === 'POST' && !r.name && r.served.kind === 'Pod' && r.namespace) {
      const body = JSON.parse(await readBody(req));
      entry.body = structuredClone(body);
      body.metadata ??= {};
      if (!body.metadata.name && body.metadata.generateName) {
        body.metadata.name = `${body.metadata.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
      }
      body.metadata.namespace = r.namespace;
      body.metadata.creationTimestamp = new Date().toISOString();
      body.metadata.uid = randomUUID();
      body.status = { phase: 'Pending' };
      body.kind = 'Pod';
      body.apiVersion = 'v1';
      if (store.get(storeKey('', 'Pod'))?.has(keyOf(body))) {
        return status(res, 409, 'AlreadyExists', `pods "${body.metadata.name}" already exists`);
      }
      const pod = put(body);
      created.add(keyOf(pod));
      maxCreated = Math.max(maxCreated, created.size);
      runKubelet(pod);
      if (f?.createDelayMs) await new Promise((r) => setTimeout(r, f.createDelayMs));
      res.writeHead(201, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(pod));
    }
    if (method === 'PATCH' && r.name && r.served.kind === 'Pod' && r.subresource === 'ephemeralcontainers') {
      // kubectl debug's patch: ephemeral containers are added (never removed); the simulated
      // kubelet starts them after 20 ms.
      const o = bucket?.get(k);
      if (!o)
        return status(res, 404, 'NotFound', `pods "${r.name}" not found`, { name: r.name, kind: 'pods' });
      const body = JSON.parse(await readBody(req));
      entry.body = structuredClone(body);
      entry.resource = 'pods/ephemeralcontainers';
      const added: Raw[] = Array.isArray(body?.spec?.ephemeralContainers)
        ? body.spec.ephemeralContainers
        : [];
      const known = new Set((o.spec.ephemeralContainers ?? []).map((c: Raw) => c.name));
      o.spec.ephemeralContainers = [
        ...(o.spec.ephemeralContainers ?? []),
        ...added.filter((c) => !known.has(c.name)),
      ];
      o.metadata.resourceVersion = String(++rv);
      const t = setTimeout(() => {
        timers.delete(t);
        o.status ??= {};
        o.status.ephemeralContainerStatuses = o.spec.ephemeralContainers.map((c: Raw) => ({
          name: c.name,
          image: c.image,
          ready: false,
          restartCount: 0,
          state: { running: { startedAt: new Date().toISOString() } },
        }));
      }, 20);
      timers.add(t);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(o));
    }
    if (method === 'DELETE' && r.name && r.served.kind === 'Pod') {
      const o = bucket?.get(k);
      if (!o)
        return status(res, 404, 'NotFound', `pods "${r.name}" not found`, { name: r.name, kind: 'pods' });
      bucket?.delete(k);
      created.delete(k);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(
        JSON.stringify({ ...o, metadata: { ...o.metadata, deletionTimestamp: new Date().toISOString() } }),
      );
    }
    return status(
      res,
      405,
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource`,
    );
  };

  const upgrade = (req: IncomingMessage, socket: Duplex) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const entry: LoggedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams };
    requests.push(entry);
    const who = authenticate(req);
    entry.user = who;
    if (!who) return rawStatus(socket, 401, 'Unauthorized', 'Unauthorized');
    const r = route(url.pathname);
    if (!r || r === 'discovery' || r.served.kind !== 'Pod' || !r.name || !r.namespace) {
      return rawStatus(socket, 404, 'NotFound', 'the server could not find the requested resource');
    }
    Object.assign(entry, { verb: 'create', resource: `pods/${r.subresource}`, namespace: r.namespace });
    if (forbidden('create', r))
      return rawStatus(socket, 403, 'Forbidden', forbiddenMessage(who, 'create', r));
    const pod = store.get(storeKey('', 'Pod'))?.get(`${r.namespace}/${r.name}`);
    if (!pod) return rawStatus(socket, 404, 'NotFound', `pods "${r.name}" not found`);
    if (r.subresource === 'exec') {
      const container = url.searchParams.get('container') ?? pod.spec?.containers?.[0]?.name;
      if (pod.status?.phase !== 'Running') {
        return rawStatus(
          socket,
          400,
          'BadRequest',
          `pod ${r.name} is not running (phase ${pod.status?.phase})`,
        );
      }
      const ws = acceptUpgrade(req, socket, ['v5.channel.k8s.io', 'v4.channel.k8s.io']);
      if (!ws) return;
      sessions.add(ws);
      ws.on('close', () => sessions.delete(ws));
      const command = url.searchParams.getAll('command');
      const io: ExecIo = {
        stdout: (d) => {
          const b = typeof d === 'string' ? Buffer.from(d) : d;
          for (let i = 0; i < b.length; i += 32 * 1024) ws.sendChannel(1, b.subarray(i, i + 32 * 1024));
        },
        stderr: (d) => ws.sendChannel(2, d),
        destroy: () => socket.destroy(),
        closed: () => ws.closed,
      };
      const handler = opts.exec ?? (async () => 0);
      handler({ namespace: r.namespace, pod, container: String(container), command }, io).then(
        (code) => {
          if (ws.closed) return;
          ws.sendChannel(
            3,
            JSON.stringify(
              code === 0
                ? { metadata: {}, status: 'Success' }
                : {
                    metadata: {},
                    status: 'Failure',
                    message: `command terminated with non-zero exit code: exit status ${code}`,
                    reason: 'NonZeroExitCode',
                    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
                  },
            ),
          );
          ws.close(1000);
        },
        (err: Error) => {
          if (ws.closed) return;
          ws.sendChannel(
            3,
            JSON.stringify({
              metadata: {},
              status: 'Failure',
              message: err.message,
              reason: 'InternalError',
            }),
          );
          ws.close(1000);
        },
      );
      return;
    }
    if (r.subresource === 'portforward') {
      const port = Number(url.searchParams.get('ports'));
      const target = opts.portForward?.({ namespace: r.namespace, pod, port });
      const ws = acceptUpgrade(req, socket, ['v4.channel.k8s.io']);
      if (!ws) return;
      sessions.add(ws);
      ws.on('close', () => sessions.delete(ws));
      const portBytes = Buffer.alloc(2);
      portBytes.writeUInt16LE(port, 0);
      ws.sendChannel(0, portBytes);
      ws.sendChannel(1, portBytes);
      if (!target) {
        ws.sendChannel(1, `an error occurred forwarding ${port} -> ${port}: nothing listens on port ${port}`);
        ws.close(1000);
        return;
      }
      const tcp = net.connect(target.port, target.host);
      const pending: Buffer[] = [];
      let connected = false;
      tcp.on('connect', () => {
        connected = true;
        for (const b of pending) tcp.write(b);
      });
      tcp.on('data', (d: Buffer) => ws.sendChannel(0, d));
      tcp.on('error', (err) => {
        ws.sendChannel(1, `an error occurred forwarding ${port} -> ${port}: ${err.message}`);
        ws.close(1000);
      });
      tcp.on('end', () => ws.close(1000));
      ws.on('message', (data: Buffer) => {
        if (data[0] !== 0) return;
        const payload = data.subarray(1);
        if (connected) tcp.write(payload);
        else pending.push(payload);
      });
      ws.on('close', () => tcp.destroy());
      return;
    }
    return rawStatus(socket, 404, 'NotFound', `unknown subresource ${r.subresource}`);
  };

  const server = https.createServer(
    { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      handle(req, res).catch((err: Error) => {
        if (!res.headersSent) status(res, 500, 'InternalError', `test server: ${err.message}`);
      });
    },
  );
  server.on('upgrade', (req, socket) => upgrade(req, socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const kcDir = mkdtempSync(path.join(os.tmpdir(), 'knet9-kubeconfig-'));
  let kcCount = 0;

  return {
    url,
    port,
    pki,
    token,
    user,
    requests,
    faults,
    forbid,
    objects: (kind) =>
      [...store.entries()].filter(([k]) => k.endsWith(`/${kind}`)).flatMap(([, m]) => [...m.values()]),
    openSessions: () => sessions.size,
    maxInFlight: () => maxInFlight,
    maxCreatedPods: () => maxCreated,
    resetStats: () => {
      maxInFlight = inFlight;
      maxCreated = created.size;
    },
    kubeconfig: (o = {}) => {
      const auth = o.auth ?? 'token';
      const userEntry: Raw = {};
      if (o.exec)
        userEntry.exec = {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: o.exec.command,
          args: o.exec.args ?? [],
          interactiveMode: 'Never',
        };
      else if (auth === 'token') userEntry.token = o.token ?? token;
      else if (auth === 'cert')
        Object.assign(userEntry, {
          'client-certificate': pki.clientCertFile,
          'client-key': pki.clientKeyFile,
        });
      else if (auth === 'stranger-cert')
        Object.assign(userEntry, {
          'client-certificate': pki.strangerCertFile,
          'client-key': pki.strangerKeyFile,
        });
      const context = o.context ?? 'knet-test';
      const cfg = {
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': context,
        clusters: [
          {
            name: 'test-cluster',
            cluster: { server: o.server ?? url, ...(o.noCa ? {} : { 'certificate-authority': pki.caFile }) },
          },
        ],
        users: [{ name: 'test-user', user: userEntry }],
        contexts: [
          {
            name: context,
            context: {
              cluster: 'test-cluster',
              user: 'test-user',
              ...(o.namespace ? { namespace: o.namespace } : {}),
            },
          },
        ],
      };
      const file = path.join(kcDir, `kubeconfig-${++kcCount}.json`);
      writeFileSync(file, JSON.stringify(cfg, null, 2));
      return file;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sessions) s.socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(kcDir, { recursive: true, force: true });
      if (!opts.pki) rmSync(pki.dir, { recursive: true, force: true });
    },
  };
}
