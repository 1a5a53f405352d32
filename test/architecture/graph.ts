// The import graph of a TypeScript source tree, read with the TypeScript compiler's own parser
// (typescript/unstable/sync: the compiler of this repository, TypeScript 7), and the layer
// rules of docs/architecture.md checked on it.
//
// An edge is `value` when the compiled JavaScript still loads the module, `type` when the
// compiler erases it, `dynamic` for `import()`. Erased are: `import type`, `export type`,
// imports whose specifiers are all `type X`, and imports whose bindings are referenced only
// in type positions (this repository does not set verbatimModuleSyntax, so tsc drops them).
import path from 'node:path';
import { SyntaxKind } from 'typescript/unstable/ast';
import { API } from 'typescript/unstable/sync';

export type EdgeKind = 'value' | 'type' | 'dynamic';

export interface ImportEdge {
  /** Paths relative to the repository root, with forward slashes (src/core/ip.ts). */
  from: string;
  to: string;
  kind: EdgeKind;
  line: number;
}

export interface ImportGraph {
  files: string[];
  edges: ImportEdge[];
}

// The compiler's AST, as far as this file reads it.
interface Node {
  kind: SyntaxKind;
  pos: number;
  parent: Node;
  forEachChild<T>(visit: (n: Node) => T): T | undefined;
  text?: string;
  statements?: Node[];
  moduleSpecifier?: Node;
  importClause?: Node;
  exportClause?: Node;
  namedBindings?: Node;
  elements?: Node[];
  isTypeOnly?: boolean;
  name?: Node;
  propertyName?: Node;
  expression?: Node;
  arguments?: Node[];
  argument?: Node;
  literal?: Node;
  token?: SyntaxKind;
}
interface SourceFileNode extends Node {
  text: string;
  statements: Node[];
}

/**
 * Reads every .ts file below `dirs` (relative to `root`) as the project of `root/tsconfig.json`
 * sees it, and returns the imports between them. Imports of packages are left out.
 */
export function readImportGraph(root: string, dirs: string[] = ['src']): ImportGraph {
  const api = new API({ cwd: root });
  try {
    const snapshot = api.updateSnapshot({ openProject: path.join(root, 'tsconfig.json') });
    const program = snapshot.getProjects()[0].program;
    const inside = (f: string) => dirs.some((d) => f.startsWith(`${path.join(root, d)}/`));
    const names = program.getSourceFileNames().filter(inside);
    const rel = (f: string) => path.relative(root, f).split(path.sep).join('/');
    const known = new Set(names);
    const edges: ImportEdge[] = [];
    for (const name of names) {
      const sf = program.getSourceFile(name) as unknown as SourceFileNode;
      for (const imp of importsOf(sf)) {
        const target = resolve(name, imp.specifier, known);
        if (target) edges.push({ from: rel(name), to: rel(target), kind: imp.kind, line: imp.line });
      }
    }
    return { files: names.map(rel).sort(), edges };
  } finally {
    api.close();
  }
}

function resolve(from: string, specifier: string, known: Set<string>): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts')]) {
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

interface RawImport {
  specifier: string;
  kind: EdgeKind;
  line: number;
}

function lineOf(sf: SourceFileNode, pos: number): number {
  // pos includes the leading trivia (blanks and comments): skip it.
  const text = sf.text;
  let at = pos;
  for (;;) {
    while (at < text.length && /\s/.test(text[at])) at++;
    if (text.startsWith('//', at)) at = text.indexOf('\n', at) < 0 ? text.length : text.indexOf('\n', at);
    else if (text.startsWith('/*', at))
      at = text.indexOf('*/', at) < 0 ? text.length : text.indexOf('*/', at) + 2;
    else break;
  }
  let line = 1;
  for (let i = 0; i < at; i++) if (sf.text.charCodeAt(i) === 10) line++;
  return line;
}

function stringOf(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if (node.kind === SyntaxKind.StringLiteral || node.kind === SyntaxKind.NoSubstitutionTemplateLiteral)
    return node.text;
  return undefined;
}

/** Every import, re-export and `import()` of a file, classified. */
export function importsOf(sf: SourceFileNode): RawImport[] {
  const out: RawImport[] = [];
  const valueUses = valueReferences(sf);
  for (const st of sf.statements) {
    if (st.kind === SyntaxKind.ImportDeclaration) {
      const specifier = stringOf(st.moduleSpecifier);
      if (specifier === undefined) continue;
      out.push({ specifier, kind: importKind(st, valueUses), line: lineOf(sf, st.pos) });
    } else if (st.kind === SyntaxKind.ExportDeclaration) {
      const specifier = stringOf(st.moduleSpecifier);
      if (specifier === undefined) continue;
      const clause = st.exportClause;
      const elements = clause?.kind === SyntaxKind.NamedExports ? (clause.elements ?? []) : undefined;
      const typeOnly =
        st.isTypeOnly === true ||
        (elements !== undefined && elements.length > 0 && elements.every((e) => e.isTypeOnly));
      out.push({ specifier, kind: typeOnly ? 'type' : 'value', line: lineOf(sf, st.pos) });
    }
  }
  const visit = (n: Node): void => {
    if (n.kind === SyntaxKind.CallExpression && n.expression?.kind === SyntaxKind.ImportKeyword) {
      const specifier = stringOf(n.arguments?.[0]);
      if (specifier !== undefined) out.push({ specifier, kind: 'dynamic', line: lineOf(sf, n.pos) });
    } else if (n.kind === SyntaxKind.ImportType) {
      // import('./x.js').T: the argument is a literal type around the string.
      const specifier = stringOf(n.argument?.literal) ?? stringOf(n.argument);
      if (specifier !== undefined) out.push({ specifier, kind: 'type', line: lineOf(sf, n.pos) });
    }
    n.forEachChild(visit);
  };
  sf.forEachChild(visit);
  return out;
}

function importKind(st: Node, valueUses: Set<string>): EdgeKind {
  const clause = st.importClause;
  if (!clause) return 'value'; // import './x.js': loaded for its effects
  if (clause.isTypeOnly) return 'type';
  const locals: string[] = [];
  if (clause.name) locals.push(textOf(clause.name));
  const bindings = clause.namedBindings;
  if (bindings?.kind === SyntaxKind.NamespaceImport && bindings.name) locals.push(textOf(bindings.name));
  else if (bindings?.kind === SyntaxKind.NamedImports) {
    for (const e of bindings.elements ?? []) if (!e.isTypeOnly && e.name) locals.push(textOf(e.name));
  }
  return locals.some((l) => valueUses.has(l)) ? 'value' : 'type';
}

function textOf(n: Node): string {
  return n.text ?? '';
}

/**
 * The identifiers a file references in value positions (expressions, `export { x }`, class
 * `extends`), outside its import declarations. Type positions (annotations, `typeof x` in a
 * type, interfaces, type aliases, `implements`) do not count: tsc erases an import used only there.
 */
function valueReferences(sf: SourceFileNode): Set<string> {
  const used = new Set<string>();
  const visit = (n: Node): void => {
    if (n.kind === SyntaxKind.ImportDeclaration || isTypeContext(n)) return;
    if (n.kind === SyntaxKind.Identifier && isReference(n)) used.add(textOf(n));
    n.forEachChild(visit);
  };
  sf.forEachChild(visit);
  return used;
}

function isTypeContext(n: Node): boolean {
  if (n.kind >= SyntaxKind.FirstTypeNode && n.kind <= SyntaxKind.LastTypeNode) return true;
  if (n.kind === SyntaxKind.InterfaceDeclaration || n.kind === SyntaxKind.TypeAliasDeclaration) return true;
  if (n.kind === SyntaxKind.HeritageClause)
    return n.token === SyntaxKind.ImplementsKeyword || n.parent.kind === SyntaxKind.InterfaceDeclaration;
  return false;
}

/** An identifier that names a binding (not a property name, a declaration's own name, a label). */
function isReference(n: Node): boolean {
  const p = n.parent;
  switch (n.parent.kind) {
    case SyntaxKind.PropertyAccessExpression:
      return p.name !== n;
    case SyntaxKind.PropertyAssignment:
    case SyntaxKind.PropertyDeclaration:
    case SyntaxKind.PropertySignature:
    case SyntaxKind.MethodDeclaration:
    case SyntaxKind.MethodSignature:
    case SyntaxKind.GetAccessor:
    case SyntaxKind.SetAccessor:
    case SyntaxKind.EnumMember:
      return p.name !== n;
    case SyntaxKind.BindingElement:
      return p.propertyName !== n && p.name !== n;
    case SyntaxKind.ExportSpecifier:
      // export { local as name }: the local one is the reference.
      return p.propertyName ? p.propertyName === n : true;
    case SyntaxKind.LabeledStatement:
    case SyntaxKind.BreakStatement:
    case SyntaxKind.ContinueStatement:
      return false;
    default:
      return true;
  }
}

// ----- the rules -----

/** The folders of src/, bottom to top (docs/architecture.md). */
export const LAYERS = [
  'core',
  'parsers',
  'model',
  'findings',
  'analyses',
  'sources',
  'render',
  'cli',
  'commands',
] as const;

export interface LayerRule {
  /** Folders of src/ this folder's modules must not load (value and dynamic imports). */
  mayNotLoad: string[];
  /** Type-only imports of those folders are forbidden too. */
  typesToo?: boolean;
}

const ALL_BUT = (...allowed: string[]) => LAYERS.filter((l) => !allowed.includes(l));

export const LAYER_RULES: Record<string, LayerRule> = {
  core: { mayNotLoad: ALL_BUT('core'), typesToo: true },
  parsers: {
    mayNotLoad: ['model', 'findings', 'analyses', 'sources', 'render', 'cli', 'commands'],
    typesToo: true,
  },
  model: { mayNotLoad: ['findings', 'analyses', 'sources', 'render', 'cli', 'commands'] },
  findings: { mayNotLoad: ['analyses', 'sources', 'render', 'cli', 'commands'] },
  analyses: { mayNotLoad: ['parsers', 'sources', 'render', 'cli', 'commands'] },
  sources: { mayNotLoad: ['analyses', 'render', 'cli', 'commands'] },
  render: { mayNotLoad: ['sources', 'cli', 'commands'] },
  cli: { mayNotLoad: ['commands'] },
};

/** src/analyses/dns/search.ts → analyses; files outside src/ have no layer. */
export function layerOf(file: string): string | undefined {
  const m = /^src\/([^/]+)\//.exec(file);
  return m?.[1];
}

export interface Violation {
  edge: ImportEdge;
  rule: string;
}

export function upwardImports(graph: ImportGraph, rules = LAYER_RULES): Violation[] {
  const out: Violation[] = [];
  for (const edge of graph.edges) {
    const from = layerOf(edge.from);
    const to = layerOf(edge.to);
    const rule = from === undefined ? undefined : rules[from];
    if (!rule || to === undefined || !rule.mayNotLoad.includes(to)) continue;
    if (edge.kind === 'type' && !rule.typesToo) continue;
    out.push({
      edge,
      rule: `${from} may not import ${to}${edge.kind === 'type' ? ' (not even a type)' : ''}`,
    });
  }
  return out;
}

/**
 * Circles of modules that load each other as they are loaded (static value imports), each as
 * a sorted list of files. An `import()` runs later, when the module is already loaded: it is
 * how a module reaches one that loads it (completion asks the command list for the names).
 */
export function importCircles(graph: ImportGraph): string[][] {
  const next = new Map<string, string[]>();
  for (const f of graph.files) next.set(f, []);
  for (const e of graph.edges) if (e.kind === 'value') next.get(e.from)?.push(e.to);
  // Tarjan's strongly connected components, iteratively (no recursion limit on a deep graph).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  let counter = 0;
  for (const start of next.keys()) {
    if (index.has(start)) continue;
    const work: { v: string; i: number }[] = [{ v: start, i: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const succ = next.get(top.v) ?? [];
      if (top.i < succ.length) {
        const w = succ[top.i++];
        if (!next.has(w)) continue;
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== top.v);
        const selfLoop = (next.get(top.v) ?? []).includes(top.v);
        if (component.length > 1 || selfLoop) circles.push(component.sort());
      }
    }
  }
  return circles;
}
