/**
 * Python: what a value is, read from how the code builds and uses it — the neutral default a template may
 * substitute ("" for something `.upper()`ed next, [] for something iterated, 0 for something added), the
 * value a function's callers expect back, and whether the code already falls back when it is missing.
 */
import { type PyFile, type PyNode, quoteStyle, unpackedAsMapping } from './ast.ts';

export type PyKind = 'number' | 'string' | 'list' | 'dict' | 'tuple' | 'bool';

const STR_METHODS = new Set([
  'upper',
  'lower',
  'strip',
  'lstrip',
  'rstrip',
  'split',
  'rsplit',
  'splitlines',
  'startswith',
  'endswith',
  'replace',
  'format',
  'title',
  'capitalize',
  'casefold',
  'encode',
  'isdigit',
  'isalpha',
  'isalnum',
  'zfill',
  'center',
  'ljust',
  'rjust',
  'partition',
  'rpartition',
  'find',
  'rfind',
  'removeprefix',
  'removesuffix',
]);
const LIST_METHODS = new Set(['append', 'extend', 'insert', 'remove', 'sort', 'reverse', 'clear', 'index', 'count']);
const DICT_METHODS = new Set(['get', 'items', 'keys', 'values', 'update', 'setdefault', 'popitem']);
const LIST_FUNCS = new Set([
  'len',
  'sum',
  'sorted',
  'list',
  'tuple',
  'set',
  'frozenset',
  'min',
  'max',
  'any',
  'all',
  'enumerate',
  'zip',
  'reversed',
  'iter',
  'next',
  'mean',
  'median',
  'fsum',
]);
const NUMBER_FUNCS = new Set(['int', 'float', 'round', 'abs', 'Decimal', 'divmod', 'pow']);

export function defaultForPy(kind: PyKind | undefined, quote: "'" | '"'): string | undefined {
  switch (kind) {
    case 'number':
      return '0';
    case 'string':
      return `${quote}${quote}`;
    case 'list':
      return '[]';
    case 'dict':
      return '{}';
    case 'tuple':
      return '()';
    case 'bool':
      return 'False';
    default:
      return undefined;
  }
}

const ARITH = new Set(['Add', 'Sub', 'Mult', 'Div', 'FloorDiv', 'Mod', 'Pow']);

/** The kind an expression evaluates to, when its shape says (one hop through a module-level assignment). */
export function kindOfPy(file: PyFile, n: PyNode, depth = 0): PyKind | undefined {
  switch (n._t) {
    case 'Constant':
      if (n.vt === 'int' || n.vt === 'float') return 'number';
      if (n.vt === 'str') return 'string';
      if (n.vt === 'bool') return 'bool';
      return undefined;
    case 'JoinedStr':
      return 'string';
    case 'List':
    case 'ListComp':
      return 'list';
    case 'Dict':
    case 'DictComp':
      return 'dict';
    case 'Tuple':
      return 'tuple';
    case 'Compare':
      return 'bool';
    case 'UnaryOp':
      return (n.op as PyNode)._t === 'Not' ? 'bool' : 'number';
    case 'BinOp': {
      const [l, r] = [kindOfPy(file, n.left as PyNode, depth), kindOfPy(file, n.right as PyNode, depth)];
      if ((n.op as PyNode)._t === 'Add' && (l === 'string' || r === 'string')) return 'string';
      if ((n.op as PyNode)._t === 'Add' && (l === 'list' || r === 'list')) return 'list';
      if ((n.op as PyNode)._t === 'Mod' && l === 'string') return 'string';
      return ARITH.has((n.op as PyNode)._t) ? 'number' : undefined;
    }
    case 'IfExp':
      return kindOfPy(file, n.body as PyNode, depth) ?? kindOfPy(file, n.orelse as PyNode, depth);
    case 'BoolOp': {
      const vals = n.values as PyNode[];
      return kindOfPy(file, vals[vals.length - 1]!, depth);
    }
    case 'Call': {
      const f = n.func as PyNode;
      if (f._t === 'Name') {
        const id = f.id as string;
        if (['len', 'sum', 'round', 'abs', 'int', 'float', 'min', 'max', 'Decimal'].includes(id)) return 'number';
        if (id === 'str') return 'string';
        if (['list', 'sorted'].includes(id)) return 'list';
        if (id === 'dict') return 'dict';
        if (id === 'bool' || id === 'isinstance') return 'bool';
      }
      if (f._t === 'Attribute') {
        const a = f.attr as string;
        if (['join', 'format', 'upper', 'lower', 'strip', 'replace', 'isoformat', 'strftime'].includes(a))
          return 'string';
        if (['split', 'splitlines', 'copy'].includes(a)) return a === 'copy' ? undefined : 'list';
        if (['mean', 'median', 'fsum', 'sqrt'].includes(a)) return 'number';
        if (a === 'get' && (n.args as PyNode[])[1]) return kindOfPy(file, (n.args as PyNode[])[1]!, depth);
      }
      return undefined;
    }
    case 'Name': {
      if (depth > 0) return undefined;
      for (const st of file.tree.body as PyNode[]) {
        if (st._t !== 'Assign') continue;
        const t = (st.targets as PyNode[])[0];
        if (t?._t === 'Name' && t.id === n.id) return kindOfPy(file, st.value as PyNode, depth + 1);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

export interface PyUses {
  crashy: (PyKind | 'unknown')[];
  handled: boolean;
}

/** The use tests for or falls back on None. */
function handlesNone(file: PyFile, x: PyNode): boolean {
  const p = file.parent(x);
  if (!p) return false;
  if (p._t === 'Compare') {
    const ops = (p.ops as PyNode[]).map((o) => o._t);
    const others = [p.left as PyNode, ...(p.comparators as PyNode[])].filter((o) => o !== x);
    if (
      ops.some((o) => ['Is', 'IsNot', 'Eq', 'NotEq'].includes(o)) &&
      others.some((o) => o._t === 'Constant' && o.vt === 'NoneType')
    )
      return true;
  }
  if (p._t === 'BoolOp') {
    const vals = p.values as PyNode[];
    return vals.indexOf(x) < vals.length - 1;
  }
  if ((p._t === 'If' || p._t === 'While' || p._t === 'IfExp' || p._t === 'Assert') && p.test === x) return true;
  if (p._t === 'UnaryOp' && (p.op as PyNode)._t === 'Not') return true;
  if (
    p._t === 'Call' &&
    (p.func as PyNode)._t === 'Name' &&
    ['isinstance', 'bool', 'str', 'repr', 'print'].includes((p.func as PyNode).id as string)
  )
    return true;
  return false;
}

/** The kind a use needs when it raises on None; undefined when it does not raise. */
function crashyUse(file: PyFile, x: PyNode): PyKind | 'unknown' | undefined {
  const p = file.parent(x);
  if (!p) return undefined;
  switch (p._t) {
    case 'Attribute': {
      if (p.value !== x) return undefined;
      const a = p.attr as string;
      if (STR_METHODS.has(a)) return 'string';
      if (LIST_METHODS.has(a)) return 'list';
      if (DICT_METHODS.has(a)) return 'dict';
      return 'unknown';
    }
    case 'Subscript': {
      if (p.value !== x) return undefined;
      const s = p.slice as PyNode;
      const sl = s._t === 'Index' ? (s.value as PyNode) : s;
      if (sl._t === 'Constant' && sl.vt === 'str') return 'dict';
      return 'list';
    }
    case 'Call': {
      if (p.func === x) return 'unknown';
      const f = p.func as PyNode;
      if (f._t === 'Name' && (p.args as PyNode[]).includes(x)) {
        if (LIST_FUNCS.has(f.id as string)) return 'list';
        if (NUMBER_FUNCS.has(f.id as string)) return 'number';
        if (f.id === 'dict') return 'dict';
      }
      if (f._t === 'Attribute' && f.attr === 'join' && (p.args as PyNode[])[0] === x) return 'list';
      return undefined;
    }
    case 'For':
    case 'AsyncFor':
      return p.iter === x ? 'list' : undefined;
    case 'comprehension':
      return p.iter === x ? 'list' : undefined;
    case 'Starred':
      return 'list';
    case 'Dict': // {**x}
    case 'keyword': // f(**x)
      return unpackedAsMapping(p, x) ? 'dict' : undefined;
    case 'Compare': {
      const ops = (p.ops as PyNode[]).map((o) => o._t);
      const comps = p.comparators as PyNode[];
      if (comps.includes(x) && ops[comps.indexOf(x)] && ['In', 'NotIn'].includes(ops[comps.indexOf(x)]!)) return 'list';
      if (ops.some((o) => ['Lt', 'Gt', 'LtE', 'GtE'].includes(o))) return 'number';
      return undefined;
    }
    case 'BinOp': {
      const other = (p.left === x ? p.right : p.left) as PyNode;
      const k = kindOfPy(file, other);
      if (k === 'string' || k === 'list' || k === 'tuple') return k;
      return 'number';
    }
    case 'AugAssign':
      return 'number';
    case 'UnaryOp':
      return (p.op as PyNode)._t === 'Not' ? undefined : 'number';
    case 'FormattedValue':
      return p.format_spec ? 'number' : undefined;
    default:
      return undefined;
  }
}

/** How `name` is used in `scope` after `after` (until the next assignment to it). */
export function usesOfPy(file: PyFile, scope: PyNode, name: string, after: number): PyUses {
  const out: PyUses = { crashy: [], handled: false };
  const refs = file
    .descendants(scope)
    .filter((n) => n._t === 'Name' && n.id === name && (n.s ?? 0) >= after)
    .sort((a, b) => (a.s ?? 0) - (b.s ?? 0));
  for (const ref of refs) {
    const ctx = (ref.ctx as PyNode | undefined)?._t;
    const p = file.parent(ref);
    if (ctx === 'Store' && p?._t !== 'AugAssign') break;
    if (p?._t === 'AugAssign' && p.target === ref) {
      out.crashy.push('number');
      continue;
    }
    if (handlesNone(file, ref)) {
      out.handled = true;
      continue;
    }
    const k = crashyUse(file, ref);
    if (k) out.crashy.push(k);
  }
  return out;
}

export function agreedKindPy(kinds: (PyKind | 'unknown')[]): PyKind | 'unknown' | undefined {
  if (kinds.length === 0) return undefined;
  if (kinds.includes('unknown')) return 'unknown';
  const set = new Set(kinds);
  return set.size === 1 ? [...set][0]! : 'unknown';
}

/**
 * The value already falls back when missing: `x or d`, `RATES.get(x, d)`, a `None` test — possibly after
 * a lookup keyed by it.
 */
export function flowsToFallbackPy(file: PyFile, x: PyNode): boolean {
  let cur = x;
  for (let i = 0; i < 6; i++) {
    const p = file.parent(cur);
    if (!p) return false;
    if (handlesNone(file, cur)) return true;
    if (
      p._t === 'Call' &&
      (p.func as PyNode)._t === 'Attribute' &&
      (p.func as PyNode).attr === 'get' &&
      (p.args as PyNode[]).length >= 2
    )
      return (p.args as PyNode[])[0] === cur;
    if (p._t === 'Subscript' && p.slice === cur) {
      cur = p;
      continue;
    }
    return false;
  }
  return false;
}

/** Some later use of `name` already falls back. */
export function nameFallsBack(file: PyFile, scope: PyNode, name: string, after: number): boolean {
  return file
    .descendants(scope)
    .some((n) => n._t === 'Name' && n.id === name && (n.s ?? 0) >= after && flowsToFallbackPy(file, n));
}

function returnsOf(file: PyFile, fn: PyNode): (PyNode | null)[] {
  if (fn._t === 'Lambda') return [fn.body as PyNode];
  return file
    .descendants(fn, { functions: false })
    .filter((n) => n._t === 'Return')
    .map((r) => (r.value as PyNode | null) ?? null);
}

/**
 * What a guard returns: the code's own fallback (`return x or DEFAULT`, `RATES.get(c, DEFAULT)`), else a
 * neutral value of the kind the function returns, else None (bare `return`: '').
 */
export function returnDefaultPy(file: PyFile, fn: PyNode): string {
  const values = returnsOf(file, fn).filter(
    (v): v is PyNode => v !== null && !(v._t === 'Constant' && v.vt === 'NoneType'),
  );
  if (values.length === 0) return '';
  for (const v of values) {
    let fb: PyNode | undefined;
    if (v._t === 'BoolOp' && (v.op as PyNode)._t === 'Or') fb = (v.values as PyNode[]).at(-1);
    if (v._t === 'Call' && (v.func as PyNode)._t === 'Attribute' && (v.func as PyNode).attr === 'get')
      fb = (v.args as PyNode[])[1];
    if (fb && (fb._t === 'Constant' || fb._t === 'Name' || fb._t === 'Attribute')) return file.text(fb);
  }
  const kinds = new Set(values.map((v) => kindOfPy(file, v)));
  if (kinds.size === 1) {
    const d = defaultForPy([...kinds][0], quoteStyle(file));
    if (d !== undefined) return d;
  }
  return 'None';
}
