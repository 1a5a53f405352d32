// The layers of src/ (docs/architecture.md): no module imports a layer above its own, and no
// modules load each other in a circle. The graph is read with the TypeScript compiler; the
// checks are shown to fail on graphs and sources made to break them.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ImportEdge,
  type ImportGraph,
  importCircles,
  LAYERS,
  layerOf,
  readImportGraph,
  upwardImports,
} from './graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const shown = (e: ImportEdge) => `${e.from}:${e.line} -> ${e.to} (${e.kind})`;

describe('src/', () => {
  const graph = readImportGraph(ROOT);

  it('is read whole: every layer, and imports of each kind', () => {
    const layers = new Set(graph.files.map(layerOf));
    for (const l of LAYERS) expect(layers).toContain(l);
    const kinds = new Set(graph.edges.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['dynamic', 'type', 'value']);
    expect(graph.edges.length).toBeGreaterThan(500);
    // A known edge of each kind, so that a reader that loses them cannot pass.
    expect(graph.edges).toContainEqual(
      expect.objectContaining({
        from: 'src/model/node-state.ts',
        to: 'src/parsers/iproute2.ts',
        kind: 'value',
      }),
    );
    expect(graph.edges).toContainEqual(
      expect.objectContaining({
        from: 'src/analyses/trace/hops.ts',
        to: 'src/parsers/iproute2.ts',
        kind: 'type',
      }),
    );
    expect(graph.edges).toContainEqual(
      expect.objectContaining({
        from: 'src/commands/dns.ts',
        to: 'src/sources/dns/ask.ts',
        kind: 'dynamic',
      }),
    );
  });

  it('imports no layer above its own', () => {
    expect(upwardImports(graph).map((v) => `${shown(v.edge)}: ${v.rule}`)).toEqual([]);
  });

  it('has no import circles', () => {
    expect(importCircles(graph)).toEqual([]);
  });
});

describe('the rules, on graphs made to break them', () => {
  const edge = (from: string, to: string, kind: ImportEdge['kind'] = 'value'): ImportEdge => ({
    from,
    to,
    kind,
    line: 1,
  });
  const graphOf = (...edges: ImportEdge[]): ImportGraph => ({
    files: [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort(),
    edges,
  });

  it('an analysis may use a parsed shape as a type, never load a parser', () => {
    const g = graphOf(
      edge('src/analyses/a.ts', 'src/parsers/p.ts', 'type'),
      edge('src/analyses/b.ts', 'src/parsers/p.ts', 'value'),
      edge('src/analyses/c.ts', 'src/parsers/p.ts', 'dynamic'),
    );
    expect(upwardImports(g).map((v) => v.edge.from)).toEqual(['src/analyses/b.ts', 'src/analyses/c.ts']);
  });

  it('each layer: what it may not load', () => {
    const cases: [string, string, boolean][] = [
      ['parsers', 'model', false],
      ['parsers', 'core', true],
      ['model', 'parsers', true],
      ['model', 'analyses', false],
      ['model', 'findings', false],
      ['findings', 'model', true],
      ['findings', 'sources', false],
      ['analyses', 'model', true],
      ['analyses', 'sources', false],
      ['analyses', 'cli', false],
      ['sources', 'parsers', true],
      ['sources', 'analyses', false],
      ['render', 'analyses', true],
      ['render', 'commands', false],
      ['render', 'sources', false],
      ['cli', 'commands', false],
      ['commands', 'sources', true],
    ];
    for (const [from, to, allowed] of cases) {
      const found = upwardImports(graphOf(edge(`src/${from}/x.ts`, `src/${to}/y.ts`)));
      expect({ from, to, allowed: found.length === 0 }).toEqual({ from, to, allowed });
    }
  });

  it('the ground floor depends on nothing, not even on a type', () => {
    const g = graphOf(
      edge('src/core/ip.ts', 'src/core/errors.ts'),
      edge('src/core/dns.ts', 'src/model/types.ts', 'type'),
    );
    expect(upwardImports(g).map((v) => v.rule)).toEqual(['core may not import model (not even a type)']);
  });

  it('a circle of value imports is found, through any number of modules', () => {
    const g = graphOf(
      edge('src/sources/a.ts', 'src/sources/b.ts'),
      edge('src/sources/b.ts', 'src/sources/c.ts'),
      edge('src/sources/c.ts', 'src/sources/a.ts'),
      edge('src/sources/c.ts', 'src/sources/d.ts'),
    );
    expect(importCircles(g)).toEqual([['src/sources/a.ts', 'src/sources/b.ts', 'src/sources/c.ts']]);
  });

  it('types and import() make no circle (nothing is loaded while loading)', () => {
    const g = graphOf(
      edge('src/commands/a.ts', 'src/commands/b.ts'),
      edge('src/commands/b.ts', 'src/commands/a.ts', 'dynamic'),
      edge('src/model/c.ts', 'src/model/d.ts'),
      edge('src/model/d.ts', 'src/model/c.ts', 'type'),
    );
    expect(importCircles(g)).toEqual([]);
  });
});

describe('reading imports with the compiler', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'knet-imports-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  write(
    'tsconfig.json',
    JSON.stringify({ compilerOptions: { module: 'nodenext', strict: true, noEmit: true }, include: ['src'] }),
  );
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'])
    write(`src/parsers/${name}.ts`, `export interface T${name} { x: number }\nexport const v${name} = 1;\n`);
  write(
    'src/analyses/uses.ts',
    [
      "import type { Ta } from '../parsers/a.js';",
      "import { type Tb } from '../parsers/b.js';",
      "import { Tc } from '../parsers/c.js';",
      "import { vd } from '../parsers/d.js';",
      "import { Te, ve } from '../parsers/e.js';",
      "export type { Tf } from '../parsers/f.js';",
      "export { vg } from '../parsers/g.js';",
      "export * from '../parsers/h.js';",
      "export const later = () => import('../parsers/i.js');",
      "export type Ti = import('../parsers/j.js').Tj;",
      "import { vk } from '../parsers/k.js';",
      'export class Holder implements Tc { x = vd; }',
      'export function f(a: Ta, b: Tb, e: Te): number { return a.x + b.x + e.x + ve; }',
      '// vk only in a type query and as a property name: erased by tsc',
      'export const o: typeof vk = 1;',
      'export const p = { vk: 2 }.vk;',
      '',
    ].join('\n'),
  );

  const graph = readImportGraph(dir);
  const kindOf = (name: string) =>
    graph.edges
      .filter((e) => e.from === 'src/analyses/uses.ts' && e.to === `src/parsers/${name}.ts`)
      .map((e) => e.kind);

  it.each([
    ['a', 'import type', 'type'],
    ['b', 'import { type X }', 'type'],
    ['c', 'a binding used only in `implements`', 'type'],
    ['d', 'a binding used as a value', 'value'],
    ['e', 'a type and a value binding', 'value'],
    ['f', 'export type … from', 'type'],
    ['g', 'export { x } from', 'value'],
    ['h', 'export * from', 'value'],
    ['i', 'import()', 'dynamic'],
    ['j', "import('…').T in a type", 'type'],
    ['k', 'a binding used only in `typeof` and as a property name', 'type'],
  ])('%s: %s is a %s import', (name, _what, kind) => {
    expect(kindOf(name)).toEqual([kind]);
  });

  it('the layer rule fails on what it reads', () => {
    expect(
      upwardImports(graph)
        .map((v) => v.edge.to)
        .sort(),
    ).toEqual([
      'src/parsers/d.ts',
      'src/parsers/e.ts',
      'src/parsers/g.ts',
      'src/parsers/h.ts',
      'src/parsers/i.ts',
    ]);
  });

  it('names the line of the import', () => {
    expect(graph.edges.find((e) => e.to === 'src/parsers/e.ts')?.line).toBe(5);
    expect(graph.edges.find((e) => e.to === 'src/parsers/i.ts')?.line).toBe(9);
  });
});
