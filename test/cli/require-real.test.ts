// KNET_REQUIRE_REAL=1 (CI): a real-component tier that would skip fails instead. The tiers
// announce a skip on console.warn; test/support/setup.ts recognises these messages.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { isRealTierSkip } from '../support/setup.js';

describe('KNET_REQUIRE_REAL', () => {
  it.for([
    '[knet lab] not root: the fault matrix is skipped (it needs network namespaces)',
    'test/proxy/capture.test.ts: skipped (needs root, ip, iptables-restore and nft)',
    'test/proxy/capture.test.ts: IPVS capture skipped (needs the ipset tool)',
    'SKIPPED test/dns/bind.test.ts: named (bind9) is not installed; apt-get install bind9',
    'SKIPPED test/dns/glibc.test.ts: needs root, named (bind9), ip and getent',
    'test/edges/dataplane.live.test.ts: skipped (needs root for network namespaces)',
    'node-script.test.ts: not root: the real-script tests in network namespaces are skipped',
    'SKIPPED the -o dot check: needs graphviz (dot) installed',
  ])('a real tier: %s', (message) => {
    expect(isRealTierSkip(message)).toBe(true);
  });

  it('not a real tier: an opt-in capture tool or a sibling folder', () => {
    expect(isRealTierSkip('skipping the shared-contract check: /x is not beside this checkout')).toBe(false);
  });

  it('every skip message in the tests is one of them', () => {
    // The messages as the test files write them: a new tier must keep the vocabulary.
    const files = spawnSync('grep', ['-rl', 'console.warn', path.join(ROOT, 'test')], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n');
    const texts = files.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/console\.warn\(\s*[`'"]([^`'"]*skip[^`'"]*)/gi)].map((m) => m[1]),
    );
    expect(texts.length).toBeGreaterThan(8);
    for (const t of texts.filter((x) => !/shared-contract|not there yet/.test(x)))
      expect(isRealTierSkip(t), t).toBe(true);
  });

  it('under KNET_REQUIRE_REAL=1 a test file whose tier would skip fails', () => {
    // A file inside test/ (vitest's include), made and removed here.
    const dir = path.join(ROOT, 'test', '.require-real');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'tier.test.ts');
    writeFileSync(
      file,
      "import { it } from 'vitest';\nconsole.warn('SKIPPED: needs root');\nit.skip('real', () => {});\n",
    );
    try {
      const vitest = path.join(ROOT, 'node_modules', '.bin', 'vitest');
      const run = (env: Record<string, string>) =>
        spawnSync(vitest, ['run', 'test/.require-real/'], {
          cwd: ROOT,
          encoding: 'utf8',
          env: { ...process.env, ...env },
          timeout: 120_000,
        });
      const strict = run({ KNET_REQUIRE_REAL: '1' });
      expect(strict.status).not.toBe(0);
      expect(strict.stdout + strict.stderr).toContain(
        'KNET_REQUIRE_REAL=1: this real-component tier cannot run',
      );
      expect(run({ KNET_REQUIRE_REAL: '' }).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
