// DNS over TCP through the API server's port-forward subresource (live `knet dns` without a
// route to the pod network): a real DNS exchange with a responder on loopback.
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectKube } from '../../src/sources/kube/config.js';
import { exchangeDnsOverTcp, openPodTcp, queryDnsThroughApi } from '../../src/sources/kube/portforward.js';
import { cleanupTemp, failure, runKnet, serveBundle } from './helpers.js';
import type { TestApiServer } from './server/apiserver.js';

let server: TestApiServer;
let dns: net.Server;
let dnsPort = 0;
const sockets = new Set<net.Socket>();

/** A DNS-over-TCP responder: cart.shop.svc.cluster.local A → 10.96.0.20, else NXDOMAIN. */
function startDns(): Promise<void> {
  dns = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
        const name = q.questions?.[0]?.name ?? '';
        const known = name === 'cart.shop.svc.cluster.local';
        s.write(
          dnsPacket.streamEncode({
            type: 'response',
            id: q.id,
            flags: dnsPacket.AUTHORITATIVE_ANSWER | (known ? 0 : 3),
            questions: q.questions,
            answers: known ? [{ type: 'A', name, ttl: 30, data: '10.96.0.20' }] : [],
          }),
        );
      }
    });
  });
  return new Promise((resolve) =>
    dns.listen(0, '127.0.0.1', () => {
      dnsPort = (dns.address() as net.AddressInfo).port;
      resolve();
    }),
  );
}

beforeAll(async () => {
  await startDns();
  ({ server } = await serveBundle(undefined, {
    portForward: ({ namespace, pod, port }) =>
      namespace === 'kube-system' && String(pod.metadata.name).startsWith('coredns-') && port === 53
        ? { host: '127.0.0.1', port: dnsPort }
        : undefined,
  }));
});
afterAll(async () => {
  await server.close();
  cleanupTemp();
  for (const s of sockets) s.destroy();
  await new Promise((r) => dns.close(r));
});
afterEach(() => {
  server.forbid.length = 0;
});

const coredns = { namespace: 'kube-system', pod: 'coredns-7db6d8ff4d-abcde', port: 53 };
/** The response code (dns-packet decodes it; its types do not declare it). */
const rcode = (p: dnsPacket.DecodedPacket) => (p as dnsPacket.DecodedPacket & { rcode: string }).rcode;

const query = (name: string, id = 7) =>
  dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'A', name }],
  });

describe('port-forward', () => {
  it('asks the cluster DNS over TCP through the API server', async () => {
    const answer = dnsPacket.decode(
      await queryDnsThroughApi(
        { kubeconfig: server.kubeconfig() },
        coredns,
        query('cart.shop.svc.cluster.local'),
      ),
    );
    expect(answer.id).toBe(7);
    expect(rcode(answer)).toBe('NOERROR');
    expect(answer.answers).toEqual([
      expect.objectContaining({ type: 'A', name: 'cart.shop.svc.cluster.local', data: '10.96.0.20' }),
    ]);
    const pf = server.requests.filter((r) => r.path.endsWith('/portforward'));
    expect(pf).toHaveLength(1);
    expect(pf[0].path).toBe('/api/v1/namespaces/kube-system/pods/coredns-7db6d8ff4d-abcde/portforward');
    expect(pf[0].query.get('ports')).toBe('53');
  });

  it('carries several exchanges over one tunnel', async () => {
    const conn = await connectKube({ kubeconfig: server.kubeconfig() });
    const socket = await openPodTcp(conn, coredns);
    try {
      const a = dnsPacket.decode(await exchangeDnsOverTcp(socket, query('cart.shop.svc.cluster.local', 1)));
      const b = dnsPacket.decode(await exchangeDnsOverTcp(socket, query('nope.shop.svc.cluster.local', 2)));
      expect([a.id, rcode(a), b.id, rcode(b)]).toEqual([1, 'NOERROR', 2, 'NXDOMAIN']);
    } finally {
      socket.destroy();
    }
  });

  it('nothing listening on the pod port: the kubelet error', async () => {
    const err = await failure(() =>
      queryDnsThroughApi(
        { kubeconfig: server.kubeconfig() },
        { ...coredns, port: 5353 },
        query('cart.shop.svc.cluster.local'),
      ),
    );
    expect(err.message).toMatch(
      /port-forward to kube-system\/coredns-7db6d8ff4d-abcde:5353: an error occurred forwarding 5353 -> 5353/,
    );
  });

  it('forbidden: names pods/portforward', async () => {
    server.forbid.push({ verb: 'create', resource: 'pods/portforward' });
    const err = await failure(() =>
      queryDnsThroughApi({ kubeconfig: server.kubeconfig() }, coredns, query('cart.shop.svc.cluster.local')),
    );
    expect(err.message).toBe(
      'forbidden: cannot create pods/portforward in namespace kube-system (see docs/rbac.md)',
    );
  });
});

describe('knet dns, live without --server', () => {
  it('asks each ready CoreDNS replica through the API port-forward and compares the answers', async () => {
    const before = server.requests.length;
    const r = await runKnet([
      'dns',
      'cart.shop.svc.cluster.local',
      '--kubeconfig',
      server.kubeconfig(),
      '--json',
    ]);
    const doc = JSON.parse(r.stdout);
    expect(doc.replicas.map((x: { replica: string }) => x.replica)).toEqual([
      'kube-system/coredns-7db6d8ff4d-abcde',
    ]);
    const forwarded = server.requests.slice(before).filter((q) => q.path.endsWith('/portforward'));
    expect(forwarded.length).toBeGreaterThan(0);
    expect(forwarded.every((q) => q.method === 'GET')).toBe(true);
    expect(JSON.stringify(doc.replicas[0])).toContain('10.96.0.20');
  });
});
