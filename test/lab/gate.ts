// Whether the lab can run here: root (network namespaces), the tools it runs, Debian's CNI
// plugins. Without them the lab tests skip and say why; with KNET_REQUIRE_REAL=1 (CI) a missing
// prerequisite is a failing test instead.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRoot } from '../support/root.js';
import { run } from './exec.js';
import { CNI_BIN } from './topology.js';

const TOOLS = ['ip', 'bridge', 'iptables', 'iptables-save', 'iptables-restore', 'nft', 'ss', 'sysctl'];
const PLUGINS = ['bridge', 'host-local', 'portmap', 'loopback'];

export const REQUIRE_REAL = process.env.KNET_REQUIRE_REAL === '1';

/** What the lab needs and this machine lacks (empty: the lab can run); `plugins`: further CNI
 * plugins a test file needs (the routed lab: ptp). */
export function labMissing(plugins: string[] = []): string[] {
  const missing: string[] = [];
  if (!isRoot) missing.push('root (for network namespaces)');
  for (const tool of TOOLS) {
    if (run(['sh', '-c', 'command -v "$1"', 'sh', tool], { allowFail: true }).status !== 0)
      missing.push(tool);
  }
  for (const plugin of [...PLUGINS, ...plugins]) {
    if (!existsSync(`${CNI_BIN}/${plugin}`))
      missing.push(`${CNI_BIN}/${plugin} (containernetworking-plugins)`);
  }
  return missing;
}

const cached = new Map<string, string[]>();

/**
 * true when the lab tests of a file can run (`plugins`: CNI plugins it needs beyond the usual
 * ones). Otherwise they are to be skipped: a warning says why, and with KNET_REQUIRE_REAL=1 a
 * failing test is registered in their place.
 */
export function labCanRun(what: string, plugins: string[] = []): boolean {
  const key = plugins.join(',');
  const missing = cached.get(key) ?? labMissing(plugins);
  cached.set(key, missing);
  if (missing.length === 0) return true;
  const message = `[knet lab] ${what}: skipped, missing ${missing.join(', ')}`;
  if (REQUIRE_REAL) {
    describe(`${what}: prerequisites`, () => {
      it('are present (KNET_REQUIRE_REAL=1)', () => {
        expect(missing, message).toEqual([]);
      });
    });
  } else {
    console.warn(message);
  }
  return false;
}
