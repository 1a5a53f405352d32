// The node collection script and the parser of what it prints. The script runs in a
// privileged debug pod (hostNetwork, hostPID) on each node and prints every file of
// snapshot.md's nodes/NODE/ layout, framed and base64-encoded so that any byte survives the
// exec stream:
//
//   #knet-collect 1 HOSTNAME
//   #knet-file ip-addr.json ok          (or: error EXIT_CODE, then the command's stderr)
//   <base64 lines>
//   #knet-end
//   …
//   #knet-done
//
// Pods are passed as arguments `DIR=UID` (DIR = NAMESPACE_NAME); their network namespace is
// found through the cgroup of a process of the pod and entered with nsenter.
import { ParseError } from '../../core/errors.js';

export const SCRIPT_VERSION = '1';

/** The host's root file system, seen from a hostPID container. */
export const HOST_ROOT = '/proc/1/root';

export const NODE_COLLECTION_SCRIPT = `set -u
T=$(mktemp -d 2>/dev/null || { mkdir -p /tmp/knet.$$ && echo /tmp/knet.$$; })
trap 'rm -rf "$T"' EXIT
emit() {
  f=$1; shift
  if "$@" >"$T/out" 2>"$T/err"; then
    echo "#knet-file $f ok"; base64 <"$T/out"
  else
    rc=$?; echo "#knet-file $f error $rc"; base64 <"$T/err"
  fi
  echo "#knet-end"
}
fail() { echo "#knet-file $1 error 1"; printf '%s\\n' "$2" | base64; echo "#knet-end"; }
have() { command -v "$1" >/dev/null 2>&1; }
rules() { "$1" 2>/dev/null | grep -c '^-A' ; }
# The iptables backend kube-proxy used is the one holding the rules (legacy or nft).
best_save() {
  best=""; bestn=-1
  for c in "$1-nft-save" "$1-legacy-save" "$1-save"; do
    have "$c" || continue
    n=$(rules "$c"); n=\${n:-0}
    if [ "$n" -gt "$bestn" ]; then best=$c; bestn=$n; fi
  done
  echo "$best"
}
net_sysctls() { sysctl -a 2>/dev/null | grep '^net\\.'; }
echo "#knet-collect ${SCRIPT_VERSION} $(hostname 2>/dev/null)"
s=$(best_save iptables); [ -n "$s" ] && emit iptables-save.txt "$s"
s=$(best_save ip6tables); [ -n "$s" ] && emit ip6tables-save.txt "$s"
if [ -e /proc/net/ip_vs ] && have ipvsadm; then emit ipvsadm.txt ipvsadm -Sn; fi
have nft && emit nft.json nft -j list ruleset
emit ip-addr.json ip -j addr show
emit ip-link.json ip -j -d link show
emit ip-route.json ip -j route show table all
emit ip-rule.json ip -j rule show
emit ip-neigh.json ip -j neigh show
have bridge && emit bridge-fdb.json bridge -j fdb show
emit ss.txt ss -H -lntu
emit sysctl.txt net_sysctls
for f in ${HOST_ROOT}/etc/cni/net.d/*; do
  [ -f "$f" ] && emit "cni/$(basename "$f")" head -c 1048576 "$f"
done
for spec in "$@"; do
  dir=\${spec%%=*}; uid=\${spec#*=}; uidu=$(echo "$uid" | tr - _)
  pids=$(grep -l -e "pod$uid" -e "pod$uidu" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3)
  if [ -z "$pids" ]; then fail "pods/$dir" "no process of pod uid $uid on this node"; continue; fi
  pid=""; rpid=""
  for p in $pids; do
    [ -z "$pid" ] && pid=$p
    if [ -z "$rpid" ] && [ -f "/proc/$p/root/etc/resolv.conf" ]; then rpid=$p; fi
  done
  emit "pods/$dir/ip-addr.json" nsenter -t "$pid" -n ip -j addr show
  emit "pods/$dir/ip-route.json" nsenter -t "$pid" -n ip -j route show
  emit "pods/$dir/ss.txt" nsenter -t "$pid" -n ss -H -lntu
  # The pod's own rules (a sidecar's redirect, the application's firewall), when it has any.
  s=$(best_save iptables); [ -n "$s" ] && emit "pods/$dir/iptables-save.txt" nsenter -t "$pid" -n "$s"
  have nft && emit "pods/$dir/nft.json" nsenter -t "$pid" -n nft -j list ruleset
  if [ -n "$rpid" ]; then emit "pods/$dir/resolv.conf" cat "/proc/$rpid/root/etc/resolv.conf"; fi
done
echo "#knet-done"
`;

export interface CollectPodRef {
  namespace: string;
  name: string;
  uid: string;
}

/** The folder of a pod below nodes/NODE/pods/ (snapshot.md). */
export function podDir(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}_${pod.name}`;
}

/** The exec command: `sh -c SCRIPT knet-collect DIR=UID…` (the pods are the script's "$@"). */
export function collectionCommand(pods: readonly CollectPodRef[]): string[] {
  return ['sh', '-c', NODE_COLLECTION_SCRIPT, 'knet-collect', ...pods.map((p) => `${podDir(p)}=${p.uid}`)];
}

export interface CollectionOutput {
  /** Path below nodes/NODE/ → text. */
  files: Record<string, string>;
  /** Commands that failed on the node (a tool missing, a pod not found): path → stderr. */
  errors: { path: string; message: string }[];
  /** The script ran to its end (`#knet-done`). */
  complete: boolean;
}

const SAFE_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[\w.@:=+,-]+(\/[\w.@:=+,-]+)*$/;

/** Parses the script's output; `source` names it in errors (e.g. "exec output of node-1"). */
export function parseCollectionOutput(text: string, source: string): CollectionOutput {
  const out: CollectionOutput = { files: {}, errors: [], complete: false };
  const lines = text.split('\n');
  let current: { path: string; ok: boolean; line: number; data: string[] } | undefined;
  let header = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const n = i + 1;
    if (current) {
      if (line === '#knet-end') {
        const content = current.data.join('');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(content) || content.length % 4 !== 0) {
          throw new ParseError(source, current.line, `the data of ${current.path} is not base64`);
        }
        const decoded = Buffer.from(content, 'base64').toString('utf8');
        if (current.ok) out.files[current.path] = decoded;
        else out.errors.push({ path: current.path, message: decoded.trim().split('\n')[0] || 'failed' });
        current = undefined;
      } else if (line.startsWith('#knet-')) {
        throw new ParseError(source, n, `"${line}" inside ${current.path} (missing #knet-end)`);
      } else {
        current.data.push(line.trim());
      }
      continue;
    }
    if (line.trim() === '') continue;
    if (line.startsWith('#knet-collect ')) {
      const version = line.split(' ')[1];
      if (version !== SCRIPT_VERSION)
        throw new ParseError(source, n, `unknown collection format version ${version}`);
      header = true;
    } else if (line.startsWith('#knet-file ')) {
      if (!header) throw new ParseError(source, n, 'output does not start with #knet-collect');
      const [, path, status] = line.split(' ');
      if (!path || !SAFE_PATH.test(path))
        throw new ParseError(source, n, `unsafe or empty file path "${path ?? ''}"`);
      if (status !== 'ok' && status !== 'error')
        throw new ParseError(source, n, `unknown status "${status ?? ''}"`);
      current = { path, ok: status === 'ok', line: n, data: [] };
    } else if (line === '#knet-done') {
      out.complete = true;
    } else {
      throw new ParseError(source, n, `unexpected line "${line.slice(0, 60)}"`);
    }
  }
  if (current) throw new ParseError(source, current.line, `output ends inside ${current.path}`);
  if (!header) throw new ParseError(source, 1, 'no collection output (the script did not start)');
  return out;
}
