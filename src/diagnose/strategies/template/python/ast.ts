/**
 * Python syntax trees as the helper sends them (JSON: `_t` the node type, `s`/`e` UTF-16 offsets, the
 * stdlib `ast` fields), with the structural questions the templates ask: parents, statements, functions,
 * names, purity.
 */
import { stringLiteral } from '../edits.ts';

export interface PyNode {
  _t: string;
  s?: number;
  e?: number;
  [field: string]: unknown;
}

export function isNode(v: unknown): v is PyNode {
  return typeof v === 'object' && v !== null && typeof (v as PyNode)._t === 'string';
}

export function kids(n: PyNode): PyNode[] {
  const out: PyNode[] = [];
  for (const [k, v] of Object.entries(n)) {
    if (k === '_t' || k === 's' || k === 'e' || k === 'ctx') continue;
    if (isNode(v)) out.push(v);
    else if (Array.isArray(v)) for (const x of v) if (isNode(x)) out.push(x);
  }
  return out;
}

export const STATEMENTS = new Set([
  'FunctionDef',
  'AsyncFunctionDef',
  'ClassDef',
  'Return',
  'Delete',
  'Assign',
  'AugAssign',
  'AnnAssign',
  'For',
  'AsyncFor',
  'While',
  'If',
  'With',
  'AsyncWith',
  'Match',
  'Raise',
  'Try',
  'TryStar',
  'Assert',
  'Import',
  'ImportFrom',
  'Global',
  'Nonlocal',
  'Expr',
  'Pass',
  'Break',
  'Continue',
]);
const BODY_FIELDS = ['body', 'orelse', 'finalbody'];
export const FUNCTIONS = new Set(['FunctionDef', 'AsyncFunctionDef', 'Lambda']);

export class PyFile {
  readonly path: string;
  readonly source: string;
  readonly tree: PyNode;
  readonly parents = new Map<PyNode, PyNode>();
  readonly all: PyNode[] = [];
  private readonly lineStarts: number[] = [0];

  constructor(path: string, source: string, tree: PyNode) {
    this.path = path;
    this.source = source;
    this.tree = tree;
    const stack: PyNode[] = [tree];
    while (stack.length) {
      const n = stack.pop()!;
      this.all.push(n);
      for (const k of kids(n)) {
        this.parents.set(k, n);
        stack.push(k);
      }
    }
    this.all.sort((a, b) => (a.s ?? 0) - (b.s ?? 0));
    for (let i = 0; i < source.length; i++) {
      const c = source[i];
      if (c === '\n' || (c === '\r' && source[i + 1] !== '\n')) this.lineStarts.push(i + 1);
    }
  }

  text(n: PyNode): string {
    return this.source.slice(n.s ?? 0, n.e ?? 0);
  }

  /** Offset of the start of a 1-based line. */
  offsetOfLine(line: number): number {
    return this.lineStarts[line - 1] ?? this.source.length;
  }

  lineOf(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  parent(n: PyNode): PyNode | undefined {
    return this.parents.get(n);
  }

  ancestors(n: PyNode): PyNode[] {
    const out: PyNode[] = [];
    for (let p = this.parents.get(n); p; p = this.parents.get(p)) out.push(p);
    return out;
  }

  /** The nearest function (def, async def, lambda) around `n`. */
  functionOf(n: PyNode): PyNode | undefined {
    return this.ancestors(n).find((a) => FUNCTIONS.has(a._t));
  }

  /** The nearest statement around `n` (itself when it is one). */
  statementOf(n: PyNode): PyNode | undefined {
    if (STATEMENTS.has(n._t)) return n;
    return this.ancestors(n).find((a) => STATEMENTS.has(a._t));
  }

  /** The list (body, orelse, …) a statement is in. */
  listOf(stmt: PyNode): PyNode[] | undefined {
    const p = this.parents.get(stmt);
    if (!p) return undefined;
    for (const f of [...BODY_FIELDS, 'handlers']) {
      const v = p[f];
      if (Array.isArray(v) && v.includes(stmt)) return v as PyNode[];
    }
    return undefined;
  }

  /** The innermost statement covering a line; a compound statement only by its header. */
  statementAtLine(line: number): PyNode | undefined {
    let best: PyNode | undefined;
    let depth = -1;
    for (const n of this.all) {
      if (!STATEMENTS.has(n._t) || n.s === undefined || n.e === undefined) continue;
      if (this.lineOf(n.s) > line || this.lineOf(n.e) < line) continue;
      const d = this.ancestors(n).length;
      if (d > depth) {
        best = n;
        depth = d;
      }
    }
    return best;
  }

  /** Nodes of the statement's own expressions (not nested statements) whose span touches `line`. */
  exprsAtLine(stmt: PyNode, line: number): PyNode[] {
    const out: PyNode[] = [];
    const go = (n: PyNode) => {
      for (const k of kids(n)) {
        if (STATEMENTS.has(k._t)) continue;
        if (k.s !== undefined && k.e !== undefined) {
          if (this.lineOf(k.s) <= line && this.lineOf(k.e) >= line) out.push(k);
        }
        go(k);
      }
    };
    go(stmt);
    return out;
  }

  /** Every node under `n` (depth first, itself excluded), optionally not descending into nested functions. */
  descendants(n: PyNode, opts: { functions?: boolean } = {}): PyNode[] {
    const out: PyNode[] = [];
    const go = (x: PyNode) => {
      for (const k of kids(x)) {
        out.push(k);
        if (opts.functions === false && FUNCTIONS.has(k._t)) continue;
        go(k);
      }
    };
    go(n);
    return out;
  }
}

/** The slice of a subscript (3.8 wraps it in `Index`). */
export function sliceOf(sub: PyNode): PyNode {
  const s = sub.slice as PyNode;
  return s._t === 'Index' ? (s.value as PyNode) : s;
}

export function constValue(n: PyNode | undefined): string | number | undefined {
  if (n?._t !== 'Constant') return undefined;
  if (n.vt === 'str' && typeof n.value === 'string') return n.value;
  if (n.vt === 'int' && typeof n.value === 'number') return n.value;
  return undefined;
}

/** An integer constant, negative ones included (`-1` is UnaryOp(USub, 1)). */
export function intValue(n: PyNode): number | undefined {
  if (n._t === 'Constant' && n.vt === 'int' && typeof n.value === 'number') return n.value;
  if (n._t === 'UnaryOp' && (n.op as PyNode)._t === 'USub') {
    const v = intValue(n.operand as PyNode);
    return v === undefined ? undefined : -v;
  }
  return undefined;
}

const PURE_CALLS = new Set([
  'len',
  'str',
  'getattr',
  'isinstance',
  'abs',
  'sorted',
  'list',
  'tuple',
  'set',
  'reversed',
]);
// Flask's request.get_json() parses once and caches: reading it again is a read.
const PURE_METHODS = new Set(['get', 'match', 'search', 'fullmatch', 'get_json']);

/** Side-effect free and cheap to evaluate twice: names, attributes, constant subscripts, `.get()`, len(). */
export function isPure(n: PyNode): boolean {
  switch (n._t) {
    case 'Name':
    case 'Constant':
      return true;
    case 'Attribute':
      return isPure(n.value as PyNode);
    case 'Subscript': {
      const s = sliceOf(n);
      return isPure(n.value as PyNode) && (s._t === 'Constant' || s._t === 'Name' || intValue(s) !== undefined);
    }
    case 'UnaryOp':
      return isPure(n.operand as PyNode);
    case 'BinOp':
      return isPure(n.left as PyNode) && isPure(n.right as PyNode);
    case 'Call': {
      const f = n.func as PyNode;
      const args = [...(n.args as PyNode[]), ...(n.keywords as PyNode[]).map((k) => k.value as PyNode)];
      // dict.get and regular-expression matching: no side effects, cheap to repeat in a guard.
      const pureFunc =
        (f._t === 'Name' && PURE_CALLS.has(f.id as string)) ||
        (f._t === 'Attribute' && PURE_METHODS.has(f.attr as string) && isPure(f.value as PyNode));
      return pureFunc && args.every(isPure);
    }
    default:
      return false;
  }
}

/** Names a Python expression reads (Load context). */
export function loadedNames(file: PyFile, n: PyNode): string[] {
  const all = [n, ...file.descendants(n)];
  return all.filter((x) => x._t === 'Name' && (x.ctx as PyNode | undefined)?._t !== 'Store').map((x) => x.id as string);
}

/** Names bound by a target (Name, Tuple, List, Starred). */
export function boundNames(target: PyNode): string[] {
  if (target._t === 'Name') return [target.id as string];
  if (target._t === 'Tuple' || target._t === 'List') return (target.elts as PyNode[]).flatMap(boundNames);
  if (target._t === 'Starred') return boundNames(target.value as PyNode);
  return [];
}

/** A Python string literal for `s`: ASCII only, valid in every Python version. */
export function pyString(s: string, quote: "'" | '"' = '"'): string {
  return stringLiteral(s, quote);
}

export function quoteStyle(file: PyFile): "'" | '"' {
  const single = (file.source.match(/(?<![\w"])'[^'\n]*'/g) ?? []).length;
  const double = (file.source.match(/(?<![\w'])"[^"\n]*"/g) ?? []).length;
  return single > double ? "'" : '"';
}

/** Module-level and enclosing-function names visible at `at`: parameters, assignments, imports, defs. */
export function namesInScope(file: PyFile, at: PyNode): Set<string> {
  const names = new Set<string>(['self', 'cls']);
  const scopes = [file.tree, ...file.ancestors(at).filter((a) => FUNCTIONS.has(a._t) || a._t === 'ClassDef')];
  for (const scope of scopes) {
    if (FUNCTIONS.has(scope._t)) for (const a of paramNames(scope)) names.add(a);
    const visit = (n: PyNode) => {
      for (const k of kids(n)) {
        if (k._t === 'FunctionDef' || k._t === 'AsyncFunctionDef' || k._t === 'ClassDef') {
          names.add(k.name as string);
          if (scope !== file.tree || k._t !== 'ClassDef') continue;
          continue;
        }
        if (k._t === 'Lambda') continue;
        if (k._t === 'Name' && (k.ctx as PyNode | undefined)?._t === 'Store') names.add(k.id as string);
        if (k._t === 'alias') names.add(((k.asname as string | null) ?? (k.name as string)).split('.')[0]!);
        if (k._t === 'ExceptHandler' && k.name) names.add(k.name as string);
        if (k._t === 'arg') names.add(k.arg as string);
        visit(k);
      }
    };
    visit(scope);
  }
  return names;
}

export function paramNames(fn: PyNode): string[] {
  const a = fn.args as PyNode;
  const list = [
    ...((a.posonlyargs as PyNode[] | undefined) ?? []),
    ...(a.args as PyNode[]),
    ...(a.vararg ? [a.vararg as PyNode] : []),
    ...(a.kwonlyargs as PyNode[]),
    ...(a.kwarg ? [a.kwarg as PyNode] : []),
  ];
  return list.map((x) => x.arg as string);
}

/** Positional parameters in order (posonly then regular). */
export function positionalParams(fn: PyNode): string[] {
  const a = fn.args as PyNode;
  return [...((a.posonlyargs as PyNode[] | undefined) ?? []), ...(a.args as PyNode[])].map((x) => x.arg as string);
}

const PY_BUILTINS = new Set([
  'len',
  'str',
  'int',
  'float',
  'bool',
  'list',
  'dict',
  'tuple',
  'set',
  'isinstance',
  'any',
  'all',
  'None',
  'True',
  'False',
  'getattr',
  'ValueError',
  'TypeError',
  'KeyError',
  'abs',
  'min',
  'max',
  'sum',
  'print',
  'Exception',
]);

export function isBuiltin(name: string): boolean {
  return PY_BUILTINS.has(name);
}

/** Expressions that never evaluate to None (displays, operators, comparisons, literals other than None). */
const NEVER_NONE = new Set([
  'List',
  'Dict',
  'Tuple',
  'Set',
  'JoinedStr',
  'BinOp',
  'ListComp',
  'DictComp',
  'SetComp',
  'GeneratorExp',
  'Compare',
  'BoolOp',
]);

/** `{**x}` or `f(**x)`: `p` unpacks the value `x` as a mapping. */
export function unpackedAsMapping(p: PyNode, x: PyNode): boolean {
  if (p._t === 'keyword') return p.arg === null && p.value === x;
  if (p._t !== 'Dict') return false;
  const i = (p.values as PyNode[]).indexOf(x);
  return i >= 0 && (p.keys as (PyNode | null)[])[i] === null;
}

export function canBeNone(n: PyNode): boolean {
  if (n._t === 'Constant') return n.vt === 'NoneType';
  return !NEVER_NONE.has(n._t);
}
