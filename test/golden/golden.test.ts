// Every command's output on the demo, byte for byte, against test/golden/demo/*.out: a
// refactor must not change what a user or a script sees. Regenerate on purpose with
// `node test/golden/update.mjs` and review the diff.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module shared with update.mjs
import { goldenCases, renderCase, runCase } from './cases.mjs';

interface Case {
  line: string;
  args: string[];
  file: string;
}

describe('demo outputs stay byte-identical', () => {
  for (const c of goldenCases() as Case[]) {
    it(c.line, () => {
      expect(renderCase(runCase(c))).toBe(readFileSync(c.file, 'utf8'));
    });
  }
});
