// docs/findings.md's "Causes and fixes" table says what the code does: per code the causes
// links.ts looks for, and a fix for every error (none for the others).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/findings/catalog.js';
import { CAUSE_RULES } from '../../src/findings/links.js';
import { ROOT } from '../support/cli.js';

const text = readFileSync(path.join(ROOT, 'docs', 'findings.md'), 'utf8');
const table = text.slice(text.indexOf('| code | caused by'));
const rows = new Map(
  table
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => {
      const [code, causes, fix] = l
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim());
      return [code.replaceAll('`', ''), { causes: causes.match(/[A-Z][A-Z_]+/g) ?? [], fix }] as const;
    }),
);

describe('docs/findings.md: causes and fixes', () => {
  it('has a row for every code that has causes', () => {
    for (const code of Object.keys(CAUSE_RULES)) expect(rows.has(code), code).toBe(true);
  });

  for (const [code, row] of rows) {
    it(code, () => {
      expect(code in CATALOG).toBe(true);
      expect([...row.causes].sort()).toEqual([...(CAUSE_RULES[code]?.causes ?? [])].sort());
      const error = CATALOG[code as keyof typeof CATALOG].severity === 'error';
      expect(row.fix === '— (not an error)').toBe(!error);
    });
  }
});
