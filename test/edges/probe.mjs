// Runs inside a test network namespace (ip netns exec). Every mode ends on its own within the
// given time (at most 3 s) and prints one JSON line.
//   recv-udp HOST PORT MS        → [sizes of the datagrams received]
//   send-udp HOST PORT SIZES     → {"sent": n, "errors": [...]}   (100 ms between datagrams)
//   serve-tcp HOST PORT MS       → [remote addresses of accepted connections]
//   connect-tcp HOST PORT MS [SRC] → {"outcome": "connected"|"timeout"|"refused"|CODE}
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, host, portText, arg, localAddress] = process.argv.slice(2);
const port = Number(portText);
const bounded = (ms) => Math.min(Math.max(Number(ms) || 500, 50), 3000);

if (mode === 'recv-udp') {
  const sock = dgram.createSocket('udp4');
  const got = [];
  sock.on('message', (m) => got.push(m.length));
  sock.bind(port, host, () => process.stderr.write('ready\n'));
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify(got)}\n`);
    sock.close();
  }, bounded(arg));
} else if (mode === 'send-udp') {
  const sock = dgram.createSocket('udp4');
  const sizes = String(arg).split(',').map(Number).slice(0, 10);
  const errors = [];
  let i = 0;
  const next = () => {
    if (i >= sizes.length) {
      process.stdout.write(`${JSON.stringify({ sent: sizes.length, errors })}\n`);
      sock.close();
      return;
    }
    sock.send(Buffer.alloc(sizes[i++]), port, host, (err) => {
      if (err) errors.push(err.code);
      setTimeout(next, 100);
    });
  };
  next();
} else if (mode === 'serve-tcp') {
  const peers = [];
  const server = net.createServer((s) => {
    peers.push(s.remoteAddress);
    s.end();
  });
  server.listen(port, host, () => process.stderr.write('ready\n'));
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify(peers)}\n`);
    server.close();
    process.exit(0);
  }, bounded(arg));
} else if (mode === 'connect-tcp') {
  const sock = net.connect({ host, port, ...(localAddress ? { localAddress } : {}) });
  const done = (outcome) => {
    clearTimeout(timer);
    sock.destroy();
    process.stdout.write(`${JSON.stringify({ outcome })}\n`);
  };
  const timer = setTimeout(() => done('timeout'), bounded(arg));
  sock.on('connect', () => done('connected'));
  sock.on('error', (err) => done(err.code === 'ECONNREFUSED' ? 'refused' : err.code));
} else {
  process.stderr.write(`unknown mode ${mode}\n`);
  process.exit(2);
}
