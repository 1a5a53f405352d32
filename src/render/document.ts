// Machine output: every command's JSON is one object with apiVersion knet/v1 and a kind.
export const API_VERSION = 'knet/v1';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'dot' | 'mermaid';

export function document<T extends object>(kind: string, body: T): { apiVersion: string; kind: string } & T {
  return { apiVersion: API_VERSION, kind, ...body };
}

export async function renderYaml(doc: object): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(made(doc), { aliasDuplicateObjects: false });
}

/** An array of a document written element by element as they are made (jsonPieces). */
export class Streamed<T = unknown> {
  constructor(readonly items: Iterable<T>) {}
}

/** A value of a document made when the writer reaches it (after the parts before it). */
export class Deferred<T = unknown> {
  constructor(readonly get: () => T) {}
}

const isPart = (v: unknown) => v instanceof Streamed || v instanceof Deferred;

/** An object (not an array) with a Streamed or Deferred member: written member by member. */
function holdsParts(v: unknown): v is object {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).some(isPart);
}

/**
 * The JSON of a document (`JSON.stringify(doc, null, 2)` and a newline), in pieces: an object
 * that holds Streamed or Deferred values is written key by key, a Streamed array element by
 * element, everything else JSON.stringify'd whole. The text is the same as for the document with
 * those parts made, but they are never held whole (a node's 13,000 proxy rows: 180 MB of JSON).
 */
export function* jsonPieces(doc: object): Generator<string> {
  yield* pieces(doc, '');
  yield '\n';
}

/** `value` at a line indented by `indent`, as JSON.stringify(…, null, 2) nests it; nothing if undefined. */
function* pieces(value: unknown, indent: string): Generator<string> {
  const v = value instanceof Deferred ? value.get() : value;
  if (v instanceof Streamed) {
    const inner = `${indent}  `;
    let first = true;
    for (const item of v.items) {
      yield `${first ? '[' : ','}\n${inner}`;
      first = false;
      let written = false;
      for (const piece of pieces(item, inner)) {
        written = true;
        yield piece;
      }
      if (!written) yield 'null';
    }
    yield first ? '[]' : `\n${indent}]`;
    return;
  }
  if (!holdsParts(v)) {
    const text = JSON.stringify(v, null, 2) as string | undefined;
    if (text !== undefined) yield text.includes('\n') ? text.replaceAll('\n', `\n${indent}`) : text;
    return;
  }
  const inner = `${indent}  `;
  let first = true;
  for (const [key, member] of Object.entries(v)) {
    const head = `${first ? '{' : ','}\n${inner}${JSON.stringify(key)}: `;
    // A member that writes nothing (undefined) is left out with its key, as JSON.stringify does.
    let started = false;
    for (const piece of pieces(member, inner)) {
      if (!started) {
        yield head;
        started = true;
        first = false;
      }
      yield piece;
    }
  }
  yield first ? '{}' : `\n${indent}}`;
}

/** The document with its Streamed and Deferred parts made (YAML is written whole). */
function made(value: unknown): unknown {
  const v = value instanceof Deferred ? value.get() : value;
  if (v instanceof Streamed) return Array.from(v.items, made);
  if (!holdsParts(v)) return v;
  const out: Record<string, unknown> = {};
  // In order: a Deferred member is made after the members before it.
  for (const [key, member] of Object.entries(v)) {
    const m = made(member);
    if (m !== undefined) out[key] = m;
  }
  return out;
}
