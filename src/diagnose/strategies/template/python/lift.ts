/**
 * Python access paths, and lifting a path from the crashing function up the stack — through single
 * assignments, for loops, comprehensions and call arguments (positional and keyword) — to the request
 * handler, where the 4xx check is written in the handler's own variables.
 */
import type { StackFrame } from '../../../../incident/types.ts';
import type { AccessPath, Step } from '../path.ts';
import {
  boundNames,
  constValue,
  FUNCTIONS,
  intValue,
  type PyFile,
  type PyNode,
  positionalParams,
  sliceOf,
} from './ast.ts';
import { handlerAroundPy, type PyHandler } from './http.ts';

export interface PyFrame {
  file: PyFile;
  frame: StackFrame & { line: number };
  /** The failing sub-expression's offsets, when the trace marks it (Python 3.11+ carets). */
  span?: { start: number; end: number };
}

export interface RootedPy {
  path: AccessPath;
  param?: { fn: PyNode; index: number; name: string };
}

const COMPREHENSIONS = new Set(['ListComp', 'SetComp', 'GeneratorExp', 'DictComp']);
const SAME_ELEMENTS = new Set(['sorted', 'list', 'tuple', 'reversed', 'set', 'frozenset']);

/**
 * Flask's and Quart's `request`: a module-level import that stands for the current request inside a view,
 * so a path rooted at it (`request.json["email"]`, `request.get_json()["items"]`) is the handler's own data.
 */
export function requestGlobal(file: PyFile, root: PyNode | string): boolean {
  const name = typeof root === 'string' ? /^\w+/.exec(root)?.[0] : root._t === 'Name' ? (root.id as string) : undefined;
  if (!name) return false;
  return (file.tree.body as PyNode[]).some(
    (st) =>
      st._t === 'ImportFrom' &&
      ['flask', 'quart'].includes(st.module as string) &&
      (st.names as PyNode[]).some((a) => a.name === 'request' && ((a.asname as string | null) ?? 'request') === name),
  );
}

/** Statements inside `fn` (not nested functions) that bind `name`. */
function assignmentsTo(file: PyFile, fn: PyNode, name: string): PyNode[] {
  return file.descendants(fn, { functions: false }).filter((n) => {
    switch (n._t) {
      case 'Assign':
        return (n.targets as PyNode[]).some((t) => boundNames(t).includes(name));
      case 'AnnAssign':
      case 'AugAssign':
      case 'For':
      case 'AsyncFor':
        return boundNames(n.target as PyNode).includes(name);
      case 'With':
      case 'AsyncWith':
        return (n.items as PyNode[]).some(
          (it) => it.optional_vars && boundNames(it.optional_vars as PyNode).includes(name),
        );
      default:
        return false;
    }
  });
}

/** The path of an expression from the variable it starts at. */
export function pathOfPy(file: PyFile, e: PyNode, depth = 0): RootedPy | undefined {
  if (depth > 8) return undefined;
  const extend = (inner: RootedPy | undefined, step: Step): RootedPy | undefined =>
    inner && { ...inner, path: { ...inner.path, steps: [...inner.path.steps, step] } };
  switch (e._t) {
    case 'Attribute':
      return extend(pathOfPy(file, e.value as PyNode, depth + 1), { k: 'prop', name: e.attr as string });
    case 'Subscript': {
      const s = sliceOf(e);
      const key = constValue(s) ?? intValue(s);
      if (key === undefined) return undefined;
      return extend(pathOfPy(file, e.value as PyNode, depth + 1), { k: 'key', key });
    }
    case 'Call': {
      const f = e.func as PyNode;
      const args = e.args as PyNode[];
      // sorted(x), list(x), …: empty exactly when x is (what a length check asks).
      if (f._t === 'Name' && SAME_ELEMENTS.has(f.id as string) && args.length >= 1)
        return pathOfPy(file, args[0]!, depth + 1);
      // Flask/Quart `request.get_json()`: the body, the same on every call (parsed once, cached).
      if (f._t === 'Attribute' && f.attr === 'get_json' && args.length === 0 && requestGlobal(file, f.value as PyNode))
        return { path: { root: file.text(e), steps: [] } };
      if (f._t !== 'Attribute' || f.attr !== 'get' || args.length < 1 || args.length > 2) return undefined;
      const key = constValue(args[0]);
      if (typeof key !== 'string') return undefined;
      // The rest of the call as written: a default, and Flask's `type=int` (the value a check must see).
      const rest = [...args.slice(1), ...(e.keywords as PyNode[])].map((x) => file.text(x));
      const fb = rest.length ? rest.join(', ') : undefined;
      return extend(pathOfPy(file, f.value as PyNode, depth + 1), { k: 'get', key, ...(fb ? { fallback: fb } : {}) });
    }
    case 'Name':
      return nameRoot(file, e, depth);
    default:
      return undefined;
  }
}

function nameRoot(file: PyFile, n: PyNode, depth: number): RootedPy | undefined {
  const name = n.id as string;
  const plain: RootedPy = { path: { root: name, steps: [] } };
  // A comprehension's target: every element of its iterable.
  for (const a of file.ancestors(n)) {
    if (COMPREHENSIONS.has(a._t)) {
      for (const g of a.generators as PyNode[]) {
        if (boundNames(g.target as PyNode).includes(name) && (g.target as PyNode)._t === 'Name') {
          const over = pathOfPy(file, g.iter as PyNode, depth + 1);
          return over && { ...over, path: { ...over.path, steps: [...over.path.steps, { k: 'each' }] } };
        }
      }
    }
    if (
      (a._t === 'For' || a._t === 'AsyncFor') &&
      (a.target as PyNode)._t === 'Name' &&
      (a.target as PyNode).id === name
    ) {
      const over = pathOfPy(file, a.iter as PyNode, depth + 1);
      return over && { ...over, path: { ...over.path, steps: [...over.path.steps, { k: 'each' }] } };
    }
    if (FUNCTIONS.has(a._t)) {
      const params = positionalParams(a);
      const assigned = assignmentsTo(file, a, name);
      const index = params.indexOf(name);
      if (index >= 0 && assigned.length === 0) return { ...plain, param: { fn: a, index, name } };
      if (assigned.length === 1 && assigned[0]!._t === 'Assign' && (assigned[0]!.s ?? 0) < (n.s ?? 0)) {
        const a0 = assigned[0]!;
        const targets = a0.targets as PyNode[];
        if (targets.length === 1 && targets[0]!._t === 'Name') {
          const value = a0.value as PyNode;
          if (['Attribute', 'Subscript', 'Call', 'Name'].includes(value._t))
            return pathOfPy(file, value, depth + 1) ?? plain;
        }
      }
      return plain;
    }
  }
  return plain;
}

/** The call on a caller's frame line that invokes the function named `callee`. */
export function callAt(file: PyFile, line: number, callee: string): PyNode | undefined {
  const calls = file.all.filter((n) => {
    if (n._t !== 'Call' || n.s === undefined || n.e === undefined) return false;
    if (file.lineOf(n.s) > line || file.lineOf(n.e) < line) return false;
    const f = n.func as PyNode;
    return (f._t === 'Name' && f.id === callee) || (f._t === 'Attribute' && f.attr === callee);
  });
  // The innermost (last starting) call that names it.
  return calls.sort((a, b) => (b.s ?? 0) - (a.s ?? 0))[0];
}

/** The argument a call passes for parameter `index` / `name` of `fn`. */
function argumentFor(call: PyNode, fn: PyNode, index: number, name: string): PyNode | undefined {
  const kw = (call.keywords as PyNode[]).find((k) => k.arg === name);
  if (kw) return kw.value as PyNode;
  const params = positionalParams(fn);
  const method = (call.func as PyNode)._t === 'Attribute' && (params[0] === 'self' || params[0] === 'cls');
  const at = method ? index - 1 : index;
  const args = call.args as PyNode[];
  if (at < 0 || args.slice(0, at + 1).some((a) => a._t === 'Starred')) return undefined;
  return args[at];
}

export interface LiftedPy {
  file: PyFile;
  handler: PyHandler;
  path: AccessPath;
  anchor: PyNode;
  hops: number;
}

/** The statement in the handler before which the root is bound (climbing out of loops, never functions). */
function anchorFor(file: PyFile, node: PyNode, root: string, handler: PyNode): PyNode | undefined {
  let stmt = file.statementOf(node);
  while (stmt && stmt !== handler) {
    const list = file.listOf(stmt);
    const boundInside = file
      .descendants(stmt)
      .some((n) => n._t === 'Name' && n.id === root && (n.ctx as PyNode | undefined)?._t === 'Store');
    const boundBefore =
      positionalParams(handler).includes(root) ||
      requestGlobal(file, root) ||
      file
        .descendants(handler, { functions: false })
        .some(
          (n) =>
            n._t === 'Name' &&
            n.id === root &&
            (n.ctx as PyNode | undefined)?._t === 'Store' &&
            (n.e ?? 0) <= (stmt!.s ?? 0),
        );
    if (list && boundBefore && !boundInside) return stmt;
    const up = file.parent(stmt);
    if (!up || FUNCTIONS.has(up._t)) return undefined;
    stmt = file.statementOf(up);
  }
  return undefined;
}

/** Lifts `value`'s path from the innermost frame to the nearest request handler up the stack. */
export function liftToHandlerPy(frames: PyFrame[], value: PyNode, at: PyNode): LiftedPy | undefined {
  let file = frames[0]!.file;
  let rooted = pathOfPy(file, value);
  let node = at;
  for (let i = 0; rooted && i < frames.length; i++) {
    const handler = handlerAroundPy(file, node);
    if (handler) {
      const anchor = anchorFor(file, node, rooted.path.root, handler.fn);
      if (anchor && rooted.path.root !== 'self') return { file, handler, path: rooted.path, anchor, hops: i };
    }
    // Frames still inside the parameter's function (a lambda or comprehension in it) are not its caller.
    const fnOf = rooted.param?.fn;
    while (
      fnOf &&
      frames[i + 1] &&
      frames[i + 1]!.file === file &&
      file.offsetOfLine(frames[i + 1]!.frame.line) >= (fnOf.s ?? 0) &&
      file.offsetOfLine(frames[i + 1]!.frame.line) < (fnOf.e ?? 0)
    )
      i++;
    const caller = frames[i + 1];
    if (!rooted.param || !caller) return undefined;
    const call = callAt(caller.file, caller.frame.line, rooted.param.fn.name as string);
    const arg = call && argumentFor(call, rooted.param.fn, rooted.param.index, rooted.param.name);
    if (!call || !arg) return undefined;
    const up = pathOfPy(caller.file, arg);
    if (!up) return undefined;
    rooted = { ...up, path: { root: up.path.root, steps: [...up.path.steps, ...rooted.path.steps] } };
    file = caller.file;
    node = call;
  }
  return undefined;
}

/** The call that invoked `fn` (the innermost frame's function), in the first frame outside it. */
export function callerCall(frames: PyFrame[], fn: PyNode | undefined): { file: PyFile; call: PyNode } | undefined {
  if (!fn || fn._t === 'Lambda' || !frames[0]) return undefined;
  const inner = frames[0].file;
  for (const fr of frames.slice(1)) {
    const at = fr.file.offsetOfLine(fr.frame.line);
    if (fr.file === inner && at >= (fn.s ?? 0) && at < (fn.e ?? 0)) continue;
    const call = callAt(fr.file, fr.frame.line, fn.name as string);
    return call ? { file: fr.file, call } : undefined;
  }
  return undefined;
}
