// Runs inside a test network namespace (ip netns exec): listens on the given addresses,
// then connects to each target once (bounded timeout) and prints one JSON result line.
// Usage: node netns-probe.mjs LISTEN_CSV TARGET_CSV TIMEOUT_MS
import net from 'node:net';

const [listenCsv = '', targetCsv = '', timeoutText = '500'] = process.argv.slice(2);
const timeoutMs = Math.min(Number(timeoutText) || 500, 3000);
const split = (hp) => {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i), Number(hp.slice(i + 1))];
};

const servers = [];
const accepted = {};
for (const hp of listenCsv.split(',').filter(Boolean)) {
  const [host, port] = split(hp);
  const server = net.createServer((sock) => {
    accepted[hp] = (accepted[hp] ?? 0) + 1;
    sock.end();
  });
  await new Promise((resolve, reject) => server.listen(port, host, resolve).on('error', reject));
  servers.push(server);
}

const results = {};
for (const hp of targetCsv.split(',').filter(Boolean)) {
  const [host, port] = split(hp);
  results[hp] = await new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve('timeout');
    }, timeoutMs);
    sock.on('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve('connected');
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? 'error'));
    });
  });
}
for (const s of servers) s.close();
process.stdout.write(`${JSON.stringify({ results, accepted })}\n`);
