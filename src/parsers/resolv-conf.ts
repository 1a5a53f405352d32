// resolv.conf(5) → structure, read as glibc's resolver reads it (resolv/res_init.c):
// `nameserver` (at most 3 are used), `search` / `domain` (the last one wins), `options`
// (ndots capped at 15); `#` and `;` start comments. Pure: text in, structure out.
import { guardParse, ParseError } from '../core/errors.js';
import { isIP } from '../core/ip.js';

/** A parsed resolv.conf (the pod's file, or the one kubelet would write). */
export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
  /** Every option as written (`ndots:5`, `edns0`, `timeout:2`), last one of a name wins. */
  options: Record<string, string | true>;
  /** Where it came from: the pod's file in the bundle, or what kubelet would write. */
  source: 'file' | 'kubelet';
  /** The file (bundle path) or the rule that produced it. */
  origin: string;
  /** Parts kubelet takes from the node that knet cannot see (node search domains, …). */
  unknown: string[];
  /** Lines the resolver ignores (unknown keywords, extra nameservers). */
  warnings: string[];
}

/** glibc's MAXNS: nameservers past the third are ignored. */
export const MAX_NAMESERVERS = 3;
/** glibc's RES_MAXNDOTS. */
export const MAX_NDOTS = 15;

const NUMERIC_OPTIONS = new Set(['ndots', 'timeout', 'attempts']);

/** Parses a resolv.conf. `file` names it in errors (`nodes/n1/pods/app_web/resolv.conf`). */
function parseResolvConfUnguarded(text: string, file = 'resolv.conf'): ResolvConf {
  const nameservers: string[] = [];
  let search: string[] = [];
  const options: Record<string, string | true> = {};
  const warnings: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    if (raw.includes('\0')) throw new ParseError(file, lineNo, 'binary data in a resolv.conf');
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') return;
    const [keyword, ...args] = line.split(/\s+/);
    switch (keyword) {
      case 'nameserver': {
        const addr = args[0];
        if (!addr || !isIP(addr.replace(/%.*$/, ''))) {
          throw new ParseError(file, lineNo, `nameserver needs an IP address, got "${addr ?? ''}"`);
        }
        if (nameservers.length >= MAX_NAMESERVERS) {
          warnings.push(
            `${file}:${lineNo}: nameserver ${addr} ignored (the resolver uses at most ${MAX_NAMESERVERS})`,
          );
        } else {
          nameservers.push(addr);
        }
        break;
      }
      case 'search':
        search = args;
        break;
      case 'domain':
        search = args.slice(0, 1);
        break;
      case 'options':
        for (const opt of args) {
          const colon = opt.indexOf(':');
          const name = colon === -1 ? opt : opt.slice(0, colon);
          const value = colon === -1 ? undefined : opt.slice(colon + 1);
          if (NUMERIC_OPTIONS.has(name)) {
            if (value === undefined || !/^\d+$/.test(value)) {
              throw new ParseError(file, lineNo, `option ${name} needs a number, got "${opt}"`);
            }
            options[name] = value;
          } else {
            options[name] = value ?? true;
          }
        }
        break;
      case 'sortlist':
        options.sortlist = args.join(' ');
        break;
      default:
        warnings.push(`${file}:${lineNo}: unknown keyword "${keyword}" ignored`);
    }
  });
  const ndots = typeof options.ndots === 'string' ? Math.min(MAX_NDOTS, Number(options.ndots)) : 1;
  return {
    nameservers,
    search: search.map((d) => d.replace(/\.$/, '')).filter((d) => d !== ''),
    ndots,
    options,
    source: 'file',
    origin: file,
    unknown: [],
    warnings,
  };
}

/** resolv.conf text for a config (what kubelet writes: nameserver, search, options lines). */
export function formatResolvConf(conf: Pick<ResolvConf, 'nameservers' | 'search' | 'options'>): string {
  const lines = conf.nameservers.map((n) => `nameserver ${n}`);
  if (conf.search.length) lines.push(`search ${conf.search.join(' ')}`);
  const opts = Object.entries(conf.options).map(([k, v]) => (v === true ? k : `${k}:${v}`));
  if (opts.length) lines.push(`options ${opts.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** parseResolvConf, whose only failure is a ParseError naming the file (parsers/errors.ts guardParse). */
export const parseResolvConf: typeof parseResolvConfUnguarded = (...args) =>
  guardParse(args[1] ?? 'resolv.conf', () => parseResolvConfUnguarded(...args));
