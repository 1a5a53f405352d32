// Every way a live read fails gives one line that says what to do, and exit code 2.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/cli/base.js';
import { UserError } from '../../src/core/errors.js';
import { statusMessage } from '../../src/sources/kube/client.js';
import { ALL_KINDS, readLiveCluster } from '../../src/sources/kube/read.js';
import { cleanupTemp, failure, serveBundle } from './helpers.js';
import type { TestApiServer } from './server/apiserver.js';

let server: TestApiServer;

beforeAll(async () => {
  ({ server } = await serveBundle());
});
afterAll(async () => {
  await server.close();
  cleanupTemp();
});
afterEach(() => {
  server.requests.length = 0;
  server.faults.length = 0;
  server.forbid.length = 0;
});

/** The error is a UserError with exit code 2 that the CLI prints as exactly its message. */
function expectUserError(err: Error & { exitCode?: number }, message: RegExp | string): void {
  expect(err).toBeInstanceOf(UserError);
  expect(err.exitCode).toBe(2);
  if (typeof message === 'string') expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
  expect(err.message).not.toContain('\n');
  expect(describeError(err)).toBe(err.message);
}

describe('401', () => {
  it('a rejected token: authentication failed for the context', async () => {
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig({ token: 'expired' }),
        allNamespaces: true,
        kinds: ['pods'],
      }),
    );
    expectUserError(err, /^authentication failed for context knet-test: Unauthorized \(/);
  });

  it('no credential at all', async () => {
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig({ auth: 'none', context: 'anon' }),
        allNamespaces: true,
        kinds: ['pods'],
      }),
    );
    expectUserError(err, /^authentication failed for context anon: Unauthorized/);
  });

  it('a client certificate from another CA', async () => {
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig({ auth: 'stranger-cert' }),
        allNamespaces: true,
        kinds: ['pods'],
      }),
    );
    expectUserError(err, /^authentication failed for context knet-test: /);
  });

  it('an exec credential plugin that fails', async () => {
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig({
          exec: { command: process.execPath, args: ['-e', 'process.exit(3)'] },
        }),
        allNamespaces: true,
        kinds: ['pods'],
      }),
    );
    expectUserError(err, /^authentication failed for context knet-test: /);
  });
});

describe('403 names the verb, the resource and the namespace', () => {
  it('list endpointslices in namespace shop', async () => {
    server.forbid.push({
      verb: 'list',
      resource: 'endpointslices',
      group: 'discovery.k8s.io',
      namespace: 'shop',
    });
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig(),
        namespace: 'shop',
        allNamespaces: false,
        kinds: ['pods', 'endpointslices'],
      }),
    );
    expectUserError(
      err,
      'forbidden: cannot list endpointslices.discovery.k8s.io in namespace shop (see docs/rbac.md)',
    );
  });

  it('list pods at the cluster scope (-A)', async () => {
    server.forbid.push({ verb: 'list', resource: 'pods', namespace: '' });
    const err = await failure(() =>
      readLiveCluster({ kubeconfig: server.kubeconfig(), allNamespaces: true, kinds: ['pods'] }),
    );
    expectUserError(err, 'forbidden: cannot list pods at the cluster scope (see docs/rbac.md)');
  });

  it('list nodes', async () => {
    server.forbid.push({ verb: 'list', resource: 'nodes' });
    const err = await failure(() =>
      readLiveCluster({ kubeconfig: server.kubeconfig(), allNamespaces: true, kinds: ['nodes'] }),
    );
    expectUserError(err, 'forbidden: cannot list nodes at the cluster scope (see docs/rbac.md)');
  });

  it('kube-system ConfigMaps are optional: a warning, not a failure', async () => {
    server.forbid.push({ verb: 'get', resource: 'configmaps', namespace: 'kube-system' });
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['configmaps', 'nodes'],
    });
    expect(live.raws.filter((o) => o.kind === 'ConfigMap')).toEqual([]);
    expect(live.warnings[0]).toBe(
      'forbidden: cannot get configmaps kube-proxy in namespace kube-system (see docs/rbac.md): the kube-proxy mode and DNS settings are unknown',
    );
    expect(live.warnings).toContain(
      'forbidden: cannot get configmaps cilium-config in namespace kube-system (see docs/rbac.md): whether Cilium replaces kube-proxy is known from its DaemonSet only',
    );
  });
});

describe('server errors and timeouts', () => {
  it('500 names the server, the status and the request', async () => {
    server.faults.push({
      path: /\/pods$/,
      status: 500,
      reason: 'InternalError',
      message: 'Internal error occurred: etcdserver: leader changed',
    });
    const err = await failure(() =>
      readLiveCluster({ kubeconfig: server.kubeconfig(), allNamespaces: true, kinds: ['pods'] }),
    );
    expectUserError(
      err,
      `the API server at ${server.url} answered 500 InternalError to list pods at the cluster scope: Internal error occurred: etcdserver: leader changed`,
    );
  });

  it('a server that never answers: the request timeout', async () => {
    server.faults.push({ path: /\/services$/, hang: true });
    const started = Date.now();
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig(),
        allNamespaces: true,
        kinds: ['services'],
        requestTimeoutMs: 800,
      }),
    );
    expectUserError(
      err,
      `the API server ${server.url} did not answer within 1 s (list services at the cluster scope)`,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('429 with Retry-After is retried; without it, it fails', async () => {
    server.faults.push({ path: /\/nodes$/, status: 429, reason: 'TooManyRequests', times: 1, retryAfter: 1 });
    const live = await readLiveCluster({
      kubeconfig: server.kubeconfig(),
      allNamespaces: true,
      kinds: ['nodes'],
    });
    expect(live.raws).toHaveLength(3);
    expect(server.requests.map((r) => r.status)).toEqual([429, 200]);
    server.faults.push({ path: /\/nodes$/, status: 429, reason: 'TooManyRequests', times: 1 });
    const err = await failure(() =>
      readLiveCluster({ kubeconfig: server.kubeconfig(), allNamespaces: true, kinds: ['nodes'] }),
    );
    expectUserError(err, /answered 429 TooManyRequests to list nodes at the cluster scope/);
  });

  it('statusMessage: 404 on a list names what is not served', () => {
    const conn = { context: 'c', server: 'https://x' };
    expect(
      statusMessage(404, {}, { verb: 'list', resource: 'httproutes.gateway.networking.k8s.io' }, conn),
    ).toBe('the API server at https://x does not serve httproutes.gateway.networking.k8s.io');
    expect(
      statusMessage(404, {}, { verb: 'get', resource: 'pods', namespace: 'shop', name: 'web' }, conn),
    ).toBe('not found: pods web in namespace shop');
  });
});

describe('unreachable servers: the address and the cause, within 15 s', () => {
  it('connection refused', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const url = `https://127.0.0.1:${closed}`;
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig({ server: url }),
        allNamespaces: true,
        kinds: ['pods'],
      }),
    );
    expectUserError(err, `cannot reach the API server ${url} (context knet-test): connection refused`);
  });

  it('a host name that does not resolve', async () => {
    const url = 'https://knet-no-such-host.invalid:6443';
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig({ server: url }),
        allNamespaces: true,
        kinds: ['pods'],
      }),
    );
    expectUserError(
      err,
      /^cannot reach the API server https:\/\/knet-no-such-host\.invalid:6443 \(context knet-test\): host name not found/,
    );
  });

  it('an untrusted server certificate', async () => {
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig({ noCa: true }),
        allNamespaces: true,
        kinds: ['pods'],
      }),
    );
    expectUserError(
      err,
      /^cannot reach the API server https:\/\/127\.0\.0\.1:\d+ \(context knet-test\): TLS: .*certificate-authority-data/,
    );
  });

  it('a server that accepts TCP but never speaks TLS: named within 15 s with the default timeouts', async () => {
    const sockets: net.Socket[] = [];
    const blackhole = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(blackhole.address() as net.AddressInfo).port}`;
    const started = Date.now();
    try {
      const err = await failure(() =>
        readLiveCluster({
          kubeconfig: server.kubeconfig({ server: url }),
          allNamespaces: true,
          kinds: ['pods'],
        }),
      );
      const elapsed = Date.now() - started;
      expectUserError(
        err,
        `cannot reach the API server ${url} (context knet-test): no connection within 10 s`,
      );
      expect(elapsed).toBeLessThan(15_000);
      expect(elapsed).toBeGreaterThanOrEqual(9_000);
    } finally {
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  }, 20_000);
});

describe('kubeconfig problems', () => {
  it('a missing --kubeconfig file', async () => {
    const err = await failure(() =>
      readLiveCluster({ kubeconfig: '/nonexistent/config', allNamespaces: true, kinds: ['pods'] }),
    );
    expectUserError(err, 'kubeconfig not found: /nonexistent/config');
  });

  it('every call of readLiveCluster with all kinds fails the same way when the token is bad', async () => {
    const err = await failure(() =>
      readLiveCluster({
        kubeconfig: server.kubeconfig({ token: 'nope' }),
        allNamespaces: true,
        kinds: [...ALL_KINDS],
      }),
    );
    expectUserError(err, /^authentication failed for context knet-test/);
  });
});
