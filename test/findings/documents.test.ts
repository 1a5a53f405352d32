// Every document with findings carries the explanation: on the demo, each command's JSON
// (test/golden/demo, which test/golden checks byte for byte against the build) gives every
// finding a unique id, every link resolves in the same document, and every root error has a fix.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/findings/types.js';
import { ROOT } from '../support/cli.js';

const DIR = path.join(ROOT, 'test/golden/demo');

/** Every findings[] list of a document (a TraceList's items, a Diff's traces too). */
function findingLists(doc: unknown, out: Finding[][] = []): Finding[][] {
  if (Array.isArray(doc)) for (const x of doc) findingLists(x, out);
  else if (doc && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) {
      if (k === 'findings' && Array.isArray(v) && v.every((f) => f && typeof f === 'object' && 'code' in f))
        out.push(v as Finding[]);
      else findingLists(v, out);
    }
  }
  return out;
}

const documents = readdirSync(DIR)
  .map((file) => {
    const text = readFileSync(path.join(DIR, file), 'utf8');
    const stdout = text.split('\n--- stdout\n')[1].split('\n--- stderr\n')[0];
    try {
      return { file, doc: JSON.parse(stdout) as { kind: string } };
    } catch {
      return undefined;
    }
  })
  .filter((d) => d !== undefined);

describe('ids, causedBy and fix in every JSON document of the demo', () => {
  it('covers every kind of document with findings', () => {
    const kinds = new Set(
      documents.filter((d) => findingLists(d.doc).some((l) => l.length)).map((d) => d.doc.kind),
    );
    for (const kind of [
      'PodList',
      'ServiceDiagnosis',
      'ProxyRules',
      'PolicyVerdict',
      'IngressDiagnosis',
      'Trace',
      'DoctorReport',
    ])
      expect(kinds).toContain(kind);
  });

  for (const { file, doc } of documents) {
    const lists = findingLists(doc).filter((l) => l.length);
    if (!lists.length) continue;
    it(file, () => {
      for (const list of lists) {
        const ids = new Set(list.map((f) => f.id));
        expect(ids.size).toBe(list.length);
        for (const f of list) {
          expect(f.id).toMatch(new RegExp(`^${f.code}-[0-9a-f]{10}$`));
          for (const id of f.causedBy ?? []) expect(ids.has(id), `${f.id} ← ${id}`).toBe(true);
          if (f.severity === 'error' && !f.causedBy) expect(f.fix?.summary, f.id).toMatch(/\S/);
          if (f.causedBy) expect(f.fix).toBeUndefined();
        }
      }
    });
  }
});
