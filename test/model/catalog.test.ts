import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/findings/catalog.js';
import { ROOT } from '../support/cli.js';

const codesIn = (text: string) => new Set([...text.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]));

const SHARED = path.join(ROOT, '..', 'shared', 'design', 'findings.md');
if (!existsSync(SHARED))
  console.warn(`skipping the shared-contract check: ${SHARED} is not beside this checkout`);

describe('the findings catalog', () => {
  it.skipIf(!existsSync(SHARED))('has every code of the shared contract, with its severity', () => {
    const shared = readFileSync(SHARED, 'utf8');
    for (const line of shared.split('\n')) {
      const m = /^\| (`.+`) \| (error|warning|info) \|/.exec(line);
      if (!m) continue;
      for (const code of codesIn(m[1])) {
        expect(CATALOG, code).toHaveProperty(code);
        expect(CATALOG[code as keyof typeof CATALOG].severity, code).toBe(m[2]);
      }
    }
  });

  it('is documented: every code appears in docs/findings.md', () => {
    const documented = codesIn(readFileSync(path.join(ROOT, 'docs', 'findings.md'), 'utf8'));
    const missing = Object.keys(CATALOG).filter((c) => !documented.has(c));
    expect(missing).toEqual([]);
  });
});
