// Issue #19: a seeded fuzz test. Every parser gets a few thousand mutated inputs and may only
// succeed or throw a ParseError; mutated copies of the demo cluster (wrong types, nulls, deep
// nesting, huge strings, control characters, numbers for strings) and of its node files go
// through readBundle/buildModel and the analyses in process (only knet's own errors may leave
// them), and a sample of them through the built CLI (exit 0/1/2, no "internal error", no stack).
//
// KNET_FUZZ_SEED=S replays a run; KNET_FUZZ_RUNS=N multiplies the number of cases (default 1).
// A failure prints the seed, the case number and the input (docs/security.md).
import { spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/analyses/doctor.js';
import { podInventory } from '../../src/analyses/inventory.js';
import { TraceTargetNotFound, traceConnection } from '../../src/analyses/trace/trace.js';
import { ParseError, UserError } from '../../src/core/errors.js';
import { parseTarget } from '../../src/core/target-grammar.js';
import { buildModel } from '../../src/model/build.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import { parseSsListening } from '../../src/model/node-state.js';
import { parseCniConfig } from '../../src/parsers/cni.js';
import {
  parseBridgeFdb,
  parseIpAddr,
  parseIpLink,
  parseIpNeigh,
  parseIpRoute,
  parseIpRule,
} from '../../src/parsers/iproute2.js';
import { parseIptablesSave } from '../../src/parsers/iptables-save.js';
import { parseIpvsadm } from '../../src/parsers/ipvsadm.js';
import { parseNftJson } from '../../src/parsers/nft.js';
import { parseResolvConf } from '../../src/parsers/resolv-conf.js';
import { parseSysctl } from '../../src/parsers/sysctl.js';
import { renderDoctor } from '../../src/render/doctor.js';
import { renderPodList } from '../../src/render/inventory.js';
import { renderTraceText } from '../../src/render/trace.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { KNET, ROOT } from '../support/cli.js';

const SEED = Number(process.env.KNET_FUZZ_SEED ?? 19_2026);
const RUNS = Math.max(1, Number(process.env.KNET_FUZZ_RUNS ?? 1));
const PARSER_CASES = 2000 * RUNS;
const OBJECT_CASES = 300 * RUNS;
const NODE_FILE_CASES = 150 * RUNS;
const CLI_BUNDLES = Number(process.env.KNET_FUZZ_CLI ?? 34) * RUNS;
/** A case in process may take this long (a hang or a blow-up is a failure too). */
const CASE_MS = 10_000;
const CLI_MS = 30_000;

console.log(`knet fuzz: KNET_FUZZ_SEED=${SEED} KNET_FUZZ_RUNS=${RUNS}`);

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)] };
}
type Rng = ReturnType<typeof rng>;

const HOSTILE = [
  '\u001b[2J\u001b[H',
  '\u001b]0;owned\u0007',
  'evil\nname',
  '\r',
  '\u0000',
  '\u202egnp.exe',
  '\u2028',
  '\t',
  '"',
  "'",
  '\\',
  '{',
  '}',
  '[',
  ']',
  ':',
  ',',
  '/',
  '/33',
  '/-1',
  '-',
  '--',
  '-j',
  '-A',
  '-m',
  '!',
  '*',
  '::',
  '0',
  '-1',
  '65536',
  '99999999999999999999',
  '1e308',
  'NaN',
  '0x10',
  '10.0.0.999',
  '1.2.3.4/99',
  'fe80::1%eth0',
  '__proto__',
  'constructor',
  'null',
  'true',
  ' ',
  '',
  '😀',
];
const hugeString = (r: Rng) => 'A'.repeat(r.pick([1_000, 1_000, 70_000, 300_000]));

/** 1–4 edits to a text: characters, lines, tokens, truncation. */
function mutateText(r: Rng, text: string): string {
  let t = text;
  for (let n = 1 + r.int(4); n > 0; n--) {
    const at = r.int(t.length + 1);
    const lines = t.split('\n');
    const li = r.int(lines.length);
    switch (r.int(10)) {
      case 0:
        t = t.slice(0, at) + String.fromCharCode(r.int(0x80)) + t.slice(at + 1);
        break;
      case 1:
        t = t.slice(0, at) + t.slice(at + 1 + r.int(40));
        break;
      case 2:
        lines.splice(li, 0, lines[r.int(lines.length)]);
        t = lines.join('\n');
        break;
      case 3:
        lines.splice(li, 1);
        t = lines.join('\n');
        break;
      case 4: {
        const lj = r.int(lines.length);
        [lines[li], lines[lj]] = [lines[lj], lines[li]];
        t = lines.join('\n');
        break;
      }
      case 5:
      case 6:
        t = t.slice(0, at) + r.pick(HOSTILE) + t.slice(at);
        break;
      case 7:
        t = t.slice(0, at);
        break;
      case 8:
        t =
          t.slice(0, at) +
          (r.int(8) === 0 ? hugeString(r) : `${r.pick(HOSTILE)}${r.pick(HOSTILE)}`) +
          t.slice(at);
        break;
      default: {
        // A token of the line moved into another line: plausible but wrong syntax.
        const words = (lines[r.int(lines.length)] ?? '').split(/\s+/);
        const w = r.pick(words);
        const parts = (lines[li] ?? '').split(' ');
        parts.splice(r.int(parts.length + 1), 0, w);
        lines[li] = parts.join(' ');
        t = lines.join('\n');
      }
    }
  }
  return t;
}

// biome-ignore lint/suspicious/noExplicitAny: mutated JSON is any shape on purpose
type Json = any;

/** The JSON text of each deeply nested value (JSON.stringify would overflow the stack). */
const DEEP_TEXT = new WeakMap<object, string>();
const DEEP_MARK = '\u0000knet-fuzz-deep:';

/** Deeply nested arrays or objects (no recursion builds them). */
function deep(r: Rng): Json {
  const depth = r.pick([100, 100, 3_000, 30_000]);
  let v: Json = r.int(2) ? [] : {};
  let open = Array.isArray(v) ? '[' : '{';
  let close = Array.isArray(v) ? ']' : '}';
  const opens: string[] = [];
  const closes: string[] = [];
  for (let i = 0; i < depth; i++) {
    const arr = r.int(2) === 0;
    v = arr ? [v] : { a: v };
    opens.push(arr ? '[' : '{"a":');
    closes.push(arr ? ']' : '}');
  }
  open = opens.reverse().join('') + open;
  close = close + closes.join('');
  DEEP_TEXT.set(v, open + close);
  return v;
}

/** JSON.stringify that writes deeply nested values from their text. */
function stringify(v: Json): string {
  const found: string[] = [];
  const text = JSON.stringify(v, (_k, x) => {
    if (x && typeof x === 'object' && DEEP_TEXT.has(x)) {
      found.push(DEEP_TEXT.get(x) as string);
      return `${DEEP_MARK}${found.length - 1}`;
    }
    return x;
  });
  if (!found.length) return text;
  return text.replace(/"\\u0000knet-fuzz-deep:(\d+)"/g, (_m, i) => found[Number(i)]);
}

/** A replacement value of the wrong kind for whatever was there. */
function wrongValue(r: Rng, old: Json, donor: () => Json): Json {
  switch (r.int(14)) {
    case 0:
      return null;
    case 1:
      return r.pick([0, -1, 1.5, 65536, 2 ** 53, -(2 ** 31), 1e308]);
    case 2:
      return typeof old === 'number' ? String(old) : typeof old === 'string' && old ? old.length : '80';
    case 3:
      return r.pick(HOSTILE);
    case 4:
      return r.int(2) === 0 ? hugeString(r) : `${old}`.repeat(50);
    case 5:
      return `${typeof old === 'string' ? old : 'x'}${r.pick(HOSTILE)}\u001b[31m`;
    case 6:
      return r.int(2) === 0;
    case 7:
      return [];
    case 8:
      return {};
    case 9:
      return r.int(3) === 0 ? deep(r) : [[[[old]]]];
    case 10:
      return [old, old];
    case 11:
      return Array.isArray(old) ? old[0] : [old];
    case 12:
      return { [r.pick(HOSTILE)]: old };
    default:
      return structuredClone(donor());
  }
}

/** Paths to every value of a document (objects and arrays walked with a stack, not recursion). */
function paths(doc: Json, limit = 200_000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const stack: [Json, (string | number)[]][] = [[doc, []]];
  while (stack.length && out.length < limit) {
    const [v, p] = stack.pop() as [Json, (string | number)[]];
    if (p.length) out.push(p);
    if (v && typeof v === 'object')
      for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) stack.push([v[k], [...p, k]]);
  }
  return out;
}

const getAt = (doc: Json, p: (string | number)[]) => p.reduce((v, k) => v?.[k], doc);

/** 1–3 edits to a copy of a JSON document: a value replaced, a key deleted, an element copied. */
function mutateJson(r: Rng, doc: Json, all: (string | number)[][]): Json {
  const copy = structuredClone(doc);
  for (let n = 1 + r.int(3); n > 0; n--) {
    const p = r.pick(all);
    const parent = getAt(copy, p.slice(0, -1));
    if (!parent || typeof parent !== 'object') continue;
    const key = p[p.length - 1];
    const old = parent[key];
    const what = r.int(6);
    if (what === 0 && !Array.isArray(parent)) delete parent[key];
    else if (what === 1 && Array.isArray(parent)) parent.push(old);
    else parent[key] = wrongValue(r, old, () => getAt(doc, r.pick(all)));
  }
  return copy;
}

/** An input for a failure message: long runs of one character shown as their count. */
function shown(input: string): string {
  const runs = input.replace(/(.)\1{63,}/gs, (m, ch) => `<${JSON.stringify(ch)} × ${m.length}>`);
  return JSON.stringify(runs.length > 20_000 ? `${runs.slice(0, 20_000)}…(${runs.length} chars)` : runs);
}

// --- parsers ----------------------------------------------------------------------------------

const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const DEMO_W = 'examples/demo/nodes/demo-worker';
const KB = 'test/fixtures/kube/bundle/nodes';

const NEIGH = JSON.stringify([
  { dst: '10.244.2.0', dev: 'flannel.1', lladdr: 'ae:1f:32:10:00:02', state: ['PERMANENT'] },
  { dst: '172.18.0.4', dev: 'eth0', lladdr: '02:42:ac:12:00:04', state: ['REACHABLE'] },
  { dst: 'fe80::1', dev: 'eth0', state: ['FAILED'] },
]);
const FDB = JSON.stringify([
  { mac: 'ae:1f:32:10:00:02', ifname: 'flannel.1', dst: '172.18.0.4', flags: ['self'], state: 'permanent' },
  { mac: '0a:58:0a:f4:01:05', ifname: 'veth1', master: 'cni0', flags: [], state: '' },
]);

interface ParserCase {
  name: string;
  seeds: string[];
  json: boolean;
  parse: (text: string) => unknown;
}

const PARSERS: ParserCase[] = [
  {
    name: 'iptables-save',
    json: false,
    seeds: [read(`${DEMO_W}/iptables-save.txt`), read('test/fixtures/proxy/iptables-save.ipvs.txt')],
    parse: (t) => parseIptablesSave(t, 'iptables-save.txt'),
  },
  {
    // As a node's dump is read: chain by chain, each rule tokenized when its chain is read.
    name: 'iptables-save, read lazily',
    json: false,
    seeds: [read(`${DEMO_W}/iptables-save.txt`), read('test/fixtures/proxy/iptables-save.ipvs.txt')],
    parse: (t) => {
      const dump = parseIptablesSave(t, 'iptables-save.txt', { lazy: true });
      for (const table of dump.tables.values()) for (const chain of table.chains.values()) void chain.rules;
      return dump;
    },
  },
  {
    name: 'ip -j addr',
    json: true,
    seeds: [read(`${DEMO_W}/ip-addr.json`), read('test/fixtures/iproute2/pod-ip-addr.json')],
    parse: (t) => parseIpAddr(t, 'ip-addr.json'),
  },
  {
    name: 'ip -j link',
    json: true,
    seeds: [read(`${DEMO_W}/ip-link.json`), read('test/fixtures/iproute2/node-ip-link.json')],
    parse: (t) => parseIpLink(t, 'ip-link.json'),
  },
  {
    name: 'ip -j route',
    json: true,
    seeds: [read(`${DEMO_W}/ip-route.json`), read('test/fixtures/iproute2/node-ip-route.json')],
    parse: (t) => parseIpRoute(t, 'ip-route.json'),
  },
  {
    name: 'ip -j rule',
    json: true,
    seeds: [read(`${DEMO_W}/ip-rule.json`), read('test/fixtures/iproute2/node-ip-rule.json')],
    parse: (t) => parseIpRule(t, 'ip-rule.json'),
  },
  { name: 'ip -j neigh', json: true, seeds: [NEIGH], parse: (t) => parseIpNeigh(t, 'ip-neigh.json') },
  { name: 'bridge -j fdb', json: true, seeds: [FDB], parse: (t) => parseBridgeFdb(t, 'bridge-fdb.json') },
  {
    name: 'ipvsadm -Sn',
    json: false,
    seeds: [read('test/fixtures/proxy/ipvsadm.scenario.txt')],
    parse: (t) => parseIpvsadm(t, 'ipvsadm.txt'),
  },
  {
    name: 'nft -j',
    json: true,
    seeds: [read('test/fixtures/proxy/nft.scenario.json'), read(`${KB}/node-2/nft.json`)],
    parse: (t) => parseNftJson(t, 'nft.json'),
  },
  {
    name: 'ss',
    json: false,
    seeds: [read(`${KB}/node-1/pods/shop_web-1/ss.txt`), read(`${KB}/node-2/pods/shop_cart-1/ss.txt`)],
    parse: (t) => parseSsListening(t, 'ss.txt'),
  },
  {
    name: 'sysctl',
    json: false,
    seeds: [read(`${DEMO_W}/sysctl.txt`), read('test/fixtures/iproute2/node-sysctl.txt')],
    parse: (t) => parseSysctl(t, 'sysctl.txt'),
  },
  {
    name: 'resolv.conf',
    json: false,
    seeds: readdirSync(path.join(ROOT, 'test/fixtures/dns/resolv')).map((f) =>
      read(`test/fixtures/dns/resolv/${f}`),
    ),
    parse: (t) => parseResolvConf(t, 'resolv.conf'),
  },
  {
    name: 'CNI conflist',
    json: true,
    seeds: ['10-flannel.conflist', '10-calico.conflist', '05-cilium.conflist', '10-bridge.conf'].map((f) =>
      read(`test/fixtures/edges/cni/${f}`),
    ),
    parse: (t) => parseCniConfig(t, '10-net.conflist'),
  },
];

/** A mutated input for a parser: JSON edits for a JSON format (then sometimes text edits too). */
function mutateInput(
  r: Rng,
  p: ParserCase,
  docs: Map<string, { doc: Json; all: (string | number)[][] }>,
): string {
  const seed = r.pick(p.seeds);
  if (p.json && r.int(4) !== 0) {
    let d = docs.get(seed);
    if (!d) {
      const doc = JSON.parse(seed);
      d = { doc, all: paths(doc) };
      docs.set(seed, d);
    }
    const text = stringify(mutateJson(r, d.doc, d.all));
    return r.int(5) === 0 ? mutateText(r, text) : text;
  }
  return mutateText(r, seed);
}

describe('fuzz: parsers fail only with a ParseError', () => {
  for (const [i, p] of PARSERS.entries()) {
    it(`${p.name}: ${PARSER_CASES} mutated inputs`, () => {
      const r = rng(SEED + i * 7919);
      const docs = new Map<string, { doc: Json; all: (string | number)[][] }>();
      let failed = 0;
      for (let n = 0; n < PARSER_CASES; n++) {
        const input = mutateInput(r, p, docs);
        const t0 = performance.now();
        try {
          p.parse(input);
        } catch (err) {
          if (!(err instanceof ParseError)) {
            failed++;
            expect.fail(
              `${p.name} case ${n} (KNET_FUZZ_SEED=${SEED}) threw ${(err as Error)?.stack ?? String(err)}\ninput: ${shown(input)}`,
            );
          }
        }
        const ms = performance.now() - t0;
        if (ms > CASE_MS)
          expect.fail(`${p.name} case ${n} (KNET_FUZZ_SEED=${SEED}) took ${ms} ms\ninput: ${shown(input)}`);
      }
      expect(failed).toBe(0);
    });
  }
});

// --- cluster objects and bundles ---------------------------------------------------------------

const DEMO = path.join(ROOT, 'examples', 'demo');
const DEMO_CLUSTER = JSON.parse(read('examples/demo/cluster.json'));
const DEMO_PATHS = paths(DEMO_CLUSTER);
const TRACES: [string, string][] = [
  ['pod/shop/frontend-9zd29xl7v-27thn', 'svc/shop/cart'],
  ['pod/shop/checkout-ghjktxjlh-sr94d', 'pod/payments/payments-api-gdl8tdvf4-hzw65'],
  ['ip/203.0.113.7', 'svc/shop/frontend'],
];

/** Every node file of the demo bundle, in memory: nodes/NODE/REL → text. */
function demoNodeFiles(): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const node of readdirSync(path.join(DEMO, 'nodes'))) {
    const files: Record<string, string> = {};
    const stack = [''];
    while (stack.length) {
      const rel = stack.pop() as string;
      for (const e of readdirSync(path.join(DEMO, 'nodes', node, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) stack.push(r);
        else files[r] = readFileSync(path.join(DEMO, 'nodes', node, r), 'utf8');
      }
    }
    out[node] = files;
  }
  return out;
}
const DEMO_NODE_FILES = demoNodeFiles();
const NODE_FILE_LIST = Object.entries(DEMO_NODE_FILES).flatMap(([node, files]) =>
  Object.keys(files).map((rel) => [node, rel] as const),
);

/** knet's own errors: a message for the user, not a crash. */
const knetError = (err: unknown) =>
  err instanceof UserError || err instanceof ParseError || err instanceof TraceTargetNotFound;

/** What one command does after loading the model, in process. */
function analyses(
  raws: Iterable<Json>,
  nodeFiles: ReturnType<typeof memoryNodeFiles>,
  trace: [string, string],
) {
  const step = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (!knetError(err)) throw err;
    }
  };
  const model = buildModel(raws, nodeFiles, undefined, () => {});
  step(() => {
    const report = runDoctor(model, {});
    renderDoctor(report, { wide: true });
  });
  step(() => {
    const inv = podInventory(model, {});
    renderPodList(inv.items, inv.findings, { wide: true, allNamespaces: true });
  });
  step(() => {
    const result = traceConnection(model, {
      source: parseTarget(trace[0], 'default', ['pod', 'node', 'ip']),
      destination: parseTarget(trace[1], 'default', ['pod', 'svc', 'node', 'ip']),
      viaNode: trace[0].startsWith('ip/') ? 'demo-worker' : undefined,
    });
    renderTraceText(result, { explain: true });
  });
}

/** Runs one case in process; a non-knet exception fails with the seed and the input. */
function inProcess(label: string, input: () => string, fn: () => void) {
  const traceFile = process.env.KNET_FUZZ_TRACE_FILE;
  if (traceFile)
    appendFileSync(traceFile, `${label}\n${label === process.env.KNET_FUZZ_DUMP ? `${input()}\n` : ''}`);
  const t0 = performance.now();
  try {
    fn();
  } catch (err) {
    if (knetError(err)) return;
    expect.fail(
      `${label} (KNET_FUZZ_SEED=${SEED}) threw ${(err as Error)?.stack ?? String(err)}\ninput: ${shown(input())}`,
    );
  }
  const ms = performance.now() - t0;
  if (ms > CASE_MS)
    expect.fail(`${label} (KNET_FUZZ_SEED=${SEED}) took ${Math.round(ms)} ms\ninput: ${shown(input())}`);
}

/** The edits a mutated cluster made, for a failure message (the whole 200 KB is not useful). */
function diffSummary(mutated: Json): string {
  const lines: string[] = [];
  mutated.items?.forEach?.((o: Json, i: number) => {
    const before = JSON.stringify(DEMO_CLUSTER.items[i]);
    const after = stringify(o);
    if (before !== after) lines.push(`items[${i}] = ${after}`);
  });
  if (mutated.items?.length !== DEMO_CLUSTER.items.length || !Array.isArray(mutated.items))
    lines.push(`items: ${stringify(mutated.items)}`);
  return lines.join('\n');
}

function mutateCluster(r: Rng): Json {
  // Most edits go into one object, where the normaliser's type checks are.
  const p = r.pick(DEMO_PATHS);
  const all = r.int(4) === 0 || p.length < 3 ? DEMO_PATHS : DEMO_PATHS.filter((q) => q[1] === p[1]);
  return mutateJson(r, DEMO_CLUSTER, all);
}

describe('fuzz: mutated cluster objects and node files, in process', () => {
  it(`${OBJECT_CASES} mutated copies of the demo cluster: doctor, pods, trace`, () => {
    const r = rng(SEED + 1);
    const nodeFiles = memoryNodeFiles(DEMO_NODE_FILES);
    for (let n = 0; n < OBJECT_CASES; n++) {
      const mutated = mutateCluster(r);
      const trace = r.pick(TRACES);
      inProcess(
        `cluster case ${n}, trace ${trace.join(' ')}`,
        () => diffSummary(mutated),
        () => analyses(mutated.items ?? [], nodeFiles, trace),
      );
    }
  }, 120_000);

  it(`${NODE_FILE_CASES} demo bundles with a mutated node file: doctor, pods, trace`, () => {
    const r = rng(SEED + 2);
    const items = DEMO_CLUSTER.items;
    for (let n = 0; n < NODE_FILE_CASES; n++) {
      const [node, rel] = r.pick(NODE_FILE_LIST);
      const original = DEMO_NODE_FILES[node][rel];
      const json = rel.endsWith('.json') || rel.endsWith('.conflist');
      let text: string;
      if (json && r.int(3) !== 0) {
        const doc = JSON.parse(original);
        text = stringify(mutateJson(r, doc, paths(doc)));
      } else text = mutateText(r, original);
      const files = { ...DEMO_NODE_FILES, [node]: { ...DEMO_NODE_FILES[node], [rel]: text } };
      const trace = r.pick(TRACES);
      inProcess(
        `node file case ${n}: nodes/${node}/${rel}, trace ${trace.join(' ')}`,
        () => text,
        () => analyses(items, memoryNodeFiles(files), trace),
      );
    }
  }, 120_000);

  it('readBundle reads mutated cluster.json files as text (syntax damage included)', async () => {
    const r = rng(SEED + 3);
    const dir = mkdtempSync(path.join(tmpdir(), 'knet-fuzz-read-'));
    made.push(dir);
    const text = readFileSync(path.join(DEMO, 'cluster.json'), 'utf8');
    for (let n = 0; n < 40 * RUNS; n++) {
      const mutated = mutateText(r, text);
      writeFileSync(path.join(dir, 'cluster.json'), mutated);
      const t0 = performance.now();
      try {
        const bundle = await readBundle(dir);
        buildModel(bundle.raws, bundle.nodeFiles, undefined, () => {});
      } catch (err) {
        if (!knetError(err))
          expect.fail(
            `readBundle case ${n} (KNET_FUZZ_SEED=${SEED}) threw ${(err as Error)?.stack ?? String(err)}`,
          );
      }
      expect(performance.now() - t0).toBeLessThan(CASE_MS);
    }
  }, 60_000);
});

// --- the built CLI -----------------------------------------------------------------------------

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [KNET, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', DEBUG: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: performance.now() - t0 });
    });
  });
}

describe('fuzz: mutated bundles through the built CLI', () => {
  it(`${CLI_BUNDLES} bundles × doctor -A, pods -A, trace: exit 0/1/2, no internal error`, async () => {
    const r = rng(SEED + 4);
    const root = mkdtempSync(path.join(tmpdir(), 'knet-fuzz-cli-'));
    made.push(root);
    const jobs: { bundle: string; args: string[]; what: string }[] = [];
    for (let n = 0; n < CLI_BUNDLES; n++) {
      const b = path.join(root, `b${n}`);
      cpSync(DEMO, b, { recursive: true });
      let what: string;
      if (r.int(3) === 0) {
        const [node, rel] = r.pick(NODE_FILE_LIST);
        const text = mutateText(r, DEMO_NODE_FILES[node][rel]);
        mkdirSync(path.dirname(path.join(b, 'nodes', node, rel)), { recursive: true });
        writeFileSync(path.join(b, 'nodes', node, rel), text);
        what = `nodes/${node}/${rel}: ${shown(text)}`;
      } else {
        const mutated = mutateCluster(r);
        writeFileSync(path.join(b, 'cluster.json'), stringify(mutated));
        what = `cluster.json: ${shown(diffSummary(mutated))}`;
      }
      const trace = r.pick(TRACES);
      for (const args of [
        ['doctor', '-A'],
        ['pods', '-A'],
        ['trace', ...trace, ...(trace[0].startsWith('ip/') ? ['--via-node', 'demo-worker'] : [])],
      ])
        jobs.push({ bundle: b, args: [...args, '--snapshot', b], what: `bundle ${n}, ${what}` });
    }
    // Two at a time: the machine has two cores.
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        const res = await runCli(job.args);
        const context = `knet ${job.args.join(' ')} (KNET_FUZZ_SEED=${SEED}): exit ${res.code} in ${Math.round(res.ms)} ms\n${res.stderr}\n${job.what}`;
        expect([0, 1, 2], context).toContain(res.code);
        expect(res.stderr, context).not.toMatch(/internal error|\n\s+at /);
        expect(res.ms, context).toBeLessThan(CLI_MS);
        if (process.env.KNET_FUZZ_VERBOSE)
          console.log(
            `${Math.round(res.ms)} ms exit ${res.code}: ${job.args.slice(0, 2).join(' ')} ${job.what.slice(0, 200)}`,
          );
      }
    };
    await Promise.all([worker(), worker()]);
  }, 300_000);
});
