// The differential test's side of the live lab: runs a case's steps in the lab's namespaces,
// probes pairs with the lab's probe agent (asynchronously, so that a case's pairs wait in
// parallel), brings the lab back to its baseline between cases and checks that it did.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipn, nsExec, run } from '../lab/exec.js';
import type { TraceVerdict } from '../lab/faults.js';
import type { Lab, ProbeOutcome, ProbeResult } from '../lab/topology.js';
import {
  type Mutation,
  type Pair,
  type PairInfo,
  pairInfo,
  type Step,
  type Topology,
  type Where,
} from './generate.js';

const PROBE_AGENT = fileURLToPath(new URL('../lab/agents/probe.mjs', import.meta.url));

export function namespaceOf(lab: Lab, where: Where): string {
  return 'node' in where ? lab.node(where.node).ns : lab.pod(where.pod).ns;
}

/** Replaces {veth:NS/NAME} and {mac:NODE} with the live lab's names. */
export function resolveArgv(lab: Lab, argv: string[]): string[] {
  return argv.map((a) =>
    a
      .replace(/\{veth:([^}]+)\}/g, (_, key: string) => lab.pod(key).hostVeth)
      .replace(/\{mac:([^}]+)\}/g, (_, node: string) => {
        const mac = lab.node(node).vtepMAC;
        if (!mac) throw new Error(`node ${node} has no VTEP MAC`);
        return mac;
      }),
  );
}

/** Runs one step; returns the error text when it fails (the kernel state is what it is). */
export function runStep(lab: Lab, step: Step): string | undefined {
  try {
    if ('cmd' in step) {
      const r = run(['ip', 'netns', 'exec', namespaceOf(lab, step.where), ...resolveArgv(lab, step.cmd)], {
        allowFail: true,
      });
      return r.status === 0 ? undefined : r.stderr.trim() || `exit ${r.status}`;
    }
    const node = lab.node(step.where.node);
    if (step.restore === 'vxlan-peers') {
      lab.programVxlanPeers(node);
      return undefined;
    }
    ipn(node.ns, ['route', 'replace', 'default', 'via', lab.underlayGateway, 'dev', 'eth0']);
    if (lab.scenario.lab.overlay === 'vxlan') lab.programVxlanPeers(node);
    else
      for (const other of lab.nodes.values())
        if (other !== node) ipn(node.ns, ['route', 'replace', other.podCIDR, 'via', other.ip, 'dev', 'eth0']);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Applies the mutations in order; returns a note per step that failed. */
export function applyMutations(lab: Lab, mutations: Mutation[]): string[] {
  const notes: string[] = [];
  mutations.forEach((m, i) => {
    for (const step of m.apply) {
      const err = runStep(lab, step);
      if (err)
        notes.push(`mutation ${i + 1} (${m.kind}): a step failed, the kernel state is what remains: ${err}`);
    }
  });
  return notes;
}

/**
 * Undoes the mutations, last first. A step may fail because a later mutation's undo has not run
 * yet (a route over a link that is still down): the failed steps get a second pass.
 */
export function revertMutations(lab: Lab, mutations: Mutation[]): string[] {
  const failed: Step[] = [];
  for (const m of [...mutations].reverse())
    for (const step of m.revert) if (runStep(lab, step)) failed.push(step);
  return failed.map((s) => runStep(lab, s)).filter((e): e is string => e !== undefined);
}

/** The CNI config says hairpinMode: true; the lab's build leaves it off: turn it on. */
export function enableHairpin(lab: Lab): void {
  for (const pod of lab.pods.values())
    ipn(pod.node.ns, ['link', 'set', 'dev', pod.hostVeth, 'type', 'bridge_slave', 'hairpin', 'on']);
}

/** Forgets what earlier cases taught the kernel: learned neighbours, route exceptions. */
export function settle(lab: Lab): void {
  const namespaces = [lab.underlayNs, ...[...lab.nodes.values()].map((n) => n.ns)];
  namespaces.push(...[...lab.pods.values()].map((p) => p.ns));
  for (const ns of namespaces) {
    // `neigh flush` leaves permanent entries (flannel's VTEP neighbours) alone.
    ipn(ns, ['neigh', 'flush', 'all'], { allowFail: true });
    ipn(ns, ['route', 'flush', 'cache'], { allowFail: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline fingerprint

function iptablesState(ns: string): string {
  // Rules and non-default policies; empty tables and counters do not matter.
  return nsExec(ns, ['iptables-save'])
    .split('\n')
    .filter(
      (l) => l.startsWith('-A ') || /^:\S+ (DROP|REJECT)/.test(l) || /^:\S+ - /.test(l) || l.startsWith('*'),
    )
    .map((l) => l.replace(/\[\d+:\d+\]/, ''))
    .filter((l, i, all) => !(l.startsWith('*') && (all[i + 1] === undefined || all[i + 1].startsWith('*'))))
    .join('\n');
}

interface LinkJson {
  ifname: string;
  flags?: string[];
  master?: string;
  mtu?: number;
  linkinfo?: { info_slave_data?: { hairpin?: boolean } };
}

function linkState(ns: string): string {
  const links = JSON.parse(ipn(ns, ['-j', '-d', 'link', 'show'])) as LinkJson[];
  return links
    .map(
      (l) =>
        `${l.ifname} ${l.flags?.includes('UP') ? 'up' : 'down'} master=${l.master ?? '-'} mtu=${l.mtu} ` +
        `hairpin=${l.linkinfo?.info_slave_data?.hairpin ?? '-'}`,
    )
    .sort()
    .join('\n');
}

const sortedLines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.replace(/ linkdown/g, '').trim())
    .filter(Boolean)
    .sort()
    .join('\n');

/** What the mutations may change, per namespace; equal before and after a case. */
export function fingerprint(lab: Lab): Map<string, string> {
  const out = new Map<string, string>();
  const vxlan = lab.scenario.lab.overlay === 'vxlan';
  for (const node of lab.nodes.values()) {
    const parts = [
      iptablesState(node.ns),
      linkState(node.ns),
      sortedLines(ipn(node.ns, ['-4', 'route', 'show', 'table', 'all'])),
      sortedLines(ipn(node.ns, ['-4', 'rule', 'show'])),
      sortedLines(ipn(node.ns, ['-4', 'neigh', 'show', 'nud', 'permanent'])),
      vxlan ? sortedLines(run(['bridge', '-n', node.ns, 'fdb', 'show', 'dev', 'flannel.1']).stdout) : '',
      sortedLines(
        nsExec(
          node.ns,
          ['sysctl', '-a', '-r', '^net\\.ipv4\\.(ip_forward|conf\\.[^.]+\\.(rp_filter|forwarding))$'],
          {
            allowFail: true,
          },
        ),
      ),
    ];
    out.set(node.ns, parts.join('\n--\n'));
  }
  for (const pod of lab.pods.values()) {
    out.set(
      pod.ns,
      [
        iptablesState(pod.ns),
        linkState(pod.ns),
        sortedLines(ipn(pod.ns, ['-4', 'route', 'show', 'table', 'all'])),
      ].join('\n--\n'),
    );
  }
  return out;
}

/** The namespaces whose fingerprint differs, with the first differing lines. */
export function fingerprintDiff(before: Map<string, string>, after: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const [ns, text] of before) {
    const now = after.get(ns) ?? '';
    if (now === text) continue;
    const a = new Set(text.split('\n'));
    const b = new Set(now.split('\n'));
    const gone = [...a].filter((l) => !b.has(l)).slice(0, 3);
    const added = [...b].filter((l) => !a.has(l)).slice(0, 3);
    diffs.push(`${ns}: -[${gone.join(' | ')}] +[${added.join(' | ')}]`);
  }
  return diffs;
}

// ---------------------------------------------------------------------------------------------
// Probes

interface ProbeArgs {
  protocol: 'tcp' | 'udp';
  host: string;
  port: number;
  tries: number;
}

/** The lab's probe agent (≤ 3 tries of ≤ 1 s each), run without blocking the event loop. */
export function probeAsync(lab: Lab, from: string, p: ProbeArgs): Promise<ProbeResult> {
  const pod = lab.pod(from);
  const argv = [
    'netns',
    'exec',
    pod.ns,
    process.execPath,
    PROBE_AGENT,
    '--proto',
    p.protocol,
    '--host',
    p.host,
    '--port',
    String(p.port),
    '--tries',
    String(p.tries),
    '--timeout',
    '1000',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as ProbeResult);
      } catch {
        reject(
          new Error(`probe from ${from} to ${p.host}:${p.port} failed (exit ${code}): ${stderr.trim()}`),
        );
      }
    });
  });
}

export type KernelResult = 'connected' | 'failed' | 'mixed';

export interface KernelOutcome {
  result: KernelResult;
  /** e.g. "timeout ×3 (1001/1000/1001 ms)" or "8 samples: ok by diff/p1a ×3, timeout ×5". */
  detail: string;
  notes: string[];
}

const FAILED: ProbeOutcome[] = ['refused', 'unreachable', 'reset', 'no-reply', 'timeout'];
/** Single-try samples for a Service with several endpoints (kube-proxy picks one at random). */
export const SERVICE_SAMPLES = 8;

/**
 * What the kernel did for a pair. A pod, or a Service with one endpoint: one probe of 3 tries
 * (ok at the first try that connects and gets an answer). A Service with several endpoints:
 * SERVICE_SAMPLES single-try probes at once; some connected and some not ⇒ "mixed", unless every
 * endpoint answered at least once (then a failed try was not about an endpoint: a note).
 */
export async function kernelOutcome(lab: Lab, topo: Topology, pair: Pair): Promise<KernelOutcome> {
  const info = pairInfo(topo, pair);
  const args = { protocol: info.protocol, host: info.sentIP, port: info.sentPort };
  if (info.backends.length < 2) {
    const r = await probeAsync(lab, pair.from, { ...args, tries: 3 });
    checkOutcomes(r.tries.map((t) => t.outcome));
    const detail =
      `${r.outcome}${r.answeredBy ? ` by ${r.answeredBy}` : ''} ` +
      `(tries: ${r.tries.map((t) => `${t.outcome} ${t.ms} ms`).join(', ')})`;
    return { result: r.outcome === 'ok' ? 'connected' : 'failed', detail, notes: [] };
  }
  const samples = await Promise.all(
    Array.from({ length: SERVICE_SAMPLES }, () => probeAsync(lab, pair.from, { ...args, tries: 1 })),
  );
  checkOutcomes(samples.map((s) => s.outcome));
  const counts = new Map<string, number>();
  for (const s of samples) {
    const k = s.outcome === 'ok' ? `ok by ${s.answeredBy}` : s.outcome;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const detail = `${SERVICE_SAMPLES} single-try samples: ${[...counts].map(([k, n]) => `${k} ×${n}`).join(', ')}`;
  const oks = samples.filter((s) => s.outcome === 'ok');
  if (oks.length === samples.length) return { result: 'connected', detail, notes: [] };
  if (oks.length === 0) return { result: 'failed', detail, notes: [] };
  const answered = new Set(oks.map((s) => s.answeredBy));
  if (info.backends.every((b) => answered.has(b.pod.key)))
    return {
      result: 'connected',
      detail,
      notes: [
        'every endpoint answered, yet some tries failed: counted as connected (a slow try, not a path)',
      ],
    };
  return { result: 'mixed', detail, notes: [] };
}

function checkOutcomes(outcomes: ProbeOutcome[]): void {
  const bad = outcomes.filter((o) => o !== 'ok' && !FAILED.includes(o));
  if (bad.length > 0) throw new Error(`the probe agent reported ${bad.join(', ')}: a harness problem`);
}

/** Whether knet's verdict contradicts what the kernel did. */
export function disagrees(kernel: KernelResult, knet: TraceVerdict): boolean {
  if (kernel === 'connected') return knet === 'unreachable';
  if (kernel === 'failed') return knet === 'reachable';
  return knet === 'reachable' || knet === 'unreachable';
}

export type { PairInfo };

// ---------------------------------------------------------------------------------------------
// Bundle files the lab's capture does not write (yet)

/**
 * The files of shared/design/snapshot.md that captureBundle (test/lab/capture.ts) leaves out and
 * that mutations of this test change: a node's neighbours and FDB (VXLAN peers) and a pod's own
 * iptables rules. Without them a bundle would not show an `fdb`, `neigh` or pod `filter`
 * mutation at all. Written only when absent, so a lab capture that learns them wins.
 */
export function captureExtraFiles(lab: Lab, dir: string): void {
  const put = (rel: string, text: () => string) => {
    const file = join(dir, rel);
    if (existsSync(file)) return;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text());
  };
  for (const node of lab.nodes.values()) {
    put(join('nodes', node.name, 'ip-neigh.json'), () => ipn(node.ns, ['-j', 'neigh', 'show']));
    put(
      join('nodes', node.name, 'bridge-fdb.json'),
      () => run(['bridge', '-n', node.ns, '-j', 'fdb', 'show']).stdout,
    );
  }
  for (const pod of lab.pods.values()) {
    put(join('nodes', pod.node.name, 'pods', `${pod.namespace}_${pod.name}`, 'iptables-save.txt'), () =>
      nsExec(pod.ns, ['iptables-save']),
    );
  }
}
