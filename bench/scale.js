#!/usr/bin/env node
// knet at scale: wall time (median of N runs) and peak RSS of whole `knet` processes on
// synthetic bundles (bench/generate.js), next to the floor (bench/floor.js: read + JSON.parse
// of the same files), at 500 nodes / 15k pods / 1k services and 5,000 / 150,000 / 10,000.
//
//   npm run build && node bench/scale.js [--sizes small,large] [--runs 3] [--only trace,doctor]
//       [--timeout 600] [--results bench/RESULTS.md | --no-results] [--regenerate]
//       [--knet OTHER/bin/knet]   (another build of knet, e.g. before a change: compare)
//
// Peak RSS comes from /usr/bin/time (GNU time's %M) when present, else from polling the
// process's VmHWM in /proc. Bundles are generated on first use into bench/out/ (git-ignored).
// Each command runs as knet runs it on a bundle `knet snapshot` wrote (read by position through
// knet-index.json); "trace, read whole" is the same trace with the index ignored
// (KNET_BUNDLE_INDEX=off), "20 traces" is `knet trace --batch` with 20 pairs, "trace on
// the demo" the whole-process figure a trace at scale is compared with, and proxy is measured
// for one packet (`--from/--to`) and for the node's whole table (`proxy --node N` alone).
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let KNET = path.join(root, 'bin', 'knet');
const FLOOR = path.join(root, 'bench', 'floor.js');
const GENERATE = path.join(root, 'bench', 'generate.js');
const TIME = '/usr/bin/time';

export const SIZES = {
  small: { label: '500 nodes / 15k pods / 1k services', nodes: 500, pods: 15000, services: 1000 },
  large: { label: '5,000 nodes / 150k pods / 10k services', nodes: 5000, pods: 150000, services: 10000 },
};
const SEED = 1;

function parseArgs(argv) {
  const o = {
    sizes: ['small', 'large'],
    runs: 3,
    only: undefined,
    timeout: 600,
    results: path.join(root, 'bench', 'RESULTS.md'),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--sizes') o.sizes = v.split(',');
    else if (a === '--runs') o.runs = Number(v);
    else if (a === '--only') o.only = v.split(',');
    else if (a === '--timeout') o.timeout = Number(v);
    else if (a === '--results') o.results = path.resolve(v);
    else if (a === '--knet') o.knet = path.resolve(v);
    else if (a === '--no-results') {
      o.results = undefined;
      continue;
    } else if (a === '--regenerate') {
      o.regenerate = true;
      continue;
    } else throw new Error(`unknown argument ${a}`);
    i++;
  }
  for (const s of o.sizes) if (!SIZES[s]) throw new Error(`unknown size ${s} (small, large)`);
  return o;
}

/** The bundle of a size, generated when missing (or of other parameters). */
function ensureBundle(size, regenerate) {
  const dir = path.join(root, 'bench', 'out', `n${size.nodes}-p${size.pods}-s${size.services}`);
  const infoFile = path.join(dir, 'bench.json');
  let info;
  if (!regenerate && existsSync(infoFile)) {
    info = JSON.parse(readFileSync(infoFile, 'utf8'));
    const same =
      info.seed === SEED &&
      info.size.nodes === size.nodes &&
      info.size.pods === size.pods &&
      info.size.services === size.services;
    // A bundle from before knet-index.json is generated again (it is what knet snapshot writes).
    // So is one from before the kube-proxy dumps' chain tables (iptables-save.knet-index.bin).
    const chainTable = path.join(dir, 'nodes', 'node-0001', 'iptables-save.knet-index.bin');
    if (!same || !existsSync(path.join(dir, 'knet-index.json')) || !existsSync(chainTable)) info = undefined;
    // An index an older knet wrote (another version) would be ignored: written again, alone.
    else if (!currentIndex(dir)) rewriteIndex(dir);
  }
  if (!info) {
    process.stderr.write(`generating ${size.label} into ${path.relative(root, dir)} …\n`);
    const r = spawnSync(
      process.execPath,
      [
        GENERATE,
        '--nodes',
        String(size.nodes),
        '--pods',
        String(size.pods),
        '--services',
        String(size.services),
        '--seed',
        String(SEED),
        '--out',
        dir,
        '--force',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (r.status !== 0) throw new Error('bench/generate.js failed');
    info = JSON.parse(readFileSync(infoFile, 'utf8'));
  }
  return { dir, info };
}

/** The bundle's object files in the order a reader takes them (read.ts). */
const objectFiles = (dir) => [
  'cluster.json',
  ...readdirSync(path.join(dir, 'cluster'))
    .filter((f) => /\.(json|ya?ml)$/i.test(f))
    .sort()
    .map((f) => `cluster/${f}`),
];

const moduleURL = (rel) =>
  JSON.stringify(pathToFileURL(path.join(root, 'dist', 'sources', 'bundle', rel)).href);

/**
 * Whether the bundle's knet-index.json and knet-objects.jsonl are ones this build reads (the same
 * versions, its files, the same normalising code).
 */
function currentIndex(dir) {
  const script = `Promise.all([import(${moduleURL('index.js')}), import(${moduleURL('digest.js')})]).then(([m, d]) => { const i = m.readBundleIndex(${JSON.stringify(dir)}, ${JSON.stringify(objectFiles(dir))}); process.exit(i && d.openDigest(${JSON.stringify(dir)}, i) ? 0 : 1); })`;
  return spawnSync(process.execPath, ['-e', script], { stdio: 'inherit' }).status === 0;
}

function rewriteIndex(dir) {
  process.stderr.write(
    `writing ${path.relative(root, dir)}/knet-index.json and knet-objects.jsonl again (another version) …\n`,
  );
  const script = `import(${moduleURL('derived.js')}).then((m) => process.exit(m.writeBundleIndex(${JSON.stringify(dir)}, ${JSON.stringify(objectFiles(dir))}) ? 0 : 1))`;
  if (spawnSync(process.execPath, ['-e', script], { stdio: 'inherit' }).status !== 0)
    throw new Error(`${dir}: knet-index.json could not be written`);
}

const hasGnuTime = (() => {
  if (!existsSync(TIME)) return false;
  const r = spawnSync(TIME, ['-f', '%M', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /^\d+\s*$/m.test(r.stderr);
})();

/** VmHWM of a live process, in kB (undefined once it is gone). */
function vmHWM(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** One process: wall ms, peak RSS kB, exit code, stdout file. Killed (whole group) on timeout. */
function measure(args, { timeoutS, outFile, env: extra }) {
  return new Promise((resolve) => {
    const fd = openSync(outFile, 'w');
    const env = { ...process.env, NO_COLOR: '1', KNET_NO_PROGRESS: '1', ...extra };
    const argv = hasGnuTime
      ? [TIME, '-f', 'KNET_BENCH_RSS=%M', process.execPath, ...args]
      : [process.execPath, ...args];
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', fd, 'pipe'], env, detached: true });
    let stderr = '';
    let peak = 0;
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const poll = hasGnuTime
      ? undefined
      : setInterval(() => {
          peak = Math.max(peak, vmHWM(child.pid) ?? 0);
        }, 20);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutS * 1000);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      closeSync(fd);
      const m = /KNET_BENCH_RSS=(\d+)/.exec(stderr);
      if (m) peak = Number(m[1]);
      const exit = hasGnuTime
        ? (/Command exited with non-zero status (\d+)/.exec(stderr)?.[1] ?? (code === 0 ? '0' : String(code)))
        : String(code);
      resolve({
        ms,
        rssKB: peak,
        exit: timedOut ? 'timeout' : Number(exit),
        stderr: stderr
          .replace(/KNET_BENCH_RSS=\d+\n?/, '')
          .replace(/Command exited with non-zero status \d+\n?/, '')
          .trim(),
      });
    });
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * A command's time over another's, round by round (the runs are interleaved: each round's
 * pair met the same load), and the median of those ratios. On a shared machine whose load
 * moves between rounds this is steadier than a ratio of medians.
 */
function ratioOf(x, base) {
  const n = Math.min(x.runs.length, base.runs.length);
  if (n === 0) return undefined;
  return median(Array.from({ length: n }, (_, i) => x.runs[i] / base.runs[i]));
}

/** What the output says, so the figures are of a command that answered. */
function summarize(name, text) {
  if (name === 'floor') return text.trim();
  if (name.startsWith('trace')) return /^Verdict: (.*)$/m.exec(text)?.[1] ?? '(no verdict)';
  if (name === 'batch') {
    const docs = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const verdicts = {};
    for (const d of docs) verdicts[d.verdict ?? d.kind] = (verdicts[d.verdict ?? d.kind] ?? 0) + 1;
    return `${docs.length} documents: ${Object.entries(verdicts)
      .map(([v, n]) => `${n} ${v}`)
      .join(', ')}`;
  }
  if (name === 'endpoints') return (text.split('\n').find((l) => l.trim()) ?? '').slice(0, 80);
  if (name === 'policy')
    return (/^(?:Verdict|verdict)[: ]+(.*)$/m.exec(text)?.[1] ?? text.split('\n')[0]).slice(0, 80);
  if (name === 'dns') return (text.split('\n').find((l) => l.trim()) ?? '').slice(0, 80);
  if (name === 'doctor')
    return /^(\d+ errors?(?: \([^)]*\))?, \d+ warnings?, \d+ infos?)/m.exec(text)?.[1] ?? '(no summary)';
  if (name === 'pods') return `${Math.max(0, text.split('\n').indexOf('') - 1)} pod rows`;
  if (name === 'proxy-node')
    return `${text.split('\n').filter((l) => / (?:ok|drift|missing|no-endpoints|unknown)$/.test(l)).length} service port rows`;
  if (name === 'proxy')
    return (
      /^(?:Outcome|outcome)[: ]+(.*)$/m.exec(text)?.[1] ??
      text.split('\n').find((l) => l.trim()) ??
      ''
    ).slice(0, 80);
  return '';
}

async function proxyRegistered() {
  try {
    const distOf = path.join(path.dirname(KNET), '..', 'dist', 'commands', 'index.js');
    const { COMMANDS } = await import(pathToFileURL(distOf).href);
    return Boolean(COMMANDS.proxy);
  } catch {
    return false;
  }
}

/** The first `n` objects of a kind in a namespace, found by scanning the object files' lines. */
function findObjects(dir, kind, namespace, n) {
  const cluster = path.join(dir, 'cluster');
  const files = [
    'cluster.json',
    ...(existsSync(cluster)
      ? readdirSync(cluster)
          .sort()
          .map((f) => `cluster/${f}`)
      : []),
  ];
  const re = new RegExp(
    `^\\{"apiVersion":"[^"]*","kind":"${kind}","metadata":\\{"name":"[^"]+"(?:,"generateName":"[^"]*")?,"namespace":"${namespace}".*?(?=,?$)`,
    'gm',
  );
  const out = [];
  for (const f of files) {
    for (const m of readFileSync(path.join(dir, f), 'utf8').matchAll(re)) {
      out.push(JSON.parse(m[0]));
      if (out.length >= n) return out;
    }
  }
  return out;
}

/**
 * The pairs of the "20 traces" figure: the bench's source pod to 20 Services of its
 * namespace, each to its first port.
 */
function batchFile(bundle, tmp) {
  const { trace } = bundle.info;
  const ns = trace.destination.split('/')[1];
  const lines = findObjects(bundle.dir, 'Service', ns, 20).map((svc) => {
    const port = svc.spec?.ports?.[0];
    return `${trace.source} svc/${ns}/${svc.metadata.name}${port ? `:${port.name || port.port}` : ''}`;
  });
  const file = path.join(tmp, `batch-${path.basename(bundle.dir)}.txt`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const DEMO_TRACE = ['pod/shop/frontend-9zd29xl7v-27thn', 'svc/shop/frontend'];

function commandsFor(bundle, hasProxy, tmp) {
  const snap = ['--snapshot', bundle.dir];
  const { trace, proxy } = bundle.info;
  const dstNs = trace.destination.split('/')[1];
  const dstName = trace.destination.split('/')[2];
  const peer = findObjects(bundle.dir, 'Pod', 'payments', 1)[0]?.metadata.name;
  return [
    { name: 'floor', args: [FLOOR, bundle.dir], ok: [0] },
    {
      name: 'trace',
      show: `knet trace ${trace.source} ${trace.destination}`,
      args: [KNET, 'trace', trace.source, trace.destination, ...snap],
      ok: [0, 1, 2],
    },
    {
      name: 'trace-whole',
      show: 'the same trace, read whole (no index)',
      args: [KNET, 'trace', trace.source, trace.destination, ...snap],
      env: { KNET_BUNDLE_INDEX: 'off' },
      ok: [0, 1, 2],
    },
    {
      name: 'batch',
      show: 'knet trace --batch (20 traces in a row)',
      args: [KNET, 'trace', '--batch', tmp ? batchFile(bundle, tmp) : '-', ...snap],
      ok: [0, 1, 2],
    },
    {
      name: 'trace-demo',
      show: `knet trace ${DEMO_TRACE.join(' ')} (demo)`,
      args: [KNET, 'trace', ...DEMO_TRACE, '--snapshot', 'demo'],
      ok: [0, 1, 2],
    },
    hasProxy
      ? {
          name: 'proxy',
          show: `knet proxy --node ${proxy.node} --from ${proxy.from} --to ${proxy.to}`,
          args: [
            KNET,
            'proxy',
            '--node',
            proxy.node,
            '--from',
            proxy.from,
            '--to',
            proxy.to,
            '--protocol',
            proxy.protocol,
            ...snap,
          ],
          ok: [0, 1],
        }
      : {
          name: 'proxy',
          show: 'knet proxy (one packet)',
          skip: 'the proxy command is not registered in dist/commands/index.js yet',
        },
    // The node's whole table: every service port's rules, simulated (issue 25's "proxy for one
    // node" read as the node-wide command; the row above is one packet's).
    hasProxy
      ? {
          name: 'proxy-node',
          show: `knet proxy --node ${proxy.node} (every service port)`,
          args: [KNET, 'proxy', '--node', proxy.node, ...snap],
          ok: [0, 1],
        }
      : {
          name: 'proxy-node',
          show: 'knet proxy --node (every service port)',
          skip: 'the proxy command is not registered in dist/commands/index.js yet',
        },
    {
      name: 'endpoints',
      show: `knet endpoints ${trace.destination}`,
      args: [KNET, 'endpoints', trace.destination, ...snap],
      ok: [0, 1],
    },
    {
      name: 'policy',
      show: `knet policy ${trace.source} pod/payments/${peer ?? '?'} --port 80`,
      args: [KNET, 'policy', trace.source, `pod/payments/${peer}`, '--port', '80', ...snap],
      ok: [0, 1],
    },
    {
      name: 'dns',
      show: `knet dns ${dstName}.${dstNs}`,
      args: [KNET, 'dns', `${dstName}.${dstNs}`, ...snap],
      ok: [0, 1],
    },
    { name: 'pods', show: 'knet pods -A', args: [KNET, 'pods', '-A', ...snap], ok: [0, 1] },
    { name: 'doctor', show: 'knet doctor -A', args: [KNET, 'doctor', '-A', ...snap], ok: [0, 1] },
  ];
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: `${cpus.length} × ${cpus[0]?.model?.trim() ?? 'unknown CPU'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    rss: hasGnuTime ? 'GNU time %M (max RSS)' : '/proc/PID/status VmHWM, polled every 20 ms',
  };
}

const fmtS = (ms) => (ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`);
const fmtMB = (kb) => (kb === undefined ? '–' : `${Math.round(kb / 1024)} MB`);

/** Issue 25's targets, at each size: each command against the floor of the same run. */
function evaluate(results) {
  const rows = [];
  const check = (what, target, actual, pass) => rows.push({ what, target, actual, pass });
  const ok = (x) => x && !x.failed;
  for (const [sizeName, r] of Object.entries(results)) {
    const at = sizeName === 'large' ? '5,000 nodes' : '500 nodes';
    const failed = Object.entries(r).filter(([, x]) => x.failed);
    if (failed.length)
      check(
        `${at}: every command answers`,
        'exit 0/1/2',
        failed.map(([k, x]) => `${k}: ${x.answer}`).join('; '),
        false,
      );
    const floor = ok(r.floor) ? r.floor : undefined;
    const limits = { trace: 0.1, proxy: 0.25, 'proxy-node': 0.25, doctor: 1.2 };
    for (const [name, limit] of Object.entries(limits)) {
      if (!floor || !r[name]) continue;
      const x = r[name];
      const ratio = ok(x) ? ratioOf(x, floor) : undefined;
      const actual = ok(x) ? `${ratio.toFixed(2)} × (${fmtS(x.ms)})` : 'failed';
      check(`${at}: ${name} ≤ ${limit} × floor`, `≤ ${limit} ×`, actual, ok(x) && ratio <= limit);
    }
    const knetRuns = Object.entries(r).filter(([k, v]) => k !== 'floor' && ok(v) && v.rssKB);
    if (knetRuns.length) {
      const [worst, w] = knetRuns.sort((a, b) => b[1].rssKB - a[1].rssKB)[0];
      check(
        `${at}: peak RSS ≤ 1 GB, every command`,
        '≤ 1024 MB',
        `${fmtMB(w.rssKB)} (${worst})`,
        w.rssKB <= 1024 * 1024,
      );
    }
    if (ok(r.trace) && ok(r['trace-demo'])) {
      const ratio = ratioOf(r.trace, r['trace-demo']);
      check(
        `${at}: trace ≤ 3 × a trace on the demo`,
        '≤ 3 ×',
        `${ratio.toFixed(2)} × (${fmtS(r['trace-demo'].ms)})`,
        ratio <= 3,
      );
    }
  }
  return rows;
}

function resultsMarkdown(opts, bundles, results, skipped, started) {
  const m = machine();
  const lines = [];
  lines.push('# knet scale bench: latest figures', '');
  lines.push(
    `Written by \`node bench/scale.js\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
  );
  lines.push(
    `Machine: ${m.cpus}, ${m.memory}, ${m.os}, Node ${m.node}; load average at start ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (the machine is shared: figures vary with the load).`,
  );
  if (KNET !== path.join(root, 'bin', 'knet')) lines.push(`knet under test: ${KNET}.`);
  lines.push(
    `Wall time: median of ${opts.runs} interleaved runs of the whole process (start-up included); × floor: the median of the round-by-round ratios (each round's command and floor met the same load); peak RSS: ${m.rss}, the largest of the runs. Output to a file, NO_COLOR.`,
    '',
  );
  for (const sizeName of opts.sizes) {
    const b = bundles[sizeName];
    const r = results[sizeName];
    const size = SIZES[sizeName];
    const mb = b.info.objectFiles.reduce((n, f) => n + f.bytes, 0) / 1e6;
    lines.push(`## ${size.label}`, '');
    lines.push(
      `Bundle: ${b.info.objects.toLocaleString('en-US')} objects in ${b.info.objectFiles.length} files (${mb.toFixed(0)} MB of JSON), iptables-save.txt of ${(b.info.iptablesBytes / 1e6).toFixed(1)} MB on ${b.info.proxy?.node}; seed ${b.info.seed}.`,
      '',
    );
    lines.push(
      '| command | wall (median) | runs | peak RSS | × floor | exit | answer |',
      '|---|---:|---|---:|---:|---|---|',
    );
    for (const c of commandsFor(b, true, undefined)) {
      const x = r[c.name];
      if (!x) {
        const why = skipped[`${sizeName}/${c.name}`];
        if (why)
          lines.push(
            `| ${c.name === 'floor' ? 'floor (read + JSON.parse)' : c.show} | skipped | | | | | ${why} |`,
          );
        continue;
      }
      const times = x.runs.map((t) => (t / 1000).toFixed(2)).join(' / ');
      const rel = c.name !== 'floor' && r.floor && !x.failed ? `${ratioOf(x, r.floor).toFixed(2)} ×` : '';
      const answer = c.name === 'batch' ? `${x.answer}; ${fmtS(x.ms / 20)} a trace` : x.answer;
      lines.push(
        `| ${c.name === 'floor' ? 'floor (read + JSON.parse)' : c.show} | ${fmtS(x.ms)} | ${times} | ${x.failed ? '–' : fmtMB(x.rssKB)} | ${rel} | ${x.exit} | ${answer} |`,
      );
    }
    lines.push('');
  }
  const checks = evaluate(results);
  if (checks.length) {
    lines.push('## Targets (issue 25)', '');
    lines.push('| target | limit | measured | |', '|---|---|---|---|');
    for (const c of checks)
      lines.push(`| ${c.what} | ${c.target} | ${c.actual} | ${c.pass ? 'met' : '**missed**'} |`);
    lines.push('');
  }
  lines.push('Reproduce: `npm run build && node bench/scale.js` (see docs/performance.md).', '');
  return lines.join('\n');
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.knet) KNET = opts.knet;
  const started = new Date();
  const hasProxy = await proxyRegistered();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'knet-scale-'));
  const bundles = {};
  const results = {};
  const skipped = {};
  try {
    for (const sizeName of opts.sizes) {
      const bundle = ensureBundle(SIZES[sizeName], opts.regenerate);
      bundles[sizeName] = bundle;
      results[sizeName] = {};
      process.stdout.write(`\n${SIZES[sizeName].label}  (${path.relative(root, bundle.dir)})\n`);
      // Runs are interleaved (floor, trace, …, floor, trace, …) so that a change in the load of
      // the shared machine hits every command alike, and each is compared with its floor.
      const commands = commandsFor(bundle, hasProxy, tmp).filter(
        (c) => !opts.only || opts.only.includes(c.name),
      );
      const state = new Map(
        commands.map((c) => [c.name, { runs: [], rssKB: 0, answer: '', exit: undefined, failed: false }]),
      );
      for (const c of commands) {
        if (c.skip) {
          skipped[`${sizeName}/${c.name}`] = c.skip;
          process.stdout.write(`  ${c.show.padEnd(44)} skipped: ${c.skip}\n`);
        }
      }
      for (let i = 0; i < opts.runs; i++) {
        for (const c of commands) {
          const st = state.get(c.name);
          if (c.skip || st.failed) continue;
          const outFile = path.join(tmp, `${sizeName}-${c.name}.out`);
          const r = await measure(c.args, { timeoutS: opts.timeout, outFile, env: c.env });
          st.runs.push(r.ms);
          st.exit = r.exit;
          if (r.exit === 'timeout' || !c.ok.includes(r.exit)) {
            st.failed = true;
            st.answer =
              r.exit === 'timeout'
                ? `timed out after ${opts.timeout} s`
                : `failed: ${r.stderr.split('\n')[0]}`;
            continue;
          }
          st.rssKB = Math.max(st.rssKB, r.rssKB);
          st.answer = summarize(c.name, readFileSync(outFile, 'utf8'));
        }
      }
      for (const c of commands) {
        if (c.skip) continue;
        const st = state.get(c.name);
        const ms = median(st.runs);
        results[sizeName][c.name] = {
          ms,
          runs: st.runs,
          rssKB: st.rssKB,
          exit: st.exit,
          answer: st.answer,
          failed: st.failed,
        };
        process.stdout.write(
          `  ${(c.show ?? 'floor (read + JSON.parse)').padEnd(44)} ${fmtS(ms).padStart(9)}  ${fmtMB(st.rssKB).padStart(8)}  exit ${st.exit}  ${st.answer}\n`,
        );
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const checks = evaluate(results);
  if (checks.length) {
    process.stdout.write('\ntargets\n');
    for (const c of checks)
      process.stdout.write(
        `  ${c.pass ? 'met   ' : 'MISSED'}  ${c.what.padEnd(42)} ${c.actual}  (${c.target})\n`,
      );
  }
  if (opts.results && !opts.only) {
    // Other benches' sections (bench/diff-bench.js: "## knet diff …") stay as they are.
    const previous = existsSync(opts.results) ? readFileSync(opts.results, 'utf8') : '';
    const others = previous.indexOf('\n## knet diff');
    const kept = others >= 0 ? previous.slice(others) : '';
    writeFileSync(opts.results, resultsMarkdown(opts, bundles, results, skipped, started) + kept);
    process.stdout.write(`\nwrote ${path.relative(root, opts.results)}\n`);
  } else if (opts.results) {
    process.stdout.write('\n(--only: bench/RESULTS.md left as it is)\n');
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`scale: ${err.stack ?? err.message}\n`);
    process.exitCode = 2;
  });
}
