/**
 * JavaScript/TypeScript side of input reconstruction (inputs.ts), on the TypeScript parser's syntax tree:
 * the function around a stack frame, whether its module exports it (ESM or CommonJS), the access at the
 * frame's column that V8's message names, and how a requirement travels back through `const` bindings,
 * destructuring, `for…of`, array callbacks and call sites to parameters. Pure.
 */
import ts from 'typescript';
import type { Leaf, Param, Requirement, Step, Use } from './inputs.ts';
import { leafForMethod, UNDEFINED } from './inputs.ts';

export type FnNode = ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction | ts.MethodDeclaration;

export function parseJs(src: string, fileName: string): ts.SourceFile {
  const kind = /\.[cm]?tsx?$/.test(fileName)
    ? fileName.endsWith('x')
      ? ts.ScriptKind.TSX
      : ts.ScriptKind.TS
    : fileName.endsWith('x')
      ? ts.ScriptKind.JSX
      : ts.ScriptKind.JS;
  return ts.createSourceFile(fileName, src, ts.ScriptTarget.Latest, true, kind);
}

function isFn(n: ts.Node): n is FnNode {
  return (
    ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n)
  );
}

/** The position of a 1-based line and column (column defaults to the first non-blank character). */
export function positionOf(sf: ts.SourceFile, line: number, column?: number): number | undefined {
  const starts = sf.getLineStarts();
  const start = starts[line - 1];
  if (start === undefined) return undefined;
  if (column !== undefined) return start + column - 1;
  const text = sf.text.slice(start, starts[line] ?? sf.text.length);
  return start + (/^\s*/.exec(text)?.[0].length ?? 0);
}

/** The function's own name, or the name it is bound to (`const f = () =>`, `{ f() {} }`, `exports.f =`). */
export function fnName(fn: FnNode): string | undefined {
  if ((ts.isFunctionDeclaration(fn) || ts.isFunctionExpression(fn)) && fn.name) return fn.name.text;
  if (ts.isMethodDeclaration(fn) && (ts.isIdentifier(fn.name) || ts.isStringLiteral(fn.name))) return fn.name.text;
  const p = fn.parent;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (ts.isPropertyAssignment(p) && (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))) return p.name.text;
  if (ts.isBinaryExpression(p) && ts.isPropertyAccessExpression(p.left)) return p.left.name.text;
  return undefined;
}

/** The innermost function around `pos`, preferring one with the frame's name. */
export function functionAt(sf: ts.SourceFile, pos: number, name?: string): FnNode | undefined {
  const around: FnNode[] = [];
  const visit = (n: ts.Node) => {
    if (pos < n.getStart(sf) || pos >= n.getEnd()) return;
    if (isFn(n)) around.push(n);
    n.forEachChild(visit);
  };
  visit(sf);
  const short = name
    ?.replace(/^(async\s+)?(new\s+)?/, '')
    .split('.')
    .at(-1);
  if (short && short !== '<anonymous>') {
    const named = [...around].reverse().find((f) => fnName(f) === short);
    if (named) return named;
  }
  return around.at(-1);
}

/** Identifier names a destructuring pattern binds, with the property path each reads. */
function patternNames(p: ts.BindingName, prefix: Step[], out: Map<string, Step[]>): void {
  if (ts.isIdentifier(p)) {
    out.set(p.text, prefix);
    return;
  }
  if (ts.isObjectBindingPattern(p)) {
    for (const el of p.elements) {
      if (el.dotDotDotToken) continue;
      const prop = el.propertyName ?? el.name;
      const key = ts.isIdentifier(prop) || ts.isStringLiteral(prop) ? prop.text : undefined;
      if (key === undefined) continue;
      patternNames(el.name, [...prefix, { key }], out);
    }
    return;
  }
  p.elements.forEach((el, i) => {
    if (ts.isBindingElement(el) && !el.dotDotDotToken) patternNames(el.name, [...prefix, { key: i }], out);
  });
}

export function jsParams(fn: FnNode): Param[] {
  return fn.parameters
    .filter((p) => !(ts.isIdentifier(p.name) && p.name.text === 'this'))
    .map((p, i) => {
      const rest = Boolean(p.dotDotDotToken);
      if (ts.isIdentifier(p.name))
        return { name: p.name.text, hasDefault: Boolean(p.initializer || p.questionToken), ...(rest ? { rest } : {}) };
      const names = new Map<string, Step[]>();
      patternNames(p.name, [], names);
      return { name: `#${i}`, hasDefault: Boolean(p.initializer), pattern: { names } };
    });
}

// ---------------------------------------------------------------------------------------------------- chains

export interface JsChain {
  root: string;
  steps: Step[];
}

/** `a.b["c"][0]` as a chain from `a`; undefined for anything else (calls, computed keys, `this`). */
export function chainOf(e: ts.Expression): JsChain | undefined {
  const steps: Step[] = [];
  let cur: ts.Expression = e;
  for (;;) {
    if (ts.isParenthesizedExpression(cur) || ts.isNonNullExpression(cur) || ts.isAsExpression(cur)) {
      cur = cur.expression;
      continue;
    }
    if (ts.isPropertyAccessExpression(cur)) {
      steps.unshift({ key: cur.name.text });
      cur = cur.expression;
      continue;
    }
    if (ts.isElementAccessExpression(cur)) {
      const a = cur.argumentExpression;
      if (ts.isStringLiteralLike(a)) steps.unshift({ key: a.text });
      else if (ts.isNumericLiteral(a)) steps.unshift({ key: Number(a.text) });
      else return undefined;
      cur = cur.expression;
      continue;
    }
    break;
  }
  return ts.isIdentifier(cur) ? { root: cur.text, steps } : undefined;
}

function nodesOnLine(sf: ts.SourceFile, fn: ts.Node, line: number): ts.Node[] {
  const out: ts.Node[] = [];
  const visit = (n: ts.Node) => {
    const a = sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1;
    const b = sf.getLineAndCharacterOfPosition(n.getEnd()).line + 1;
    if (line < a || line > b) return;
    out.push(n);
    n.forEachChild(visit);
  };
  visit(fn);
  return out;
}

/** What V8's message says about a value on the faulting line. */
export function jsFaultRequirements(
  sf: ts.SourceFile,
  fn: FnNode,
  line: number,
  column: number | undefined,
  type: string,
  message: string,
): Requirement[] {
  const nodes = nodesOnLine(sf, fn, line);
  const pos = column !== undefined ? positionOf(sf, line, column) : undefined;
  const near = (n: ts.Node) => (pos === undefined ? 0 : Math.abs(n.getStart(sf) - pos));
  const leafFor = (what: string): Leaf => (what === 'null' ? { value: null } : { value: UNDEFINED });
  const out: { r: Requirement; d: number }[] = [];
  const push = (c: JsChain | undefined, leaf: Leaf, d: number) =>
    c && out.push({ r: { root: c.root, steps: c.steps, leaf }, d });

  const read =
    /Cannot (?:read|set) propert(?:ies|y) (?:of (undefined|null) \((?:reading|setting) '(.+)'\)|'(.+)' of (undefined|null))/.exec(
      message,
    );
  if (type === 'TypeError' && read) {
    const what = read[1] ?? read[4]!;
    const prop = read[2] ?? read[3]!;
    for (const n of nodes) {
      if (ts.isPropertyAccessExpression(n) && n.name.text === prop)
        push(chainOf(n.expression), leafFor(what), near(n.name));
      if (
        ts.isElementAccessExpression(n) &&
        ts.isStringLiteralLike(n.argumentExpression) &&
        n.argumentExpression.text === prop
      ) {
        push(chainOf(n.expression), leafFor(what), near(n.argumentExpression));
      }
      if (
        ts.isElementAccessExpression(n) &&
        /^\d+$/.test(prop) &&
        ts.isNumericLiteral(n.argumentExpression) &&
        n.argumentExpression.text === prop
      ) {
        push(chainOf(n.expression), leafFor(what), near(n));
      }
    }
  }
  const destr = /Cannot destructure (?:property '(.+)' of )?'(.+)' as it is (undefined|null)/.exec(message);
  if (type === 'TypeError' && destr) {
    for (const n of nodes) {
      if (ts.isVariableDeclaration(n) && !ts.isIdentifier(n.name) && n.initializer)
        push(chainOf(n.initializer), leafFor(destr[3]!), near(n));
    }
    if (out.length === 0) {
      // a destructured parameter called with nothing
      fn.parameters.forEach((p, i) => {
        if (!ts.isIdentifier(p.name)) out.push({ r: { root: `#${i}`, steps: [], leaf: leafFor(destr[3]!) }, d: 0 });
      });
    }
  }
  const notFn = /^(.+) is not a function/.exec(message);
  if (type === 'TypeError' && notFn) {
    for (const n of nodes) {
      if (!ts.isCallExpression(n)) continue;
      const callee = n.expression;
      if (
        callee.getText(sf).replace(/\s+/g, '') !== notFn[1]!.replace(/\s+/g, '') &&
        !notFn[1]!.endsWith(`.${calleeName(callee)}`)
      )
        continue;
      if (ts.isPropertyAccessExpression(callee)) push(chainOf(callee.expression), { value: {} }, near(n));
      else push(chainOf(callee), { value: UNDEFINED }, near(n));
    }
  }
  const notIter = /^(.+) is not iterable/.exec(message);
  if (type === 'TypeError' && notIter) {
    for (const n of nodes) {
      if (ts.isForOfStatement(n)) push(chainOf(n.expression), { value: UNDEFINED }, near(n.expression));
      if (ts.isSpreadElement(n)) push(chainOf(n.expression), { value: UNDEFINED }, near(n));
    }
  }
  if (type === 'TypeError' && /Cannot convert undefined or null to object/.test(message)) {
    for (const n of nodes) {
      if (
        ts.isCallExpression(n) &&
        /^Object\.(keys|values|entries|assign)$/.test(n.expression.getText(sf)) &&
        n.arguments[0]
      ) {
        push(chainOf(n.arguments[0]), { value: UNDEFINED }, near(n));
      }
    }
  }
  if (type === 'SyntaxError' && /JSON/.test(message)) {
    for (const n of nodes) {
      if (ts.isCallExpression(n) && n.expression.getText(sf) === 'JSON.parse' && n.arguments[0]) {
        push(chainOf(n.arguments[0]), { value: /end of JSON input/.test(message) ? '' : 'not json' }, near(n));
      }
    }
  }
  // nearest the column first, then the deepest access
  return out.sort((a, b) => a.d - b.d || b.r.steps.length - a.r.steps.length).map((x) => x.r);
}

function calleeName(e: ts.Expression): string {
  return ts.isPropertyAccessExpression(e) ? e.name.text : ts.isIdentifier(e) ? e.text : '';
}

const ELEMENT_CALLBACKS = /^(map|forEach|filter|find|findIndex|some|every|flatMap|reduce|reduceRight|sort)$/;

/**
 * Moves a requirement on a local to what it was computed from: `const x = chain`, `const { x } = chain`,
 * `for (const x of chain)`, `chain.map((x) => …)`; parameters are resolved by the caller (`onParams`).
 */
export function jsResolveLocal(sf: ts.SourceFile, fn: FnNode, pos: number, r: Requirement): Requirement | undefined {
  let found: Requirement | undefined;
  const consider = (name: ts.BindingName, init: ts.Expression | undefined, each: boolean, at: ts.Node) => {
    if (at.getStart(sf) > pos) return;
    const names = new Map<string, Step[]>();
    patternNames(name, [], names);
    const path = names.get(r.root);
    if (!path || !init) return;
    const c = chainOf(init);
    if (!c) return;
    found = {
      root: c.root,
      steps: [...c.steps, ...(each ? [{ each: true } as Step] : []), ...path, ...r.steps],
      leaf: r.leaf,
    };
  };
  const visit = (n: ts.Node) => {
    if (n !== fn && isFn(n)) {
      // an array callback whose parameter is the root
      const call = n.parent;
      if (
        ts.isCallExpression(call) &&
        ts.isPropertyAccessExpression(call.expression) &&
        ELEMENT_CALLBACKS.test(call.expression.name.text)
      ) {
        const idx = /^reduce/.test(call.expression.name.text) ? 1 : 0;
        const p = n.parameters[idx];
        if (p && n.getStart(sf) <= pos && pos < n.getEnd()) consider(p.name, call.expression.expression, true, n);
      }
    }
    if (ts.isVariableDeclaration(n)) consider(n.name, n.initializer, false, n);
    if (
      ts.isForOfStatement(n) &&
      ts.isVariableDeclarationList(n.initializer) &&
      n.getStart(sf) <= pos &&
      pos < n.getEnd()
    ) {
      const d = n.initializer.declarations[0];
      if (d) consider(d.name, n.expression, true, n);
    }
    n.forEachChild(visit);
  };
  visit(fn.body ?? fn);
  return found;
}

/** A requirement on a parameter (by name, or on a destructured one `#i`) as the parameter index and value path. */
export function onParam(params: Param[], r: Requirement): { index: number; steps: Step[] } | undefined {
  for (const [i, p] of params.entries()) {
    if (p.rest) continue;
    if (p.name === r.root) return { index: i, steps: r.steps };
    const path = p.pattern?.names.get(r.root);
    if (path) return { index: i, steps: [...path, ...r.steps] };
  }
  return undefined;
}

/** Carries a requirement on parameter `index` of the callee to the argument at its call on the caller's line. */
export function jsThroughCall(
  sf: ts.SourceFile,
  caller: FnNode,
  line: number,
  column: number | undefined,
  calleeNameText: string,
  index: number,
  steps: Step[],
  leaf: Leaf,
): Requirement | undefined {
  const pos = column !== undefined ? positionOf(sf, line, column) : undefined;
  const calls = nodesOnLine(sf, caller, line).filter(
    (n): n is ts.CallExpression =>
      (ts.isCallExpression(n) || ts.isNewExpression(n)) &&
      calleeName((n as ts.CallExpression).expression) === calleeNameText,
  );
  calls.sort((a, b) => (pos === undefined ? 0 : Math.abs(a.getStart(sf) - pos) - Math.abs(b.getStart(sf) - pos)));
  for (const call of calls) {
    const arg = call.arguments?.[index];
    if (!arg) {
      // not passed at all: the caller cannot make it anything but undefined
      continue;
    }
    const c = chainOf(arg);
    if (c) return { root: c.root, steps: [...c.steps, ...steps], leaf };
  }
  return undefined;
}

export type ExportRef = { binding: string };

/** How the module exports `fn`, if it does: a named export, `default`, or the whole CommonJS module ('*'). */
export function exportOf(sf: ts.SourceFile, fn: FnNode): ExportRef | undefined {
  const name = fnName(fn);
  const mods = ts.canHaveModifiers(fn) ? (ts.getModifiers(fn) ?? []) : [];
  const exported = mods.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  const isDefault = mods.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
  if (ts.isFunctionDeclaration(fn) && exported) return { binding: isDefault ? 'default' : (name ?? 'default') };
  // `export const f = () => …`
  const decl = fn.parent;
  if (ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name)) {
    const stmt = decl.parent?.parent;
    if (
      stmt &&
      ts.isVariableStatement(stmt) &&
      (ts.getModifiers(stmt) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
    ) {
      return { binding: decl.name.text };
    }
  }
  // `module.exports = { f() {} }` / `exports.f = function () {}`
  const prop = fn.parent;
  if ((ts.isPropertyAssignment(prop) || ts.isMethodDeclaration(fn)) && name) {
    const obj = ts.isMethodDeclaration(fn) ? fn.parent : prop.parent;
    const assign = obj?.parent;
    if (
      obj &&
      ts.isObjectLiteralExpression(obj) &&
      assign &&
      ts.isBinaryExpression(assign) &&
      /^(module\.)?exports$/.test(assign.left.getText(sf))
    ) {
      return { binding: name };
    }
  }
  if (ts.isBinaryExpression(prop) && /^(module\.)?exports\.\w+$/.test(prop.left.getText(sf))) {
    return { binding: (prop.left as ts.PropertyAccessExpression).name.text };
  }
  if (ts.isBinaryExpression(prop) && prop.left.getText(sf) === 'module.exports') return { binding: '*' };
  if (!name) return undefined;
  // exported by name elsewhere in the module
  for (const st of sf.statements) {
    if (ts.isExportDeclaration(st) && st.exportClause && ts.isNamedExports(st.exportClause) && !st.moduleSpecifier) {
      for (const el of st.exportClause.elements) {
        if ((el.propertyName ?? el.name).text === name) return { binding: el.name.text };
      }
    }
    if (ts.isExportAssignment(st) && ts.isIdentifier(st.expression) && st.expression.text === name)
      return { binding: 'default' };
    if (
      ts.isExpressionStatement(st) &&
      ts.isBinaryExpression(st.expression) &&
      st.expression.operatorToken.kind === ts.SyntaxKind.EqualsToken
    ) {
      const left = st.expression.left.getText(sf);
      const right = st.expression.right;
      if (left === 'module.exports' && ts.isIdentifier(right) && right.text === name) return { binding: '*' };
      if (/^(module\.)?exports\.\w+$/.test(left) && ts.isIdentifier(right) && right.text === name) {
        return { binding: (st.expression.left as ts.PropertyAccessExpression).name.text };
      }
      if (left === 'module.exports' && ts.isObjectLiteralExpression(right)) {
        for (const p of right.properties) {
          if (ts.isShorthandPropertyAssignment(p) && p.name.text === name) return { binding: name };
          if (
            ts.isPropertyAssignment(p) &&
            ts.isIdentifier(p.initializer) &&
            p.initializer.text === name &&
            (ts.isIdentifier(p.name) || ts.isStringLiteral(p.name))
          ) {
            return { binding: p.name.text };
          }
        }
      }
    }
  }
  return undefined;
}

export function isAsyncFn(fn: FnNode): boolean {
  return (ts.getModifiers(fn) ?? []).some((m) => m.kind === ts.SyntaxKind.AsyncKeyword);
}

/** Value paths the function reads from parameter `index` (through destructuring and array callbacks too). */
export function jsUses(fn: FnNode, params: Param[], index: number): Use[] {
  const p = params[index];
  if (!p || p.rest) return [];
  const roots = new Map<string, Step[]>(p.pattern ? p.pattern.names : [[p.name, []]]);
  const out: Use[] = [];
  const visit = (n: ts.Node) => {
    if (
      ts.isCallExpression(n) &&
      ts.isPropertyAccessExpression(n.expression) &&
      ELEMENT_CALLBACKS.test(n.expression.name.text)
    ) {
      const recv = chainOf(n.expression.expression);
      const base = recv && roots.get(recv.root);
      const cb = n.arguments[0];
      if (base && cb && (ts.isArrowFunction(cb) || ts.isFunctionExpression(cb))) {
        const param = cb.parameters[/^reduce/.test(n.expression.name.text) ? 1 : 0];
        if (param) {
          const names = new Map<string, Step[]>();
          patternNames(param.name, [], names);
          for (const [name, path] of names) roots.set(name, [...base, ...recv.steps, { each: true }, ...path]);
        }
      }
    }
    if (
      (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) &&
      !(ts.isPropertyAccessExpression(n.parent) && n.parent.expression === n) &&
      !(ts.isElementAccessExpression(n.parent) && n.parent.expression === n)
    ) {
      const c = chainOf(n);
      const base = c && roots.get(c.root);
      if (c && base) {
        const isCall = ts.isCallExpression(n.parent) && n.parent.expression === n;
        const last = c.steps.at(-1);
        const method =
          isCall || (last && 'key' in last && last.key === 'length') ? (last as { key: string }).key : undefined;
        const steps = method !== undefined ? c.steps.slice(0, -1) : c.steps;
        if (steps.length || base.length)
          out.push({ steps: [...base, ...steps], leaf: method === 'length' ? [] : leafForMethod(method, 'node') });
      }
    }
    n.forEachChild(visit);
  };
  if (fn.body) visit(fn.body);
  return out;
}
