// The exit code is decided in one place (cli/base.ts) from what a command answers: cli.md
// "Exit codes". Commands return an Answer; none sets process.exitCode itself.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ANSWERED, exitCodeOf } from '../../src/cli/base.js';
import { finding } from '../../src/findings/catalog.js';
import { ROOT } from '../support/cli.js';

const error = finding('SVC_NO_READY_ENDPOINTS', { message: 'x.', objects: ['svc/a/b'] });
const info = finding('POLICY_SELECTS_NO_POD', { message: 'y.', objects: ['networkpolicy/a/b'] });

describe('exitCodeOf', () => {
  it('a report exits 1 with an error finding, 0 without', () => {
    expect(error.severity).toBe('error');
    expect(info.severity).not.toBe('error');
    expect(exitCodeOf({ findings: [info, error] })).toBe(1);
    expect(exitCodeOf({ findings: [info] })).toBe(0);
    expect(exitCodeOf({ findings: [] })).toBe(0);
  });

  it('verdicts: unknown (2) outranks broken (1), which outranks answered (0)', () => {
    expect(exitCodeOf(ANSWERED)).toBe(0);
    expect(exitCodeOf({ verdicts: [{ broken: false }, { broken: false }] })).toBe(0);
    expect(exitCodeOf({ verdicts: [{ broken: false }, { broken: true }] })).toBe(1);
    expect(exitCodeOf({ verdicts: [{ broken: true }, { broken: false, unknown: 'why' }] })).toBe(2);
  });
});

describe('one place sets the exit code', () => {
  it('no command module assigns process.exitCode', () => {
    const dir = path.join(ROOT, 'src/commands');
    const offenders = readdirSync(dir).filter((f) =>
      /process\.exitCode\s*=/.test(readFileSync(path.join(dir, f), 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
