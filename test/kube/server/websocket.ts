// The server side of RFC 6455, just enough for the Kubernetes channel protocols: the upgrade
// handshake, masked client frames (text, binary, close, ping, continuation) and unmasked
// server frames. Written here rather than taken from a library so that the client under test
// (client-node, through `ws`) is checked against an independent implementation.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class WsConnection extends EventEmitter {
  private buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  closed = false;

  constructor(
    readonly socket: Duplex,
    readonly protocol: string,
  ) {
    super();
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.markClosed());
    socket.on('error', () => this.markClosed());
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0];
      const b1 = this.buffer[1];
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buffer.length < 4) return;
        len = this.buffer.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buffer.length < 10) return;
        len = Number(this.buffer.readBigUInt64BE(2));
        off = 10;
      }
      const maskLen = masked ? 4 : 0;
      if (this.buffer.length < off + maskLen + len) return;
      const mask = masked ? this.buffer.subarray(off, off + 4) : undefined;
      const payload = Buffer.from(this.buffer.subarray(off + maskLen, off + maskLen + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      this.buffer = this.buffer.subarray(off + maskLen + len);
      if (!masked) {
        // RFC 6455 5.1: a server must close the connection on an unmasked client frame.
        this.close(1002);
        return;
      }
      this.onFrame(fin, opcode, payload);
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === 0x8) {
      this.emit('peer-close', payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
      this.close(1000);
      return;
    }
    if (opcode === 0x9) {
      this.sendFrame(0xa, payload);
      return;
    }
    if (opcode === 0xa) return;
    if (opcode === 0x0) {
      this.fragments.push(payload);
      if (!fin) return;
      const whole = Buffer.concat(this.fragments);
      this.fragments = [];
      this.emit('message', whole, this.fragmentOpcode === 0x2);
      return;
    }
    if (!fin) {
      this.fragmentOpcode = opcode;
      this.fragments = [payload];
      return;
    }
    this.emit('message', payload, opcode === 0x2);
  }

  private sendFrame(opcode: number, payload: Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    let header: Buffer;
    if (payload.length < 126) {
      header = Buffer.from([0x80 | opcode, payload.length]);
    } else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    this.socket.write(Buffer.concat([header, payload]));
  }

  sendBinary(data: Buffer): void {
    this.sendFrame(0x2, data);
  }

  /** A message on a Kubernetes channel: one byte of channel number, then the data. */
  sendChannel(channel: number, data: Buffer | string): void {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    this.sendBinary(Buffer.concat([Buffer.from([channel]), body]));
  }

  close(code = 1000): void {
    if (this.closed) return;
    const p = Buffer.alloc(2);
    p.writeUInt16BE(code, 0);
    this.sendFrame(0x8, p);
    this.closed = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 200).unref();
    this.emit('close');
  }
}

/** Completes the upgrade with the first of `supported` the client offers; undefined = refused. */
export function acceptUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  supported: readonly string[],
): WsConnection | undefined {
  const key = req.headers['sec-websocket-key'];
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const protocol = offered.find((p) => supported.includes(p));
  if (typeof key !== 'string' || !protocol) {
    socket.end(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nunsupported websocket protocol\n',
    );
    return undefined;
  }
  const accept = createHash('sha1')
    .update(key + GUID)
    .digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  return new WsConnection(socket, protocol);
}
