/**
 * What a value is, read from how the code builds and uses it: the neutral default a template may
 * substitute ('' for something upper-cased next, [] for something mapped, 0 for something added), the
 * value a function's callers expect back, and whether the code already falls back when it is missing.
 */
import { descendants, isFunctionLike, type JsFile, ts, unwrap, walk } from './ast.ts';

export type Kind = 'number' | 'string' | 'array' | 'object' | 'boolean' | 'function';

const STRING_METHODS = new Set([
  'toUpperCase',
  'toLowerCase',
  'toLocaleUpperCase',
  'toLocaleLowerCase',
  'trim',
  'trimStart',
  'trimEnd',
  'split',
  'startsWith',
  'endsWith',
  'padStart',
  'padEnd',
  'charAt',
  'charCodeAt',
  'codePointAt',
  'normalize',
  'localeCompare',
  'replace',
  'replaceAll',
  'match',
  'matchAll',
  'search',
  'substring',
  'substr',
  'repeat',
]);
export const ARRAY_METHODS = new Set([
  'map',
  'filter',
  'forEach',
  'reduce',
  'reduceRight',
  'some',
  'every',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'flatMap',
  'flat',
  'push',
  'pop',
  'shift',
  'unshift',
  'sort',
  'reverse',
  'join',
  'splice',
  'fill',
]);

const NUMBER_METHODS = new Set(['toFixed', 'toPrecision', 'toExponential']);

export function isStringMethod(name: string): boolean {
  return STRING_METHODS.has(name);
}

export function defaultFor(kind: Kind | undefined, quote: "'" | '"'): string | undefined {
  switch (kind) {
    case 'number':
      return '0';
    case 'string':
      return `${quote}${quote}`;
    case 'array':
      return '[]';
    case 'object':
      return '{}';
    case 'boolean':
      return 'false';
    default:
      return undefined;
  }
}

/** The kind an expression evaluates to, when its shape says (one hop through a `const` in the file). */
export function kindOf(f: JsFile, expr: ts.Expression, depth = 0): Kind | undefined {
  const e = unwrap(expr);
  if (ts.isNumericLiteral(e) || ts.isBigIntLiteral(e)) return 'number';
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isTemplateExpression(e)) return 'string';
  if (ts.isArrayLiteralExpression(e)) return 'array';
  if (ts.isObjectLiteralExpression(e)) return 'object';
  if (e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword) return 'boolean';
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return 'function';
  if (ts.isPrefixUnaryExpression(e)) return e.operator === ts.SyntaxKind.ExclamationToken ? 'boolean' : 'number';
  if (ts.isConditionalExpression(e)) return kindOf(f, e.whenTrue, depth) ?? kindOf(f, e.whenFalse, depth);
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    if (op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.BarBarToken)
      return kindOf(f, e.right, depth) ?? kindOf(f, e.left, depth);
    if (op === ts.SyntaxKind.PlusToken) {
      const [l, r] = [kindOf(f, e.left, depth), kindOf(f, e.right, depth)];
      return l === 'string' || r === 'string' ? 'string' : 'number';
    }
    if (
      [
        ts.SyntaxKind.MinusToken,
        ts.SyntaxKind.AsteriskToken,
        ts.SyntaxKind.SlashToken,
        ts.SyntaxKind.PercentToken,
        ts.SyntaxKind.AsteriskAsteriskToken,
      ].includes(op)
    )
      return 'number';
    if (
      [
        ts.SyntaxKind.LessThanToken,
        ts.SyntaxKind.GreaterThanToken,
        ts.SyntaxKind.LessThanEqualsToken,
        ts.SyntaxKind.GreaterThanEqualsToken,
        ts.SyntaxKind.EqualsEqualsEqualsToken,
        ts.SyntaxKind.ExclamationEqualsEqualsToken,
        ts.SyntaxKind.EqualsEqualsToken,
        ts.SyntaxKind.ExclamationEqualsToken,
      ].includes(op)
    )
      return 'boolean';
    return undefined;
  }
  if (ts.isPropertyAccessExpression(e) && e.name.text === 'length') return 'number';
  if (ts.isCallExpression(e)) {
    const callee = unwrap(e.expression);
    if (ts.isIdentifier(callee)) {
      if (['Number', 'parseInt', 'parseFloat'].includes(callee.text)) return 'number';
      if (callee.text === 'String') return 'string';
      if (callee.text === 'Boolean') return 'boolean';
    }
    if (ts.isPropertyAccessExpression(callee)) {
      const m = callee.name.text;
      const obj = unwrap(callee.expression);
      if (ts.isIdentifier(obj) && obj.text === 'Math') return 'number';
      if (ts.isIdentifier(obj) && obj.text === 'JSON' && m === 'stringify') return 'string';
      if (ts.isIdentifier(obj) && obj.text === 'Object' && ['keys', 'values', 'entries'].includes(m)) return 'array';
      if (STRING_METHODS.has(m) && m !== 'split' && m !== 'match' && m !== 'matchAll') return 'string';
      if (['toFixed', 'toString', 'join', 'toISOString', 'toLocaleString'].includes(m)) return 'string';
      if (['map', 'filter', 'slice', 'concat', 'flatMap', 'flat', 'split', 'sort'].includes(m)) return 'array';
      if (['some', 'every', 'includes', 'startsWith', 'endsWith', 'has'].includes(m)) return 'boolean';
      if (['indexOf', 'findIndex', 'getTime', 'valueOf'].includes(m)) return 'number';
    }
    return undefined;
  }
  if (ts.isIdentifier(e) && depth < 1) {
    const decl = constDeclaration(f, e.text);
    if (decl?.initializer) return kindOf(f, decl.initializer, depth + 1);
  }
  return undefined;
}

/** A module-level or function-level `const name = …` in the file (the first one). */
function constDeclaration(f: JsFile, name: string): ts.VariableDeclaration | undefined {
  let found: ts.VariableDeclaration | undefined;
  walk(f.sf, (n) => {
    if (found) return false;
    if (
      ts.isVariableDeclaration(n) &&
      ts.isIdentifier(n.name) &&
      n.name.text === name &&
      ts.isVariableDeclarationList(n.parent) &&
      n.parent.flags & ts.NodeFlags.Const
    )
      found = n;
    return undefined;
  });
  return found;
}

export interface Uses {
  /** Kinds implied by uses that throw on a missing value (v.trim(), v.map(), [...v], v.x). */
  crashy: (Kind | 'unknown')[];
  /** Kinds implied by uses that do not throw but print or compute garbage (`${v}` → "undefined", v * 2 → NaN). */
  soft: Kind[];
  /** The code tests for the missing value or falls back (v ?? x, v || x, v == null, if (v), v?.x). */
  handled: boolean;
}

/** How the identifier `name` is used in `scope` after offset `after` (until it is assigned again). */
export function usesOf(scope: ts.Node, name: string, after: number, f?: JsFile): Uses {
  const out: Uses = { crashy: [], soft: [], handled: false };
  const refs = descendants(
    scope,
    (n) =>
      ts.isIdentifier(n) &&
      n.text === name &&
      n.pos >= after &&
      !(n.parent && ts.isPropertyAccessExpression(n.parent) && n.parent.name === n) &&
      !(n.parent && ts.isPropertyAssignment(n.parent) && n.parent.name === n),
  ) as ts.Identifier[];
  for (const ref of refs) {
    let x: ts.Node = ref;
    while (x.parent && (ts.isParenthesizedExpression(x.parent) || ts.isNonNullExpression(x.parent))) x = x.parent;
    const p = x.parent;
    if (!p) continue;
    if (ts.isBinaryExpression(p) && p.left === x && p.operatorToken.kind === ts.SyntaxKind.EqualsToken) break;
    if (handles(x)) {
      out.handled = true;
      continue;
    }
    const kind = crashyUse(x);
    if (kind) out.crashy.push(kind);
    else {
      const soft = softUse(x, f);
      if (soft) out.soft.push(soft);
    }
  }
  return out;
}

/** A use that does not throw on undefined but turns it into text or NaN. */
function softUse(x: ts.Node, f: JsFile | undefined): Kind | undefined {
  const p = x.parent!;
  if (ts.isTemplateSpan(p) && p.expression === x) return 'string';
  if (ts.isBinaryExpression(p)) {
    const op = p.operatorToken.kind;
    if (
      [
        ts.SyntaxKind.MinusToken,
        ts.SyntaxKind.AsteriskToken,
        ts.SyntaxKind.SlashToken,
        ts.SyntaxKind.PercentToken,
      ].includes(op)
    )
      return 'number';
    if (op === ts.SyntaxKind.PlusToken) {
      const other = unwrap(p.left === x ? p.right : p.left);
      const k = f ? kindOf(f, other) : undefined;
      if (k === 'string' || ts.isStringLiteral(other) || ts.isTemplateExpression(other)) return 'string';
      if (ts.isNumericLiteral(other)) return 'number';
    }
  }
  return undefined;
}

/** The use tests for or falls back on a missing value. */
function handles(x: ts.Node): boolean {
  const p = x.parent;
  if (!p) return false;
  if (ts.isBinaryExpression(p)) {
    const op = p.operatorToken.kind;
    if (p.left === x && (op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.BarBarToken)) return true;
    if (
      [
        ts.SyntaxKind.EqualsEqualsToken,
        ts.SyntaxKind.ExclamationEqualsToken,
        ts.SyntaxKind.EqualsEqualsEqualsToken,
        ts.SyntaxKind.ExclamationEqualsEqualsToken,
      ].includes(op)
    ) {
      const other = unwrap(p.left === x ? p.right : p.left);
      return other.kind === ts.SyntaxKind.NullKeyword || (ts.isIdentifier(other) && other.text === 'undefined');
    }
    if (op === ts.SyntaxKind.AmpersandAmpersandToken && p.left === x) return true;
  }
  if (ts.isPrefixUnaryExpression(p) && p.operator === ts.SyntaxKind.ExclamationToken) return true;
  if (ts.isTypeOfExpression(p)) return true;
  if (
    (ts.isIfStatement(p) || ts.isWhileStatement(p) || ts.isConditionalExpression(p)) &&
    (p as { expression?: ts.Node; condition?: ts.Node }).expression === x
  )
    return true;
  if (ts.isConditionalExpression(p) && p.condition === x) return true;
  if (
    (ts.isPropertyAccessExpression(p) || ts.isElementAccessExpression(p) || ts.isCallExpression(p)) &&
    p.questionDotToken
  )
    return true;
  return false;
}

/** The kind a use needs when it throws on undefined; undefined when it does not throw. */
function crashyUse(x: ts.Node): Kind | 'unknown' | undefined {
  const p = x.parent!;
  if (ts.isPropertyAccessExpression(p) && p.expression === x) {
    const m = p.name.text;
    if (STRING_METHODS.has(m)) return 'string';
    if (ARRAY_METHODS.has(m)) return 'array';
    if (NUMBER_METHODS.has(m)) return 'number';
    if (m === 'length') return 'array';
    return 'object';
  }
  if (ts.isElementAccessExpression(p) && p.expression === x) {
    const a = unwrap(p.argumentExpression);
    return ts.isNumericLiteral(a) ? 'array' : 'object';
  }
  if (ts.isCallExpression(p) && p.expression === x) return 'function';
  if (ts.isSpreadElement(p)) return 'array';
  if (ts.isForOfStatement(p) && p.expression === x) return 'array';
  if (ts.isVariableDeclaration(p) && p.initializer === x) {
    if (ts.isObjectBindingPattern(p.name)) return 'object';
    if (ts.isArrayBindingPattern(p.name)) return 'array';
  }
  if (ts.isBinaryExpression(p) && p.right === x && p.operatorToken.kind === ts.SyntaxKind.InKeyword) return 'object';
  if (ts.isCallExpression(p) && p.arguments.includes(x as ts.Expression)) {
    const callee = unwrap(p.expression);
    if (
      ts.isPropertyAccessExpression(callee) &&
      ts.isIdentifier(callee.expression) &&
      callee.expression.text === 'Object' &&
      ['keys', 'values', 'entries', 'assign', 'getOwnPropertyNames'].includes(callee.name.text)
    )
      return 'object';
  }
  return undefined;
}

/** The one kind all crashy uses agree on ('unknown' when they need a function or disagree). */
export function agreedKind(kinds: (Kind | 'unknown')[]): Kind | 'unknown' | undefined {
  if (kinds.length === 0) return undefined;
  const set = new Set(kinds.filter((k) => k !== 'object'));
  if (kinds.includes('unknown') || kinds.includes('function')) return 'unknown';
  if (set.size === 0) return 'object';
  if (set.size > 1) return 'unknown';
  return [...set][0]!;
}

/**
 * Whether the value of `x` already falls back when missing: it is (a lookup keyed by it is) the left side
 * of `??` / `||`, or compared with null. Such code expects the value to be absent at times.
 */
export function flowsToFallback(x: ts.Node): boolean {
  let cur: ts.Node = x;
  for (let i = 0; i < 6 && cur.parent; i++) {
    const p = cur.parent;
    if (handles(cur)) return true;
    if (ts.isParenthesizedExpression(p) || ts.isNonNullExpression(p)) {
      cur = p;
      continue;
    }
    if (ts.isElementAccessExpression(p) && p.argumentExpression === cur) {
      cur = p;
      continue;
    }
    return false;
  }
  return false;
}

/** The statements `return` in `fn` returns (its own, not nested functions'); an arrow's expression body. */
export function returnedExpressions(fn: ts.FunctionLikeDeclaration): (ts.Expression | undefined)[] {
  if (fn.body && !ts.isBlock(fn.body)) return [fn.body];
  const out: (ts.Expression | undefined)[] = [];
  if (!fn.body) return out;
  walk(fn.body, (n) => {
    if (n !== fn.body && isFunctionLike(n)) return false;
    if (ts.isReturnStatement(n)) out.push(n.expression);
    return undefined;
  });
  return out;
}

/**
 * What a guard returns early: the code's own fallback (`return rates[c] ?? DEFAULT` → DEFAULT), else a
 * neutral value of the kind the function returns, else nothing (`return;`).
 */
export function returnDefault(f: JsFile, fn: ts.FunctionLikeDeclaration, quote: "'" | '"'): string | undefined {
  const returned = returnedExpressions(fn).filter((e): e is ts.Expression => e !== undefined);
  if (returned.length === 0) return '';
  for (const r of returned) {
    const e = unwrap(r);
    if (
      ts.isBinaryExpression(e) &&
      (e.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken ||
        e.operatorToken.kind === ts.SyntaxKind.BarBarToken)
    ) {
      const fb = unwrap(e.right);
      if (ts.isIdentifier(fb) || ts.isLiteralExpression(fb) || ts.isPropertyAccessExpression(fb)) {
        if (ts.isIdentifier(fb) && !constDeclaration(f, fb.text)) continue;
        return f.source.slice(fb.getStart(f.sf), fb.end);
      }
    }
  }
  const kinds = new Set(returned.map((r) => kindOf(f, r)));
  if (kinds.size === 1) {
    const d = defaultFor([...kinds][0], quote);
    if (d !== undefined) return d;
  }
  return 'undefined';
}
