// vitest setupFile, run in every test file:
// - KNET_REQUIRE_REAL=1 (CI, .ci/run) turns a real-component tier that would skip (needs root,
//   needs a tool: the kernel lab, BIND, iptables/nft captures, node-script emulation) into a
//   failure. The tiers announce their skip on console.warn; under the variable that throws, at
//   the top of the test file, and the file fails.
// - temporary folders made through test/support/cli.ts are removed after each file.
import { afterAll } from 'vitest';
import { cleanupTempDirs } from './cli.js';

export const REQUIRE_REAL = process.env.KNET_REQUIRE_REAL === '1';

/** A skip message of a real-component tier (not an opt-in capture tool or a missing sibling folder). */
export function isRealTierSkip(text: string): boolean {
  return /skip/i.test(text) && /root|needs?\b|not installed|network namespaces|emulat|absent/i.test(text);
}

if (REQUIRE_REAL) {
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    const text = args.map(String).join(' ');
    if (isRealTierSkip(text))
      throw new Error(`KNET_REQUIRE_REAL=1: this real-component tier cannot run: ${text}`);
    warn(...args);
  };
}

afterAll(() => cleanupTempDirs());
