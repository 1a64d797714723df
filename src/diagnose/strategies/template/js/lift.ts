/**
 * Access paths of JavaScript expressions, and lifting a path from the crashing function up the stack:
 * through `const` aliases, loop variables, array callbacks and call arguments, to the request handler,
 * where a 4xx check can be written in the handler's own variables.
 */
import type { StackFrame } from '../../../../incident/types.ts';
import type { AccessPath, Step } from '../path.ts';
import {
  enclosingFunction,
  functionName,
  isFunctionLike,
  isListedStatement,
  type JsFile,
  offsetOf,
  startOf,
  statementOf,
  ts,
  unwrap,
  walk,
} from './ast.ts';
import { handlerAround, type JsHandler } from './http.ts';

export interface JsFrame {
  file: JsFile;
  frame: StackFrame;
  /** Offset of the frame's position (line and column when the stack has one). */
  pos: number;
}

const EACH_METHODS = new Set(['map', 'forEach', 'filter', 'some', 'every', 'find', 'findIndex', 'flatMap', 'reduce']);

/** The declaration of an identifier visible at `at` (nearest enclosing scope first). */
function declarationOf(name: string, at: ts.Node): ts.Node | undefined {
  for (let scope: ts.Node | undefined = at.parent; scope; scope = scope.parent) {
    if (isFunctionLike(scope)) {
      for (const p of scope.parameters) if (bindsName(p.name, name)) return p;
    }
    if (ts.isForOfStatement(scope) || ts.isForInStatement(scope) || ts.isForStatement(scope)) {
      const init = scope.initializer;
      if (init && ts.isVariableDeclarationList(init))
        for (const d of init.declarations) if (bindsName(d.name, name)) return d;
    }
    if (ts.isBlock(scope) || ts.isSourceFile(scope) || ts.isCaseClause(scope)) {
      for (const st of scope.statements) {
        if (ts.isVariableStatement(st))
          for (const d of st.declarationList.declarations) if (bindsName(d.name, name)) return d;
        if (ts.isFunctionDeclaration(st) && st.name?.text === name) return st;
      }
    }
  }
  return undefined;
}

function bindsName(b: ts.BindingName, name: string): boolean {
  if (ts.isIdentifier(b)) return b.text === name;
  return b.elements.some((el) => !ts.isOmittedExpression(el) && bindsName(el.name, name));
}

/** The property a destructuring pattern reads to bind `name` (`{ city }` → city, `{ a: b }` → a). */
function propertyFor(pattern: ts.ObjectBindingPattern, name: string): string | undefined {
  for (const el of pattern.elements) {
    if (el.dotDotDotToken || !ts.isIdentifier(el.name) || el.name.text !== name) continue;
    const prop = el.propertyName ?? el.name;
    return ts.isIdentifier(prop) || ts.isStringLiteral(prop) ? prop.text : undefined;
  }
  return undefined;
}

/** Reassigned anywhere in its scope: its value is not its declaration's. */
function reassigned(name: string, scope: ts.Node): boolean {
  let found = false;
  walk(scope, (n) => {
    if (found) return false;
    if (
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      n.operatorToken.kind <= ts.SyntaxKind.LastAssignment &&
      ts.isIdentifier(unwrap(n.left)) &&
      (unwrap(n.left) as ts.Identifier).text === name
    )
      found = true;
    return undefined;
  });
  return found;
}

export interface Rooted {
  path: AccessPath;
  /** The declaration the root resolves to at the top: a parameter of the function, or something else. */
  param?: { fn: ts.FunctionLikeDeclaration; index: number; property?: string };
}

/**
 * The path of `e` from the variable it starts at, following `const x = <path>` aliases, destructuring,
 * loop variables and array-callback parameters within the function.
 */
export function pathOf(e: ts.Expression, depth = 0): Rooted | undefined {
  const x = unwrap(e);
  if (depth > 8) return undefined;
  if (ts.isPropertyAccessExpression(x)) {
    const inner = pathOf(x.expression, depth + 1);
    return (
      inner && { ...inner, path: { ...inner.path, steps: [...inner.path.steps, { k: 'prop', name: x.name.text }] } }
    );
  }
  if (ts.isElementAccessExpression(x)) {
    const a = unwrap(x.argumentExpression);
    let step: Step | undefined;
    if (ts.isStringLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a)) step = { k: 'key', key: a.text };
    else if (ts.isNumericLiteral(a)) step = { k: 'key', key: Number(a.text) };
    if (!step) return undefined;
    const inner = pathOf(x.expression, depth + 1);
    return inner && { ...inner, path: { ...inner.path, steps: [...inner.path.steps, step] } };
  }
  // `params.get('id')` on URLSearchParams, Headers, Map: a keyed read like an index.
  if (ts.isCallExpression(x) && ts.isPropertyAccessExpression(x.expression) && x.expression.name.text === 'get') {
    const a = x.arguments[0] && unwrap(x.arguments[0]);
    if (x.arguments.length !== 1 || !a || !(ts.isStringLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a)))
      return undefined;
    const inner = pathOf(x.expression.expression, depth + 1);
    return inner && { ...inner, path: { ...inner.path, steps: [...inner.path.steps, { k: 'get', key: a.text }] } };
  }
  if (x.kind === ts.SyntaxKind.ThisKeyword) return { path: { root: 'this', steps: [] } };
  if (!ts.isIdentifier(x)) return undefined;
  const decl = declarationOf(x.text, x);
  if (!decl) return { path: { root: x.text, steps: [] } };
  if (ts.isParameter(decl)) {
    const fn = decl.parent as ts.FunctionLikeDeclaration;
    const index = fn.parameters.indexOf(decl);
    // A callback of items.map(...) / forEach: the parameter is every element of `items`.
    const call = fn.parent;
    if (
      index ===
        (ts.isCallExpression(call) &&
        ts.isPropertyAccessExpression(call.expression) &&
        call.expression.name.text === 'reduce'
          ? 1
          : 0) &&
      ts.isCallExpression(call) &&
      ts.isPropertyAccessExpression(call.expression) &&
      EACH_METHODS.has(call.expression.name.text) &&
      call.arguments[0] === (fn as unknown as ts.Expression)
    ) {
      const over = pathOf(call.expression.expression, depth + 1);
      const prop = ts.isObjectBindingPattern(decl.name) ? propertyFor(decl.name, x.text) : undefined;
      if (!over) return undefined;
      const steps: Step[] = [...over.path.steps, { k: 'each' }, ...(prop ? [{ k: 'prop', name: prop } as Step] : [])];
      return { ...over, path: { root: over.path.root, steps } };
    }
    if (ts.isIdentifier(decl.name)) return { path: { root: x.text, steps: [] }, param: { fn, index } };
    if (ts.isObjectBindingPattern(decl.name)) {
      const property = propertyFor(decl.name, x.text);
      return property ? { path: { root: x.text, steps: [] }, param: { fn, index, property } } : undefined;
    }
    return undefined;
  }
  if (ts.isVariableDeclaration(decl)) {
    const list = decl.parent;
    const loop = list?.parent;
    if (loop && ts.isForOfStatement(loop)) {
      const over = pathOf(loop.expression, depth + 1);
      if (!over) return undefined;
      const prop = ts.isObjectBindingPattern(decl.name) ? propertyFor(decl.name, x.text) : undefined;
      if (!ts.isIdentifier(decl.name) && !prop) return undefined;
      const steps: Step[] = [...over.path.steps, { k: 'each' }, ...(prop ? [{ k: 'prop', name: prop } as Step] : [])];
      return { ...over, path: { root: over.path.root, steps } };
    }
    const isConst = ts.isVariableDeclarationList(list) && (list.flags & ts.NodeFlags.Const) !== 0;
    const scope = enclosingFunction(decl) ?? decl.getSourceFile();
    if (decl.initializer && (isConst || !reassigned(x.text, scope))) {
      const init = unwrap(decl.initializer);
      if (ts.isIdentifier(decl.name)) {
        if (ts.isPropertyAccessExpression(init) || ts.isElementAccessExpression(init) || ts.isIdentifier(init))
          return pathOf(init, depth + 1) ?? { path: { root: x.text, steps: [] } };
      } else if (ts.isObjectBindingPattern(decl.name)) {
        const prop = propertyFor(decl.name, x.text);
        const inner = prop ? pathOf(init, depth + 1) : undefined;
        if (inner && prop)
          return { ...inner, path: { ...inner.path, steps: [...inner.path.steps, { k: 'prop', name: prop }] } };
        // `const { entries } = JSON.parse(raw)`: no path to follow, but the bound name is a variable.
        if (prop && !inner) return { path: { root: x.text, steps: [] } };
      }
    }
    return ts.isIdentifier(decl.name) ? { path: { root: x.text, steps: [] } } : undefined;
  }
  return { path: { root: x.text, steps: [] } };
}

/** The call at a caller's frame position that invokes the function named `callee`. */
export function callAt(
  f: JsFile,
  pos: number,
  callee: string | undefined,
): ts.CallExpression | ts.NewExpression | undefined {
  if (!callee) return undefined;
  const line = f.sf.getLineAndCharacterOfPosition(pos).line;
  let best: ts.CallExpression | ts.NewExpression | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  walk(f.sf, (n) => {
    if ((ts.isCallExpression(n) || ts.isNewExpression(n)) && n.arguments) {
      const c = unwrap(n.expression);
      const name = ts.isPropertyAccessExpression(c) ? c.name.text : ts.isIdentifier(c) ? c.text : undefined;
      const start = startOf(f, n);
      const [l0, l1] = [f.sf.getLineAndCharacterOfPosition(start).line, f.sf.getLineAndCharacterOfPosition(n.end).line];
      if (name === callee && l0 <= line && line <= l1) {
        const d = pos >= start && pos <= n.end ? 0 : Math.abs(start - pos);
        if (d < bestDist) {
          best = n;
          bestDist = d;
        }
      }
    }
    return undefined;
  });
  return best;
}

/** The innermost function containing the frame's position. */
export function functionAt(fr: JsFrame): ts.FunctionLikeDeclaration | undefined {
  let found: ts.FunctionLikeDeclaration | undefined;
  walk(fr.file.sf, (n) => {
    if (isFunctionLike(n) && startOf(fr.file, n) <= fr.pos && fr.pos < n.end) found = n;
    return undefined;
  });
  return found;
}

/** Where a check goes: before a statement, or before an arrow function's expression body (made a block). */
export type Anchor = ts.Statement | ts.Expression;

/** The expression body of an arrow function (`(req, res) => res.json(…)`). */
export function isArrowBody(n: ts.Node): n is ts.Expression {
  return !!n.parent && ts.isArrowFunction(n.parent) && n.parent.body === n && !ts.isBlock(n);
}

export interface Lifted {
  file: JsFile;
  handler: JsHandler;
  path: AccessPath;
  /** The statement in the handler before which the check goes. */
  anchor: Anchor;
  /** Frames crossed (0: the fault is in the handler itself). */
  hops: number;
}

/**
 * The statement around `node` (climbing out of loops and blocks, never out of a function) before which the
 * path's root is declared. The root must be the handler's own data: declared inside the handler.
 */
function anchorFor(node: ts.Node, root: string, handlerFn: ts.FunctionLikeDeclaration): Anchor | undefined {
  // `(req, res) => res.json(summarize(req.body))`: the check goes before the expression body (made a block).
  const body = handlerFn.body;
  if (
    body &&
    ts.isArrowFunction(handlerFn) &&
    !ts.isBlock(body) &&
    node.pos >= body.pos &&
    node.end <= body.end &&
    handlerFn.parameters.some((p) => ts.isIdentifier(p.name) && p.name.text === root)
  )
    return body as ts.Expression;
  let stmt = statementOf(node);
  while (stmt) {
    if (isListedStatement(stmt)) {
      const decl = declarationOf(root, stmt);
      if (!decl || decl.pos < handlerFn.pos || decl.end > handlerFn.end) return undefined;
      const inside = decl.pos >= stmt.pos && decl.end <= stmt.end;
      if (!inside && (ts.isParameter(decl) || decl.end <= stmt.getStart())) return stmt;
    }
    const up = stmt.parent;
    if (!up || isFunctionLike(up)) return undefined;
    stmt = statementOf(up);
  }
  return undefined;
}

/**
 * Whether the variable `name`, as seen at `at` in a handler, holds the request's data: the handler's own
 * parameters (req, ctx, a body a framework passes), or a variable made from them by reading through
 * (`req.body.items`), parsing (`JSON.parse(raw)`), a function of them (`await readBody(req)`), `??`/`||`,
 * or destructuring. A method call on something else (`USERS.find((u) => u.id === req.params.id)`) is not.
 */
function fromRequest(name: string, at: ts.Node, handlerFn: ts.FunctionLikeDeclaration, depth = 0): boolean {
  if (depth > 6) return false;
  const decl = declarationOf(name, at);
  if (!decl) return false;
  if (ts.isParameter(decl)) {
    if (decl.parent === handlerFn) return true;
    // `req.on('data', (chunk) => …)`: a callback the request's data is handed to.
    const call = decl.parent.parent;
    return (
      !!call &&
      ts.isCallExpression(call) &&
      ts.isPropertyAccessExpression(call.expression) &&
      derived(call.expression.expression, call, handlerFn, depth)
    );
  }
  if (ts.isVariableDeclaration(decl)) {
    const loop = decl.parent?.parent;
    if (loop && ts.isForOfStatement(loop)) return derived(loop.expression, decl, handlerFn, depth);
    if (decl.initializer && derived(decl.initializer, decl, handlerFn, depth)) return true;
    // `let raw = ''` … `raw += chunk`, `const chunks = []` … `chunks.push(chunk)`: what goes in later counts.
    const isName = (e: ts.Expression) => ts.isIdentifier(unwrap(e)) && (unwrap(e) as ts.Identifier).text === name;
    let filled = false;
    walk(enclosingFunction(decl) ?? decl.getSourceFile(), (n) => {
      if (filled) return false;
      if (
        ts.isBinaryExpression(n) &&
        n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
        n.operatorToken.kind <= ts.SyntaxKind.LastAssignment &&
        isName(n.left)
      )
        filled = derived(n.right, n, handlerFn, depth);
      else if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && isName(n.expression.expression))
        filled = n.arguments.some((a) => derived(a, n, handlerFn, depth));
      return undefined;
    });
    return filled;
  }
  return false;
}

function derived(e: ts.Expression, at: ts.Node, handlerFn: ts.FunctionLikeDeclaration, depth: number): boolean {
  const x = unwrap(e);
  const data = (a: ts.Expression) => !ts.isFunctionLike(unwrap(a)) && derived(a, at, handlerFn, depth);
  if (ts.isIdentifier(x)) return fromRequest(x.text, at, handlerFn, depth + 1);
  if (ts.isPropertyAccessExpression(x) || ts.isElementAccessExpression(x)) return data(x.expression);
  if (ts.isAwaitExpression(x)) return data(x.expression);
  if (ts.isBinaryExpression(x)) return data(x.left) || data(x.right);
  if (ts.isConditionalExpression(x)) return data(x.whenTrue) || data(x.whenFalse);
  if (ts.isNewExpression(x)) return (x.arguments ?? []).some(data);
  if (ts.isCallExpression(x)) {
    const callee = unwrap(x.expression);
    // A method of the request's data (`url.searchParams.get('q')`), or a function given it (`JSON.parse(raw)`).
    if (ts.isPropertyAccessExpression(callee) && data(callee.expression)) return true;
    return x.arguments.some(data);
  }
  return false;
}

/**
 * Lifts the path of `value` (in the innermost frame) to the nearest enclosing request handler up the
 * stack. Undefined when a hop cannot be followed (a computed argument, a callback the stack skips).
 */
export function liftToHandler(frames: JsFrame[], value: ts.Expression, at: ts.Node): Lifted | undefined {
  let rooted = pathOf(value);
  let file = frames[0]!.file;
  let node: ts.Node = at;
  for (let i = 0; rooted && i < frames.length; i++) {
    const handler = handlerAround(file, node);
    if (handler && rooted.path.root !== 'this') {
      const anchor = anchorFor(node, rooted.path.root, handler.fn);
      // Only the request's data is validated: a user the handler looked up is not the client's mistake.
      if (anchor && fromRequest(rooted.path.root, anchor, handler.fn))
        return { file, handler, path: rooted.path, anchor, hops: i };
      if (anchor) return undefined;
    }
    // Frames still inside the parameter's function (a callback in it) are not its caller.
    const fnOf = rooted.param?.fn;
    while (
      fnOf &&
      frames[i + 1] &&
      frames[i + 1]!.file === file &&
      frames[i + 1]!.pos >= fnOf.pos &&
      frames[i + 1]!.pos < fnOf.end
    )
      i++;
    const caller = frames[i + 1];
    if (!rooted.param || !caller) return undefined;
    const call = callAt(caller.file, caller.pos, functionName(rooted.param.fn));
    const arg = call?.arguments?.[rooted.param.index];
    if (!call || !arg || call.arguments!.slice(0, rooted.param.index + 1).some(ts.isSpreadElement)) return undefined;
    const up = pathOf(arg);
    if (!up) return undefined;
    const steps: Step[] = [
      ...up.path.steps,
      ...(rooted.param.property ? [{ k: 'prop', name: rooted.param.property } as Step] : []),
      ...rooted.path.steps,
    ];
    rooted = { ...up, path: { root: up.path.root, steps } };
    file = caller.file;
    node = call;
  }
  return undefined;
}

export { offsetOf };

/** The call that invoked `fn` (the innermost frame's function), in the first frame outside it. */
export function callerCall(
  frames: JsFrame[],
  fn: ts.FunctionLikeDeclaration | undefined,
): { file: JsFile; call: ts.CallExpression | ts.NewExpression } | undefined {
  if (!fn || !frames[0]) return undefined;
  const inner = frames[0].file;
  for (const fr of frames.slice(1)) {
    if (fr.file === inner && fr.pos >= fn.pos && fr.pos < fn.end) continue;
    const call = callAt(fr.file, fr.pos, functionName(fn));
    return call ? { file: fr.file, call } : undefined;
  }
  return undefined;
}
