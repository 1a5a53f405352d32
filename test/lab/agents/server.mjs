// A tiny TCP/UDP server run inside a lab pod's network namespace (`ip netns exec POD node …`).
//
//   node server.mjs --name shop/web-1 --tcp 8080 --tcp 9090 --udp 5353 [--ttl 900]
//
// TCP: reads one request line; "big" gets the name line plus 256 KiB (for MTU tests), anything
// else gets the name line; then the connection is closed. UDP: every datagram is answered with
// the name line. Prints "ready" once every port listens. Bounded: exits when its stdin closes
// (the lab that started it is gone) or after --ttl seconds, whichever comes first.
import dgram from 'node:dgram';
import net from 'node:net';

const args = process.argv.slice(2);
const opt = { name: 'server', tcp: [], udp: [], ttl: 900 };
for (let i = 0; i < args.length; i += 2) {
  const [k, v] = [args[i], args[i + 1]];
  if (k === '--name') opt.name = v;
  else if (k === '--tcp') opt.tcp.push(Number(v));
  else if (k === '--udp') opt.udp.push(Number(v));
  else if (k === '--ttl') opt.ttl = Number(v);
  else {
    console.error(`unknown option ${k}`);
    process.exit(2);
  }
}

const BIG = Buffer.alloc(256 * 1024, 'x');
const closers = [];
const listening = [];

for (const port of opt.tcp) {
  const server = net.createServer((sock) => {
    sock.setTimeout(5000, () => sock.destroy());
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      if (!buf.includes('\n')) return;
      const req = buf.slice(0, buf.indexOf('\n')).trim();
      sock.write(`${opt.name}\n`);
      if (req === 'big') sock.write(BIG);
      sock.end();
    });
    sock.on('error', () => {});
  });
  listening.push(
    new Promise((resolve, reject) => server.listen(port, '0.0.0.0', resolve).on('error', reject)),
  );
  closers.push(() => server.close());
}

for (const port of opt.udp) {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (_msg, rinfo) => sock.send(`${opt.name}\n`, rinfo.port, rinfo.address));
  sock.on('error', () => {});
  listening.push(new Promise((resolve, reject) => sock.bind(port, '0.0.0.0', resolve).on('error', reject)));
  closers.push(() => sock.close());
}

function stop(code) {
  for (const c of closers) c();
  process.exit(code);
}

Promise.all(listening).then(
  () => process.stdout.write('ready\n'),
  (err) => {
    console.error(`listen failed: ${err.message}`);
    stop(1);
  },
);
process.stdin.on('end', () => stop(0));
process.stdin.on('error', () => stop(0));
process.stdin.resume();
setTimeout(() => stop(0), opt.ttl * 1000).unref();
process.on('SIGTERM', () => stop(0));
