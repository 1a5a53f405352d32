// Rewrites test/golden/demo/*.out from the current build: one file per line of commands.txt,
// holding the exit code, stdout and stderr. Run it only when an output change is intended,
// and review the diff.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { GOLDEN_DIR, goldenCases, renderCase, runCase } from './cases.mjs';

rmSync(GOLDEN_DIR, { recursive: true, force: true });
mkdirSync(GOLDEN_DIR, { recursive: true });
for (const c of goldenCases()) writeFileSync(c.file, renderCase(runCase(c)));
console.error(`wrote ${goldenCases().length} files to ${GOLDEN_DIR}`);
