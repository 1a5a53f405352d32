// The golden cases: every line of commands.txt run against the demo bundle.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
export const GOLDEN_DIR = path.join(HERE, 'demo');

export function goldenCases() {
  return readFileSync(path.join(HERE, 'commands.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((line, i) => {
      const args = line.split(/\s+/);
      const slug = line
        .replace(/[^A-Za-z0-9]+/g, '-')
        .replace(/^-|-$/g, '')
        .slice(0, 80);
      const withSnapshot = args[0] === 'diff' ? args : [...args, '--snapshot', 'demo'];
      return {
        line,
        args: withSnapshot,
        file: path.join(GOLDEN_DIR, `${String(i + 1).padStart(2, '0')}-${slug}.out`),
      };
    });
}

export function runCase(c) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'knet'), ...c.args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', COLUMNS: '120', DEBUG: '', KNET_NO_PROGRESS: '1' },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function renderCase(r) {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
