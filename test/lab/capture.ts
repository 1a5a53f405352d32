// Captures a snapshot bundle (shared/design/snapshot.md) from a live lab: cluster.json from the
// lab's API objects, every node and pod file from the live namespaces with the real tools.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Raw } from '../../src/model/normalize.js';
import { nsExec } from './exec.js';
import { asList } from './scenario.js';
import { CNI_CONFLIST, type Lab, type LabNode, type LabPod } from './topology.js';

export interface CaptureOptions {
  /** The API objects to write (default: the lab's current objects). */
  objects?: Raw[];
  /** meta.json fields. */
  context?: string;
  capturedAt?: string;
  /** Leave out the per-pod files (a node-level capture only). */
  skipPods?: boolean;
}

/** The commands of snapshot.md for a node's files, as they are run inside its namespace. */
const NODE_COMMANDS: Record<string, string[]> = {
  'iptables-save.txt': ['iptables-save'],
  'ip-addr.json': ['ip', '-j', 'addr', 'show'],
  'ip-link.json': ['ip', '-j', '-d', 'link', 'show'],
  'ip-route.json': ['ip', '-j', 'route', 'show', 'table', 'all'],
  'ip-rule.json': ['ip', '-j', 'rule', 'show'],
  'sysctl.txt': ['sysctl', '-a', '-r', '^net\\.'],
  'nft.json': ['nft', '-j', 'list', 'ruleset'],
  'ip-neigh.json': ['ip', '-j', 'neigh', 'show'],
  'bridge-fdb.json': ['bridge', '-j', 'fdb', 'show'],
  // The node's own listening sockets (hostNetwork pods' servers among them).
  'ss.txt': ['ss', '-H', '-lntu'],
};

/** The pod's own namespace, seen from inside it. */
const POD_COMMANDS: Record<string, string[]> = {
  'ip-addr.json': ['ip', '-j', 'addr', 'show'],
  'ip-route.json': ['ip', '-j', 'route', 'show'],
  'ss.txt': ['ss', '-H', '-lntu'],
  'iptables-save.txt': ['iptables-save'],
  'nft.json': ['nft', '-j', 'list', 'ruleset'],
};

/** Files whose command may exit non-zero with complete output (sysctl -a: the odd unreadable key). */
const ALLOW_FAIL = new Set(['sysctl.txt']);

const shellQuote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * Runs each command inside the namespace (one `ip netns exec NS sh` for all of them: the same
 * commands, one process start instead of ten); returns file name → the command's stdout.
 */
function runInNamespace(ns: string, commands: Record<string, string[]>): Record<string, string> {
  const files = Object.keys(commands);
  const marker = `@@knet-capture-${process.pid}@@`;
  const script = files
    .map(
      (f, i) =>
        `${commands[f].map(shellQuote).join(' ')} 2>/dev/null; printf '\\n${marker} %s %s\\n' ${i} $?`,
    )
    .join('\n');
  const out = nsExec(ns, ['sh', '-c', script]);
  const result: Record<string, string> = {};
  let rest = out;
  for (const [i, file] of files.entries()) {
    const end = rest.indexOf(`\n${marker} ${i} `);
    if (end < 0) throw new Error(`capture in ${ns}: no output for ${file}`);
    const statusEnd = rest.indexOf('\n', end + 1 + marker.length);
    const status = Number(rest.slice(end + 1 + marker.length + String(i).length + 2, statusEnd));
    if (status !== 0 && !ALLOW_FAIL.has(file))
      throw new Error(`capture in ${ns}: ${commands[file].join(' ')} exited ${status}`);
    result[file] = rest.slice(0, end);
    rest = rest.slice(statusEnd + 1);
  }
  return result;
}

/** Runs the commands of snapshot.md in a node namespace; returns file name → content. */
export function captureNodeFiles(node: LabNode): Record<string, string> {
  return runInNamespace(node.ns, NODE_COMMANDS);
}

/** The pod's own namespace, seen from inside it. */
export function capturePodFiles(lab: Lab, pod: LabPod): Record<string, string> {
  return { ...runInNamespace(pod.ns, POD_COMMANDS), 'resolv.conf': kubeletResolvConf(lab, pod) };
}

/**
 * /etc/resolv.conf as kubelet writes it for a ClusterFirst pod (the lab runs no kubelet; the
 * file is what kubelet would bind-mount into the container).
 */
export function kubeletResolvConf(lab: Lab, pod: LabPod): string {
  const domain = lab.scenario.lab.clusterDomain;
  const model = lab.model();
  // dnsPolicy Default: the node's own resolv.conf (the lab's nodes resolve through the
  // underlay router, as kind's nodes do through their Docker network's gateway).
  if (model.pod(pod.namespace, pod.name)?.dnsPolicy === 'Default')
    return `nameserver ${lab.underlayGateway}\n`;
  const dns = model.service('kube-system', 'kube-dns');
  const lines = [`search ${pod.namespace}.svc.${domain} svc.${domain} ${domain}`];
  if (dns?.clusterIPs[0]) lines.push(`nameserver ${dns.clusterIPs[0]}`);
  lines.push('options ndots:5');
  return `${lines.join('\n')}\n`;
}

/** A node's conflist: exactly the text the lab gave the CNI plugins (default: the first node's). */
export function cniConflist(lab: Lab, nodeName?: string): string {
  const name = nodeName ?? [...lab.nodes.keys()][0];
  const text = lab.cniConfigs.get(name);
  if (text === undefined) throw new Error(`no CNI configuration for node ${name} (lab not built?)`);
  return text;
}

export function captureBundle(lab: Lab, dir: string, options: CaptureOptions = {}): void {
  // Replace what a capture writes; leave anything else in the folder alone (a README, further
  // object files in cluster/ that others add to the demo).
  for (const entry of ['cluster.json', 'nodes', 'meta.json']) {
    rmSync(join(dir, entry), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  const objects = options.objects ?? lab.objects;
  // kubectl prints JSON with 4-space indentation.
  writeFileSync(join(dir, 'cluster.json'), `${JSON.stringify(asList(objects), null, 4)}\n`);
  for (const node of lab.nodes.values()) {
    const nodeDir = join(dir, 'nodes', node.name);
    mkdirSync(join(nodeDir, 'cni'), { recursive: true });
    for (const [file, text] of Object.entries(captureNodeFiles(node)))
      writeFileSync(join(nodeDir, file), text);
    writeFileSync(join(nodeDir, 'cni', CNI_CONFLIST), cniConflist(lab, node.name));
  }
  if (!options.skipPods) {
    for (const pod of lab.pods.values()) {
      // A hostNetwork pod has no namespace of its own: the node's files are its files.
      if (pod.hostNetwork) continue;
      const podDir = join(dir, 'nodes', pod.node.name, 'pods', `${pod.namespace}_${pod.name}`);
      mkdirSync(podDir, { recursive: true });
      for (const [file, text] of Object.entries(capturePodFiles(lab, pod)))
        writeFileSync(join(podDir, file), text);
    }
  }
  const meta = {
    capturedAt: options.capturedAt ?? new Date().toISOString(),
    context: options.context ?? `knet-lab-${lab.scenario.lab.name}-${lab.scenario.lab.overlay}`,
    server: null,
    knetVersion: '0.1.0',
  };
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
}
