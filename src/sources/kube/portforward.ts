// A TCP connection to a pod's port through the API server (the portforward subresource,
// client-node's websocket). Used to ask the cluster's DNS live over TCP (`knet dns` without
// --server) when knet runs outside the cluster network.
import { Duplex, PassThrough, Writable } from 'node:stream';
import { UserError } from '../../core/errors.js';
import { type ConnectOptions, connectKube, type KubeConnection, loadClient } from './config.js';

export interface PodPort {
  namespace: string;
  pod: string;
  port: number;
}

interface WsLike {
  close(): void;
  on(event: 'close' | 'error', fn: (...args: unknown[]) => void): void;
}

/** Opens a byte stream to `target` through the API server; end it to close the tunnel. */
export async function openPodTcp(
  conn: KubeConnection,
  target: PodPort,
  opts: { timeoutMs?: number } = {},
): Promise<Duplex> {
  const k8s = await loadClient();
  const forward = new k8s.PortForward(conn.kc, true);
  const input = new PassThrough();
  let ws: WsLike | undefined;
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      input.write(chunk, cb);
    },
    final(cb) {
      ws?.close();
      cb();
    },
    destroy(err, cb) {
      ws?.close();
      cb(err);
    },
  });
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (chunk.length > 0) socket.push(chunk);
      cb();
    },
  });
  const errors = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString('utf8').trim();
      if (text)
        socket.destroy(
          new Error(`port-forward to ${target.namespace}/${target.pod}:${target.port}: ${text}`),
        );
      cb();
    },
  });
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const opened = forward.portForward(target.namespace, target.pod, [target.port], output, errors, input);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UserError(
              `port-forward to ${target.namespace}/${target.pod} did not open within ${timeoutMs / 1000} s`,
            ),
          ),
        timeoutMs,
      );
    });
    ws = (await Promise.race([opened, timeout])) as unknown as WsLike;
  } catch (err) {
    const m = /Unexpected server response: (\d+)/.exec((err as Error).message ?? '');
    if (m?.[1] === '403') {
      throw new UserError(
        `forbidden: cannot create pods/portforward in namespace ${target.namespace} (see docs/rbac.md)`,
      );
    }
    if (m?.[1] === '401')
      throw new UserError(`authentication failed for context ${conn.context}: Unauthorized`);
    if (err instanceof UserError) throw err;
    throw new UserError(
      `port-forward to ${target.namespace}/${target.pod}:${target.port} failed: ${(err as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
  ws.on('close', () => socket.push(null));
  return socket;
}

/** One DNS message over a TCP stream (RFC 1035 4.2.2: a two-byte length, then the message). */
export function exchangeDnsOverTcp(socket: Duplex, message: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error, answer?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('end', onEnd);
      if (err) reject(err);
      else resolve(answer as Buffer);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0))
        done(undefined, buf.subarray(2, 2 + buf.readUInt16BE(0)));
    };
    const onError = (err: Error) => done(err);
    const onEnd = () => done(new Error('the DNS server closed the connection without an answer'));
    const timer = setTimeout(() => done(new Error(`no DNS answer within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('end', onEnd);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(message.length, 0);
    socket.write(Buffer.concat([len, message]));
  });
}

/** Sends one DNS query to a pod (e.g. a CoreDNS pod, port 53) through the API server. */
export async function queryDnsThroughApi(
  opts: ConnectOptions & { timeoutMs?: number },
  target: PodPort,
  message: Buffer,
): Promise<Buffer> {
  const conn = await connectKube(opts);
  const socket = await openPodTcp(conn, target, { timeoutMs: opts.timeoutMs });
  try {
    return await exchangeDnsOverTcp(socket, message, opts.timeoutMs);
  } finally {
    socket.destroy();
  }
}
