// The probe: real connection attempts from a pod's own network namespace, run in the debug pod
// on the pod's node (hostPID, privileged). The shell part finds a process of the pod through
// its cgroup (as the collection script does) and enters its network namespace with nsenter;
// only the network namespace is entered, so python3 comes from the debug image and nothing has
// to exist in the user's pod. The Python part makes the attempts and prints one line:
//
//   #knet-probe 1 {"attempts":[{"outcome":"connected","ms":0.41},…],"dns":…}
//
// Every attempt is bounded (its own timeout), attempts run at most 10 at a time.
import type { AttemptOutcome, ObservedResolution } from '../../analyses/probe/agreement.js';
import { ParseError } from '../../core/errors.js';

export const PROBE_VERSION = '1';

/** What to try, as the Python program reads it (its argv[2], JSON). */
export type ProbeSpec =
  | { kind: 'tcp'; host: string; port: number; count: number; timeoutS: number }
  | {
      kind: 'http';
      host: string;
      port: number;
      count: number;
      timeoutS: number;
      /** The Host header and the path of the request. */
      httpHost: string;
      path: string;
    }
  /** One DNS query per attempt to host:port (UDP); any answer counts as reached. */
  | { kind: 'dns-server'; host: string; port: number; count: number; timeoutS: number; name: string }
  /** The pod's resolver: its resolv.conf's search path (libc's ndots rule) and nameservers. */
  | { kind: 'resolve'; name: string; type: 'A' | 'AAAA'; count: number; timeoutS: number };

export type { AttemptOutcome };

export interface Attempt {
  outcome: AttemptOutcome;
  ms: number;
  /** The HTTP status code of an answered request. */
  status?: number;
  /** The OS error, for outcome "error". */
  error?: string;
}

/** One query the pod's resolver sends (kind "resolve"). */
export type ResolverQuery = ObservedResolution['queries'][number];

export interface ProbeOutput {
  attempts: Attempt[];
  /** kind "resolve": each resolution's queries, in the order the resolver sends them. */
  resolutions?: ObservedResolution[];
  /** kind "resolve": the resolv.conf that was read. */
  resolvConf?: string;
}

const PYTHON = String.raw`
import json, socket, sys, time, errno, struct, random, threading
resolv_path, spec = sys.argv[1], json.loads(sys.argv[2])
T = float(spec['timeoutS'])
UNREACH = (errno.EHOSTUNREACH, errno.ENETUNREACH)
FIN_WAIT1 = 4

def kind_of(e):
    if isinstance(e, socket.timeout): return 'timeout'
    if isinstance(e, ConnectionRefusedError): return 'refused'
    if isinstance(e, ConnectionResetError): return 'reset'
    if isinstance(e, OSError) and e.errno in UNREACH: return 'unreachable'
    return 'error'

def family(host): return socket.AF_INET6 if ':' in host else socket.AF_INET

def tcp(host, port, request=None):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(T)
    t0 = time.perf_counter()
    try:
        s.connect((host, port))
        r = {'outcome': 'connected', 'ms': round((time.perf_counter() - t0) * 1000, 3)}
        if request is None:
            # The handshake went through; does what follows? Our FIN must be acknowledged by
            # the peer's kernel (no data reaches its application): a path that passes the
            # handshake and drops the rest (asymmetric routing, conntrack INVALID) stalls here.
            s.shutdown(socket.SHUT_WR)
            end = t0 + T
            while s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0] == FIN_WAIT1:
                if time.perf_counter() > end:
                    r['outcome'] = 'stalled'
                    break
                time.sleep(0.002)
        else:
            s.sendall(request)
            data = b''
            while b'\r\n' not in data and len(data) < 4096:
                chunk = s.recv(4096)
                if not chunk: break
                data += chunk
            line = data.split(b'\r\n', 1)[0].split()
            if len(line) >= 2 and line[1].isdigit(): r['status'] = int(line[1])
        return r
    except Exception as e:
        r = {'outcome': kind_of(e), 'ms': round((time.perf_counter() - t0) * 1000, 3)}
        if r['outcome'] == 'error': r['error'] = str(e)[:200]
        return r
    finally:
        s.close()

RCODES = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED'}

def skip_name(b, i):
    while True:
        n = b[i]
        if n == 0: return i + 1
        if n & 0xC0 == 0xC0: return i + 2
        i += n + 1

def dns_query(server, port, name, qtype, any_reply=False):
    qid = random.randint(0, 65535)
    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip('.').split('.'):
        q += bytes([len(label)]) + label.encode()
    q += b'\x00' + struct.pack('>HH', qtype, 1)
    s = socket.socket(family(server), socket.SOCK_DGRAM)
    s.settimeout(T)
    t0 = time.perf_counter()
    try:
        s.connect((server, port))
        s.send(q)
        while True:
            b = s.recv(4096)
            if len(b) >= 12 and struct.unpack('>H', b[:2])[0] == qid: break
            # Probing a path: any datagram back from the destination shows that it works.
            if any_reply: return {'outcome': 'connected', 'ms': round((time.perf_counter() - t0) * 1000, 3), 'addresses': []}
        ms = round((time.perf_counter() - t0) * 1000, 3)
        flags, qd, an = struct.unpack('>HHH', b[2:8])
        i = 12
        for _ in range(qd): i = skip_name(b, i) + 4
        addrs = []
        for _ in range(an):
            i = skip_name(b, i)
            rtype, _c, _ttl, ln = struct.unpack('>HHIH', b[i:i + 10])
            i += 10
            if rtype == 1 and ln == 4: addrs.append(socket.inet_ntop(socket.AF_INET, b[i:i + 4]))
            if rtype == 28 and ln == 16: addrs.append(socket.inet_ntop(socket.AF_INET6, b[i:i + 16]))
            i += ln
        return {'outcome': 'connected', 'ms': ms, 'rcode': RCODES.get(flags & 15, str(flags & 15)), 'addresses': addrs}
    except Exception as e:
        return {'outcome': kind_of(e), 'ms': round((time.perf_counter() - t0) * 1000, 3), 'addresses': []}
    finally:
        s.close()

def resolve(conf, name, qtype):
    servers, search, ndots = [], [], 1
    for line in conf.splitlines():
        f = line.split()
        if not f or f[0].startswith(('#', ';')): continue
        if f[0] == 'nameserver' and len(f) > 1: servers.append(f[1])
        elif f[0] in ('search', 'domain'): search = f[1:]
        elif f[0] == 'options':
            for o in f[1:]:
                if o.startswith('ndots:') and o[6:].isdigit(): ndots = min(int(o[6:]), 15)
    servers = servers[:3] or ['127.0.0.1']
    # libc: an absolute name as is; with at least ndots dots the name first, then the search
    # path; otherwise the search path first, then the name.
    if name.endswith('.'): names = [name]
    elif name.count('.') >= ndots: names = [name] + [name + '.' + d for d in search]
    else: names = [name + '.' + d for d in search] + [name]
    queries = []
    for n in names:
        for server in servers:
            r = dns_query(server, 53, n, qtype)
            r.update({'name': n.rstrip('.'), 'server': server})
            queries.append(r)
            if r['outcome'] == 'connected': break
        last = queries[-1]
        if last['outcome'] == 'connected' and last.get('rcode') == 'NOERROR' and last['addresses']:
            return {'queries': queries, 'addresses': last['addresses']}
        if last['outcome'] == 'connected' and last.get('rcode') not in ('NOERROR', 'NXDOMAIN'):
            break
    return {'queries': queries, 'addresses': []}

def one(_):
    k = spec['kind']
    if k == 'tcp': return tcp(spec['host'], spec['port'])
    if k == 'http':
        req = ('GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: knet-probe\r\nConnection: close\r\n\r\n'
               % (spec['path'], spec['httpHost'])).encode()
        return tcp(spec['host'], spec['port'], req)
    if k == 'dns-server':
        r = dns_query(spec['host'], spec['port'], spec['name'], 1, True)
        return {'outcome': r['outcome'], 'ms': r['ms']}
    raise ValueError('unknown probe kind ' + k)

out = {}
if spec['kind'] == 'resolve':
    try:
        conf = open(resolv_path).read()
    except Exception as e:
        print('cannot read the pod\'s resolv.conf: %s' % e, file=sys.stderr)
        sys.exit(5)
    qtype = 28 if spec['type'] == 'AAAA' else 1
    out['resolvConf'] = conf
    out['resolutions'] = [resolve(conf, spec['name'], qtype) for _ in range(spec['count'])]
    out['attempts'] = [{'outcome': 'connected' if r['addresses'] else r['queries'][-1]['outcome'],
                        'ms': round(sum(q['ms'] for q in r['queries']), 3)} for r in out['resolutions']]
else:
    results = [None] * spec['count']
    for start in range(0, spec['count'], 10):
        def run(i):
            results[i] = one(i)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(start, min(start + 10, spec['count']))]
        for t in threads: t.start()
        for t in threads: t.join()
    out['attempts'] = results
print('#knet-probe ${PROBE_VERSION} ' + json.dumps(out, separators=(',', ':')))
`;

/**
 * $1: the pod's uid, or "-" for the node's own namespace; $2: the spec (JSON); $3: the Python
 * program. The exit codes
 * 3 and 4 mean: no python3 in the debug image; no process of the pod on this node.
 */
export const PROBE_SCRIPT = `set -u
command -v python3 >/dev/null 2>&1 || { echo "the debug image has no python3" >&2; exit 3; }
uid=$1; spec=$2; py=$3
if [ "$uid" = - ]; then exec python3 -c "$py" /etc/resolv.conf "$spec"; fi
uidu=$(echo "$uid" | tr - _)
pids=$(grep -l -e "pod$uid" -e "pod$uidu" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3)
if [ -z "$pids" ]; then echo "no process of pod uid $uid on this node" >&2; exit 4; fi
pid=""; rpid=""
for p in $pids; do
  [ -z "$pid" ] && pid=$p
  if [ -z "$rpid" ] && [ -f "/proc/$p/root/etc/resolv.conf" ]; then rpid=$p; fi
done
exec nsenter -t "$pid" -n python3 -c "$py" "/proc/\${rpid:-$pid}/root/etc/resolv.conf" "$spec"
`;

/** The exec command: `sh -c SCRIPT knet-probe UID|- SPEC PROGRAM`. */
export function probeCommand(podUid: string | undefined, spec: ProbeSpec): string[] {
  return ['sh', '-c', PROBE_SCRIPT, 'knet-probe', podUid ?? '-', JSON.stringify(spec), PYTHON];
}

const OUTCOMES = new Set<AttemptOutcome>([
  'connected',
  'refused',
  'timeout',
  'reset',
  'unreachable',
  'stalled',
  'error',
]);

/** Reads the probe's last line; `source` names it in errors. */
export function parseProbeOutput(text: string, source: string): ProbeOutput {
  const lines = text.split('\n');
  const n = lines.findIndex((l) => l.startsWith('#knet-probe '));
  if (n < 0) throw new ParseError(source, 1, 'no probe output (the probe did not finish)');
  const [, version, ...rest] = lines[n].split(' ');
  if (version !== PROBE_VERSION)
    throw new ParseError(source, n + 1, `unknown probe format version ${version}`);
  let out: ProbeOutput;
  try {
    out = JSON.parse(rest.join(' '));
  } catch {
    throw new ParseError(source, n + 1, 'the probe output is not JSON');
  }
  if (
    !Array.isArray(out?.attempts) ||
    !out.attempts.every((a) => a && OUTCOMES.has(a.outcome) && typeof a.ms === 'number')
  )
    throw new ParseError(source, n + 1, 'the probe output has no attempts');
  return out;
}
