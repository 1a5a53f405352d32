// Emulated Kubernetes nodes in network namespaces (root only): a node netns with a cni0
// bridge, an uplink veth, a kube-proxy-like DNAT rule, and one pod netns whose process sits
// in a cgroup named after the pod's uid (as the kubelet does), with a resolv.conf and a
// listening socket. Every name starts with the test's prefix; destroy() removes everything.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { isRoot } from '../support/root.js';

/** Where a test cgroup can be made: cgroup v1's pids hierarchy, else the v2 unified root. */
function cgroupBase(): string {
  return existsSync('/sys/fs/cgroup/pids/cgroup.procs') ? '/sys/fs/cgroup/pids' : '/sys/fs/cgroup';
}

/** Root, and a cgroup can be created here (not so in some containers): the node can be emulated. */
export function canEmulateNodes(): { ok: boolean; why?: string } {
  if (!isRoot) return { ok: false, why: 'not root' };
  const probe = `${cgroupBase()}/knet9-probe-${process.pid}`;
  try {
    mkdirSync(probe);
    rmdirSync(probe);
  } catch (err) {
    return { ok: false, why: `cannot create a cgroup (${(err as Error).message})` };
  }
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return { ok: false, why: 'no ip netns' };
  }
  return { ok: true };
}

export interface EmulatedNode {
  netns: string;
  podNetns: string;
  podUid: string;
  destroy(): void;
}

export interface NodeSpec {
  prefix: string;
  /** The node's pod CIDR gateway, e.g. 10.244.1.1/24. */
  bridgeCidr: string;
  podIp: string;
  /** The node's own address on its uplink, e.g. 172.18.0.2/24; the peer is .254. */
  nodeCidr: string;
  service: { ip: string; port: number; targetPort: number };
  podUid: string;
  resolvConf: string;
}

const ip = (...args: string[]) =>
  execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });

export function emulateNode(spec: NodeSpec): EmulatedNode {
  const node = `${spec.prefix}-node`;
  const pod = `${spec.prefix}-pod`;
  const peer = `${spec.prefix}-peer`;
  const cgroup = `${cgroupBase()}/${spec.prefix}-pod${spec.podUid}`;
  const netnsEtc = `/etc/netns/${pod}`;
  let proc: ChildProcess | undefined;
  const destroy = () => {
    if (proc?.pid) {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {}
    }
    for (let i = 0; i < 20 && existsSync(cgroup); i++) {
      try {
        rmdirSync(cgroup);
      } catch {
        execFileSync('sleep', ['0.05']);
      }
    }
    for (const ns of [node, pod, peer]) {
      try {
        ip('netns', 'del', ns);
      } catch {}
    }
    rmSync(netnsEtc, { recursive: true, force: true });
    try {
      rmdirSync('/etc/netns');
    } catch {}
  };
  try {
    for (const ns of [node, pod, peer]) ip('netns', 'add', ns);
    const n = (...a: string[]) => ip('-n', node, ...a);
    const p = (...a: string[]) => ip('-n', pod, ...a);
    const [bridgeIp, prefixLen] = spec.bridgeCidr.split('/');
    n('link', 'set', 'lo', 'up');
    n('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer);
    n('addr', 'add', spec.nodeCidr, 'dev', 'eth0');
    n('link', 'set', 'eth0', 'up');
    ip('-n', peer, 'link', 'set', 'eth0', 'up');
    n('link', 'add', 'cni0', 'type', 'bridge');
    n('addr', 'add', spec.bridgeCidr, 'dev', 'cni0');
    n('link', 'set', 'cni0', 'up');
    n('link', 'add', 'veth1a2b3c', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod);
    n('link', 'set', 'veth1a2b3c', 'master', 'cni0', 'up');
    p('link', 'set', 'lo', 'up');
    p('addr', 'add', `${spec.podIp}/${prefixLen}`, 'dev', 'eth0');
    p('link', 'set', 'eth0', 'up');
    p('route', 'add', 'default', 'via', bridgeIp);
    const ipt = (...a: string[]) =>
      execFileSync('ip', ['netns', 'exec', node, 'iptables', ...a], { timeout: 10_000 });
    ipt('-t', 'nat', '-N', 'KUBE-SERVICES');
    ipt('-t', 'nat', '-A', 'PREROUTING', '-j', 'KUBE-SERVICES');
    ipt('-t', 'nat', '-A', 'OUTPUT', '-j', 'KUBE-SERVICES');
    ipt(
      '-t',
      'nat',
      '-A',
      'KUBE-SERVICES',
      '-d',
      `${spec.service.ip}/32`,
      '-p',
      'tcp',
      '--dport',
      String(spec.service.port),
      '-j',
      'DNAT',
      '--to-destination',
      `${spec.podIp}:${spec.service.targetPort}`,
    );
    mkdirSync(netnsEtc, { recursive: true });
    writeFileSync(`${netnsEtc}/resolv.conf`, spec.resolvConf);
    // The "container": listens on the target port for at most 60 s.
    proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        pod,
        process.execPath,
        '-e',
        `require('net').createServer().listen(${spec.service.targetPort}); setTimeout(() => process.exit(0), 60000);`,
      ],
      { stdio: 'ignore' },
    );
    mkdirSync(cgroup);
    writeFileSync(`${cgroup}/cgroup.procs`, String(proc.pid));
    // Wait (bounded) until the socket listens.
    for (let i = 0; i < 50; i++) {
      const ss = execFileSync('ip', ['netns', 'exec', pod, 'ss', '-H', '-lnt'], { encoding: 'utf8' });
      if (ss.includes(`:${spec.service.targetPort}`)) break;
      execFileSync('sleep', ['0.05']);
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { netns: node, podNetns: pod, podUid: spec.podUid, destroy };
}
