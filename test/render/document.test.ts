import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Deferred, jsonPieces, renderYaml, Streamed } from '../../src/render/document.js';

const text = (doc: object) => [...jsonPieces(doc)].join('');
const json = (doc: unknown) => `${JSON.stringify(doc, null, 2)}\n`;

describe('jsonPieces', () => {
  it('is JSON.stringify(doc, null, 2) for a document without streamed parts', () => {
    const doc = { apiVersion: 'knet/v1', kind: 'X', a: [1, { b: 'x\ny', c: undefined }], d: {}, e: [] };
    expect(text(doc)).toBe(json(doc));
  });

  it('writes Streamed arrays and Deferred values as the document with them made', () => {
    const made: string[] = [];
    const rows = function* (n: number) {
      for (let i = 0; i < n; i++) {
        made.push(`row ${i}`);
        yield { i, name: `r${i}`, tags: ['a', 'b'], nested: { deep: [i, { x: null }] }, gone: undefined };
      }
    };
    const doc = {
      kind: 'Rows',
      nodes: new Streamed(
        [2, 0, 1].map((n) => ({
          node: `n${n}`,
          reason: n === 0 ? undefined : 'why',
          services: new Streamed(rows(n)),
          count: new Deferred(() => made.length),
        })),
      ),
      empty: new Streamed([]),
      missing: new Deferred(() => undefined),
      scalars: new Streamed([1, 'two', null, undefined, [], {}]),
      findings: new Deferred(() => ({ total: made.length, list: made.slice(0, 1) })),
    };
    const expected = {
      kind: 'Rows',
      nodes: [
        { node: 'n2', reason: 'why', services: [...rows(2)], count: 2 },
        { node: 'n0', services: [], count: 2 },
        { node: 'n1', reason: 'why', services: [...rows(1)], count: 3 },
      ],
      empty: [],
      scalars: [1, 'two', null, null, [], {}],
      findings: { total: 3, list: ['row 0'] },
    };
    made.length = 0;
    // Each Deferred is made after the parts before it: the counts see the rows written so far.
    expect(text(doc)).toBe(json(expected));
  });

  it('YAML is written from the document with its parts made', async () => {
    const doc = {
      kind: 'Y',
      list: new Streamed([{ a: 1, b: undefined }, { a: 2 }]),
      later: new Deferred(() => ['x']),
      none: new Deferred(() => undefined),
    };
    expect(await renderYaml(doc)).toBe(
      stringify({ kind: 'Y', list: [{ a: 1 }, { a: 2 }], later: ['x'] }, { aliasDuplicateObjects: false }),
    );
  });
});
