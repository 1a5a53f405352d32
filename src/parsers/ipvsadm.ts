// `ipvsadm -Sn` (save format) and `ipvsadm -Ln` (list format) → virtual servers with their
// real servers. Pure; malformed lines throw ParseError with file and line.
import { guardParse, ParseError } from '../core/errors.js';

export type IpvsProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface IpvsRealServer {
  address: string;
  port: number;
  /** Masq / Route / Tunnel / Local. */
  forward: 'Masq' | 'Route' | 'Tunnel' | 'Local';
  weight: number;
  activeConn?: number;
  inactiveConn?: number;
  line: number;
}

export interface IpvsVirtualServer {
  protocol: IpvsProtocol | 'FWM';
  address: string;
  port: number;
  /** Firewall mark for -f services. */
  fwmark?: number;
  scheduler: string;
  /** Persistence timeout in seconds (ClientIP affinity) when set. */
  persistent?: number;
  realServers: IpvsRealServer[];
  line: number;
  /** The line as printed (evidence). */
  text: string;
}

export interface IpvsDump {
  file: string;
  services: IpvsVirtualServer[];
}

/** "10.0.0.1:80" or "[fd00::1]:80" → [address, port]. */
export function splitHostPort(text: string, file: string, line: number): [string, number] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new ParseError(file, line, `expected ADDRESS:PORT, got "${text}"`);
  return [m[1], Number(m[2])];
}

const FORWARD: Record<string, IpvsRealServer['forward']> = {
  '-m': 'Masq',
  '--masquerading': 'Masq',
  '-g': 'Route',
  '--gatewaying': 'Route',
  '-i': 'Tunnel',
  '--ipip': 'Tunnel',
  Masq: 'Masq',
  Route: 'Route',
  Tunnel: 'Tunnel',
  Local: 'Local',
};

const PROTO_FLAG: Record<string, IpvsProtocol> = {
  '-t': 'TCP',
  '--tcp-service': 'TCP',
  '-u': 'UDP',
  '--udp-service': 'UDP',
  '--sctp-service': 'SCTP',
};

function key(proto: string, addr: string, port: number): string {
  return `${proto} ${addr}:${port}`;
}

/** A -Ln virtual service line: its fields, and "persistent N" among its flags. */
function listed(
  fields: Pick<IpvsVirtualServer, 'protocol' | 'address' | 'port' | 'fwmark' | 'scheduler'>,
  flags: string,
  line: number,
  text: string,
): IpvsVirtualServer {
  const pm = /persistent\s+(\d+)/.exec(flags);
  return { ...fields, persistent: pm ? Number(pm[1]) : undefined, realServers: [], line, text };
}

/** Parses either format (detected per line). */
function parseIpvsadmUnguarded(text: string, file = 'ipvsadm.txt'): IpvsDump {
  const services: IpvsVirtualServer[] = [];
  const byKey = new Map<string, IpvsVirtualServer>();
  let current: IpvsVirtualServer | undefined;
  const lines = text.split('\n');
  for (let idx = 0; idx < lines.length; idx++) {
    const lineNo = idx + 1;
    const raw = lines[idx].replace(/\r$/, '');
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    if (
      line.startsWith('IP Virtual Server') ||
      line.startsWith('Prot LocalAddress') ||
      line.startsWith('-> RemoteAddress')
    ) {
      continue;
    }
    const tokens = line.split(/\s+/);
    if (
      tokens[0] === '-A' ||
      tokens[0] === '--add-service' ||
      tokens[0] === '-a' ||
      tokens[0] === '--add-server'
    ) {
      const isService = tokens[0] === '-A' || tokens[0] === '--add-service';
      let proto: IpvsProtocol | 'FWM' | undefined;
      let addr = '';
      let port = 0;
      let fwmark: number | undefined;
      let scheduler = 'wlc';
      let persistent: number | undefined;
      let rs: [string, number] | undefined;
      let forward: IpvsRealServer['forward'] = 'Route';
      let weight = 1;
      for (let i = 1; i < tokens.length; i++) {
        const t = tokens[i];
        if (PROTO_FLAG[t]) {
          proto = PROTO_FLAG[t];
          [addr, port] = splitHostPort(tokens[++i] ?? '', file, lineNo);
        } else if (t === '-f' || t === '--fwmark-service') {
          proto = 'FWM';
          fwmark = Number(tokens[++i]);
        } else if (t === '-s' || t === '--scheduler') scheduler = tokens[++i] ?? scheduler;
        else if (t === '-p' || t === '--persistent') {
          const v = tokens[i + 1];
          if (v && /^\d+$/.test(v)) {
            persistent = Number(v);
            i++;
          } else persistent = 300;
        } else if (t === '-r' || t === '--real-server') rs = splitHostPort(tokens[++i] ?? '', file, lineNo);
        else if (FORWARD[t]) forward = FORWARD[t];
        else if (t === '-w' || t === '--weight') weight = Number(tokens[++i]);
        else if (t === '-M' || t === '--netmask' || t === '-b' || t === '--sched-flags' || t === '--pe') i++;
        else if (t === '-x' || t === '--u-threshold' || t === '-y' || t === '--l-threshold') i++;
        else if (t === 'ops' || t === '-o' || t === '--ops') continue;
        else throw new ParseError(file, lineNo, `unknown ipvsadm option "${t}"`);
      }
      if (!proto) throw new ParseError(file, lineNo, 'missing service address (-t/-u/--sctp-service/-f)');
      if (isService) {
        const vs: IpvsVirtualServer = {
          protocol: proto,
          address: addr,
          port,
          fwmark,
          scheduler,
          persistent,
          realServers: [],
          line: lineNo,
          text: line,
        };
        services.push(vs);
        byKey.set(key(proto, addr, fwmark ?? port), vs);
      } else {
        if (!rs) throw new ParseError(file, lineNo, 'missing real server (-r)');
        const vs = byKey.get(key(proto, addr, fwmark ?? port));
        if (!vs)
          throw new ParseError(file, lineNo, `real server for unknown virtual service ${addr}:${port}`);
        vs.realServers.push({ address: rs[0], port: rs[1], forward, weight, line: lineNo });
      }
      continue;
    }
    // -Ln format.
    const svc = /^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)(.*)$/.exec(line);
    if (svc) {
      const [addr, port] = splitHostPort(svc[2], file, lineNo);
      current = listed(
        { protocol: svc[1] as IpvsProtocol, address: addr, port, scheduler: svc[3] },
        svc[4],
        lineNo,
        line,
      );
      services.push(current);
      continue;
    }
    const fwm = /^FWM\s+(\d+)\s+(\S+)(.*)$/.exec(line);
    if (fwm) {
      current = listed(
        { protocol: 'FWM', address: '', port: 0, fwmark: Number(fwm[1]), scheduler: fwm[2] },
        fwm[3],
        lineNo,
        line,
      );
      services.push(current);
      continue;
    }
    const dest = /^->\s+(\S+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(line);
    if (dest) {
      if (!current) throw new ParseError(file, lineNo, 'real server before any virtual service');
      const [addr, port] = splitHostPort(dest[1], file, lineNo);
      const forward = FORWARD[dest[2]];
      if (!forward) throw new ParseError(file, lineNo, `unknown forwarding method "${dest[2]}"`);
      current.realServers.push({
        address: addr,
        port,
        forward,
        weight: Number(dest[3]),
        activeConn: Number(dest[4]),
        inactiveConn: Number(dest[5]),
        line: lineNo,
      });
      continue;
    }
    throw new ParseError(file, lineNo, `unrecognised ipvsadm line: ${line.slice(0, 60)}`);
  }
  return { file, services };
}

/** parseIpvsadm, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseIpvsadm: typeof parseIpvsadmUnguarded = (...args) =>
  guardParse(args[1] ?? 'ipvsadm.txt', () => parseIpvsadmUnguarded(...args));
