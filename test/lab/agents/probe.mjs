// A bounded connection probe run inside a lab pod's network namespace.
//
//   node probe.mjs --proto tcp|udp --host IP --port N [--tries 3] [--timeout 1000] [--big]
//
// --big: TCP asks for a 256 KiB answer; UDP sends a 1400-byte datagram (one full-size packet
// inside a 1450-byte overlay MTU: the packets an MTU mismatch drops).
// Prints one JSON line: {"outcome", "answeredBy", "tries": [{"outcome", "ms", "code"}]}.
// outcome: ok (the server answered), refused (RST / ICMP port unreachable: a REJECT or nothing
// listening), unreachable (ICMP host/net unreachable), reset, no-reply (TCP connected, no
// answer), timeout (nothing came back), error. Stops at the first ok. At most 3 tries of at most
// 1 s each, whatever the arguments say.
import dgram from 'node:dgram';
import net from 'node:net';

const args = process.argv.slice(2);
const opt = { proto: 'tcp', host: '', port: 0, tries: 3, timeout: 1000, big: false };
for (let i = 0; i < args.length; i++) {
  const k = args[i];
  if (k === '--big') opt.big = true;
  else if (k === '--proto') opt.proto = args[++i];
  else if (k === '--host') opt.host = args[++i];
  else if (k === '--port') opt.port = Number(args[++i]);
  else if (k === '--tries') opt.tries = Number(args[++i]);
  else if (k === '--timeout') opt.timeout = Number(args[++i]);
  else {
    console.error(`unknown option ${k}`);
    process.exit(2);
  }
}
opt.tries = Math.max(1, Math.min(3, opt.tries));
opt.timeout = Math.max(50, Math.min(1000, opt.timeout));

const CODES = {
  ECONNREFUSED: 'refused',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
};
const BIG_BYTES = 256 * 1024;
const UDP_BIG = 1400;

function tcpTry() {
  return new Promise((resolve) => {
    const started = Date.now();
    let connected = false;
    let data = Buffer.alloc(0);
    let done = false;
    const sock = net.connect({ host: opt.host, port: opt.port });
    const finish = (outcome, extra = {}) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ outcome, ms: Date.now() - started, ...extra });
    };
    const timer = setTimeout(() => finish(connected ? 'no-reply' : 'timeout'), opt.timeout);
    sock.on('connect', () => {
      connected = true;
      sock.write(opt.big ? 'big\n' : 'hello\n');
    });
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
    });
    sock.on('end', () => {
      const text = data.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl < 0) return finish('no-reply');
      const body = data.length - Buffer.byteLength(text.slice(0, nl + 1));
      if (opt.big && body < BIG_BYTES)
        return finish('no-reply', { answeredBy: text.slice(0, nl), bytes: body });
      finish('ok', { answeredBy: text.slice(0, nl), ...(opt.big ? { bytes: body } : {}) });
    });
    sock.on('error', (err) => finish(CODES[err.code] ?? 'error', { code: err.code }));
  });
}

function udpTry() {
  return new Promise((resolve) => {
    const started = Date.now();
    let done = false;
    const sock = dgram.createSocket('udp4');
    const finish = (outcome, extra = {}) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        sock.close();
      } catch {}
      resolve({ outcome, ms: Date.now() - started, ...extra });
    };
    const timer = setTimeout(() => finish('timeout'), opt.timeout);
    sock.on('message', (msg) => finish('ok', { answeredBy: msg.toString('utf8').split('\n')[0] }));
    sock.on('error', (err) => finish(CODES[err.code] ?? 'error', { code: err.code }));
    // A connected socket receives ICMP errors (port/host unreachable) as socket errors.
    sock.connect(opt.port, opt.host, (err) => {
      if (err) return finish(CODES[err.code] ?? 'error', { code: err.code });
      const payload = opt.big ? `hello\n${'x'.repeat(UDP_BIG - 6)}` : 'hello\n';
      sock.send(payload, (e) => e && finish(CODES[e.code] ?? 'error', { code: e.code }));
    });
  });
}

const tries = [];
for (let i = 0; i < opt.tries; i++) {
  const t = opt.proto === 'udp' ? await udpTry() : await tcpTry();
  tries.push(t);
  if (t.outcome === 'ok') break;
}
const last = tries[tries.length - 1];
const result = { outcome: last.outcome, tries };
if (last.answeredBy !== undefined) result.answeredBy = last.answeredBy;
process.stdout.write(`${JSON.stringify(result)}\n`);
