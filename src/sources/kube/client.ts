// A small HTTP client for the Kubernetes API on top of client-node's authentication (TLS,
// tokens, client certificates, exec and OIDC plugins). It returns the raw JSON the API sent
// (the same JSON `kubectl get -o json` prints), so that live reads and bundles build the same
// model, and it turns every failure into one line that says what to do.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { UserError } from '../../core/errors.js';
import type { Raw } from '../../model/normalize.js';
import type { KubeConnection } from './config.js';

export type Verb = 'get' | 'list' | 'create' | 'delete' | 'patch';

/** What a request does, in RBAC terms: used to name a missing permission. */
export interface RequestAction {
  verb: Verb;
  /** Qualified resource: `pods`, `endpointslices.discovery.k8s.io`, `pods/exec`. */
  resource: string;
  namespace?: string;
  name?: string;
}

export interface ClientOptions {
  /** Time for one whole response (default 60 s). */
  requestTimeoutMs?: number;
  /** Time to open the connection, TCP and TLS (default 10 s): an unreachable server is named fast. */
  connectTimeoutMs?: number;
  /** Aborts every request (Ctrl-C). */
  signal?: AbortSignal;
}

/** A Status answer from the API server, as a one-line user error (exit 2). */
export class ApiError extends UserError {
  constructor(
    message: string,
    readonly status: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The most an exec credential plugin may take (KNET_CREDENTIAL_TIMEOUT_MS overrides, for tests). */
const CREDENTIAL_TIMEOUT_MS = Number(process.env.KNET_CREDENTIAL_TIMEOUT_MS) || 15_000;
const MAX_RETRIES = 3;

interface PluginTracker {
  running: Set<ChildProcess>;
  /** Set when a plugin was killed for not answering: every request waiting on one fails so. */
  timedOut?: string;
}

/**
 * The exec credential plugins client-node starts for this kubeconfig: its ExecAuth spawns
 * them (`execFn`) and keeps no handle, so a plugin that never answers would keep knet alive
 * after the timeout. Wrapping execFn records them, so that they can be killed then.
 */
function trackPlugins(kc: unknown): PluginTracker {
  const k = kc as { knetPlugins?: PluginTracker; authenticators?: { execFn?: unknown }[] };
  if (k.knetPlugins) return k.knetPlugins;
  const tracker: PluginTracker = { running: new Set() };
  k.knetPlugins = tracker;
  for (const auth of k.authenticators ?? []) {
    const spawnFn = auth?.execFn;
    if (typeof spawnFn !== 'function') continue;
    auth.execFn = (...args: unknown[]) => {
      const child = (spawnFn as (...a: unknown[]) => ChildProcess)(...args);
      tracker.running.add(child);
      child.on('close', () => tracker.running.delete(child));
      return child;
    };
  }
  return tracker;
}

function scopeOf(a: RequestAction): string {
  return a.namespace ? ` in namespace ${a.namespace}` : ' at the cluster scope';
}

export function describeAction(a: RequestAction): string {
  return `${a.verb} ${a.resource}${a.name ? ` ${a.name}` : ''}${scopeOf(a)}`;
}

const ADMISSION = /violates PodSecurity|admission webhook|denied the request|exceeded quota/;

/** The one-line message for an HTTP error status (pure: tested without a server). */
export function statusMessage(
  status: number,
  body: unknown,
  action: RequestAction,
  conn: { context: string; server: string },
): string {
  const s = (body && typeof body === 'object' ? body : {}) as { message?: unknown; reason?: unknown };
  const detail = typeof s.message === 'string' && s.message ? s.message : undefined;
  if (status === 401) {
    return `authentication failed for context ${conn.context}: ${detail ?? 'Unauthorized'} (the credentials were rejected; renew them or check the kubeconfig user)`;
  }
  if (status === 403 && detail && ADMISSION.test(detail)) {
    // Not RBAC: an admission controller (Pod Security, a policy webhook, a quota) refused it.
    return `the API server refused to ${action.verb} ${action.resource}${scopeOf(action)}: ${detail} (see docs/rbac.md)`;
  }
  if (status === 403) {
    return `forbidden: cannot ${action.verb} ${action.resource}${action.name ? ` ${action.name}` : ''}${scopeOf(action)} (see docs/rbac.md)`;
  }
  if (status === 404) {
    return action.verb === 'list'
      ? `the API server at ${conn.server} does not serve ${action.resource}`
      : `not found: ${action.resource} ${action.name ?? ''}${scopeOf(action)}`.replace('  ', ' ');
  }
  return `the API server at ${conn.server} answered ${status}${s.reason ? ` ${String(s.reason)}` : ''} to ${describeAction(action)}${detail ? `: ${detail}` : ''}`;
}

/** A network error's cause in words. */
export function networkCause(err: NodeJS.ErrnoException & { hostname?: string }): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name not found (${err.hostname ?? 'DNS'})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to the host';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'ETIMEDOUT':
    case 'KNET_CONNECT_TIMEOUT':
      return err.message;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `TLS: ${err.message} (check certificate-authority-data in the kubeconfig)`;
    default:
      return err.code ? `${err.message} (${err.code})` : err.message;
  }
}

/** What a non-JSON answer looks like, in a few words: its <title>, else its first line. */
function describeText(text: string): string {
  const title = /<title[^>]*>([^<]{0,120})/i.exec(text)?.[1]?.trim();
  if (title) return `an HTML page "${title}"`;
  if (/^\s*<(!doctype|html)/i.test(text)) return 'an HTML page';
  const first = text.trim().split('\n')[0].slice(0, 80);
  return first ? `"${first}"` : 'an empty body';
}

/** A 2xx answer that is not a Kubernetes object (exit 2, not an empty cluster). */
export function notKubeMessage(server: string, status: number, what: string, action: RequestAction): string {
  return `the API server at ${server} answered ${status} with ${what}, not a Kubernetes object, to ${describeAction(action)} (is the server URL right, or is a proxy in the way?)`;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export interface RequestInit {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  action: RequestAction;
  /** Statuses returned to the caller instead of thrown (e.g. 404 for an optional object). */
  accept?: number[];
  /** The Accept header (default application/json), e.g. a metadata-only representation. */
  mediaType?: string;
}

export interface Response {
  status: number;
  body: Raw;
}

export class KubeClient {
  readonly requestTimeoutMs: number;
  readonly connectTimeoutMs: number;
  private readonly signal?: AbortSignal;

  constructor(
    readonly conn: KubeConnection,
    opts: ClientOptions = {},
  ) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.connectTimeoutMs = Math.min(
      opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      this.requestTimeoutMs,
    );
    this.signal = opts.signal;
  }

  get context(): string {
    return this.conn.context;
  }

  get server(): string {
    return this.conn.server;
  }

  /** Options with TLS material, the agent and the Authorization header (runs auth plugins). */
  async authOptions(): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { headers: {} };
    // An exec credential plugin that never answers gets the bound of a request, then an error.
    const bound = Math.min(this.requestTimeoutMs, CREDENTIAL_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    const plugins = trackPlugins(this.conn.kc);
    if (plugins.timedOut)
      throw new UserError(`authentication failed for context ${this.conn.context}: ${plugins.timedOut}`);
    try {
      await Promise.race([
        this.conn.kc.applyToHTTPSOptions(opts),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            // The plugin is not left running, nor does it keep knet alive.
            plugins.timedOut = `the credential plugin did not answer within ${Math.round(bound / 1000)} s`;
            for (const child of plugins.running) child.kill('SIGKILL');
            reject(new Error(plugins.timedOut));
          }, bound);
          timer.unref();
        }),
      ]);
    } catch (err) {
      const detail = plugins.timedOut ?? (err as Error).message.split('\n')[0];
      throw new UserError(`authentication failed for context ${this.conn.context}: ${detail}`);
    } finally {
      clearTimeout(timer);
    }
    return opts;
  }

  async get(path: string, init: Omit<RequestInit, 'body'>): Promise<Response> {
    return this.request('GET', path, init);
  }

  async request(
    method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
    path: string,
    init: RequestInit,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.once(method, path, init);
      // 429/503 with Retry-After: the server asks us to come back (priority and fairness).
      if (
        (res.status === 429 || res.status === 503) &&
        res.retryAfter !== undefined &&
        attempt < MAX_RETRIES
      ) {
        await sleep(Math.min(res.retryAfter, 5) * 1000, this.signal);
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        // A captive portal, a wrong URL or a web proxy answers 200 with a page: never an empty cluster.
        if (res.notKube)
          throw new UserError(notKubeMessage(this.conn.server, res.status, res.notKube, init.action));
        return res;
      }
      if (init.accept?.includes(res.status)) return res;
      const body = res.body as { reason?: string } | undefined;
      throw new ApiError(
        statusMessage(res.status, res.body, init.action, this.conn),
        res.status,
        body?.reason,
      );
    }
  }

  private async once(
    method: string,
    path: string,
    init: RequestInit,
  ): Promise<Response & { retryAfter?: number; notKube?: string }> {
    const auth = await this.authOptions();
    const url = new URL(this.conn.server + path);
    for (const [k, v] of Object.entries(init.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
    const headers: Record<string, string | number> = {
      ...(auth.headers as Record<string, string>),
      Accept: init.mediaType ?? 'application/json',
      'User-Agent': 'knet/0.1 (read-only network diagnosis)',
    };
    if (payload) {
      // A PATCH is a strategic merge patch (what kubectl debug sends for ephemeral containers).
      headers['Content-Type'] =
        method === 'PATCH' ? 'application/strategic-merge-patch+json' : 'application/json';
      headers['Content-Length'] = payload.length;
    }
    const lib = url.protocol === 'http:' ? http : https;
    const where = `${describeAction(init.action)}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(totalTimer);
        req.destroy();
        reject(err);
      };
      const unreachable = (cause: string) =>
        new UserError(
          `cannot reach the API server ${this.conn.server} (context ${this.conn.context}): ${cause}`,
        );
      const req = lib.request(url, {
        method,
        headers,
        agent: auth.agent,
        auth: auth.auth,
        signal: this.signal,
      });
      const connectTimer = setTimeout(() => {
        fail(unreachable(`no connection within ${Math.round(this.connectTimeoutMs / 1000)} s`));
      }, this.connectTimeoutMs);
      const totalTimer = setTimeout(() => {
        fail(
          new UserError(
            `the API server ${this.conn.server} did not answer within ${Math.round(this.requestTimeoutMs / 1000)} s (${where})`,
          ),
        );
      }, this.requestTimeoutMs);
      req.on('socket', (socket: Socket) => {
        if (!socket.connecting) {
          clearTimeout(connectTimer);
          return;
        }
        socket.once(lib === https ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError' || this.signal?.aborted) fail(this.signal?.reason ?? err);
        else fail(unreachable(networkCause(err)));
      });
      req.on('response', (res) => {
        clearTimeout(connectTimer);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => fail(unreachable(networkCause(err))));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(totalTimer);
          const text = Buffer.concat(chunks).toString('utf8');
          const type = String(res.headers['content-type'] ?? '');
          let body: Raw;
          let notKube: string | undefined;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = { message: text.trim().split('\n')[0].slice(0, 200) };
            notKube = `${type || 'no content type'}: ${describeText(text)}`;
          }
          if (!notKube && (body === null || typeof body !== 'object' || Array.isArray(body)))
            notKube = `${type || 'no content type'}: JSON that is not an object`;
          else if (!notKube && typeof body?.kind !== 'string' && method !== 'DELETE')
            notKube = `${type || 'no content type'}: JSON without a kind`;
          const retry = Number(res.headers['retry-after']);
          resolve({
            status: res.statusCode ?? 0,
            body,
            notKube,
            retryAfter:
              Number.isFinite(retry) && res.headers['retry-after'] !== undefined ? retry : undefined,
          });
        });
      });
      if (payload) req.write(payload);
      req.end();
    });
  }
}
