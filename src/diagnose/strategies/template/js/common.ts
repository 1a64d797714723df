/** Shared by the JavaScript crash-class modules: finding the crash site and following the value after it. */
import type { Proposal } from '../../types.ts';
import { proposalFor, type TextEdit } from '../edits.ts';
import {
  enclosingFunction,
  isFunctionLike,
  type JsFile,
  lineOf,
  nodeText,
  quoteStyle,
  startOf,
  statementOf,
  ts,
  unwrap,
  walk,
} from './ast.ts';
import { agreedKind, defaultFor, flowsToFallback, type Kind, kindOf, usesOf } from './infer.ts';
import { callerCall, type JsFrame } from './lift.ts';

/** Nodes of the crash statement(s) at the innermost frame that satisfy `pred`, nearest to the position first. */
export function nearFault<T extends ts.Node>(
  fr: JsFrame,
  pred: (n: ts.Node) => n is T,
  anchor?: (n: T) => number,
): T[] {
  const f = fr.file;
  const line = lineOf(f, fr.pos);
  const found: T[] = [];
  walk(f.sf, (n) => {
    if (pred(n)) {
      const [l0, l1] = [lineOf(f, startOf(f, n)), lineOf(f, n.end)];
      if (l0 <= line && line <= l1) found.push(n);
    }
    return undefined;
  });
  // Prefer nodes on the frame's own line, then nearest to its column.
  const key = (n: T) => {
    const a = anchor ? anchor(n) : startOf(f, n);
    const sameLine = lineOf(f, a) === line ? 0 : 1_000_000;
    return sameLine + (fr.frame.column ? Math.abs(a - fr.pos) : 0);
  };
  return found.sort((a, b) => key(a) - key(b));
}

/** The chain a crash site belongs to: `a.b.c(d).e` around `a.b` — what a short-circuit skips. */
export function chainAbove(n: ts.Expression): ts.Expression {
  let cur: ts.Expression = n;
  for (;;) {
    const p = cur.parent;
    if (!p) return cur;
    if (
      (ts.isPropertyAccessExpression(p) && p.expression === cur) ||
      (ts.isElementAccessExpression(p) && p.expression === cur) ||
      (ts.isCallExpression(p) && p.expression === cur) ||
      ts.isNonNullExpression(p)
    ) {
      cur = p as ts.Expression;
      continue;
    }
    return cur;
  }
}

export interface Followed {
  /** Edits beyond the fault-site edit that make the value safe for what follows. */
  edits: TextEdit[];
  /** A default the chain itself needs (`?? []`), when its context needs one. */
  chainDefault?: string;
  /** The code already falls back when the value is missing. */
  fallback: boolean;
  /** A later use needs a value no neutral default can stand in for (a function, disagreeing kinds). */
  blocked: boolean;
}

const ROOT_KINDS: Record<string, Kind> = { keys: 'object', values: 'object', entries: 'object', assign: 'object' };
const ARITHMETIC = new Set([
  ts.SyntaxKind.PlusToken,
  ts.SyntaxKind.MinusToken,
  ts.SyntaxKind.AsteriskToken,
  ts.SyntaxKind.SlashToken,
  ts.SyntaxKind.PercentToken,
  ts.SyntaxKind.AsteriskAsteriskToken,
]);

/**
 * Follows the value of `chain` (now possibly undefined) through its context: a variable it initialises
 * and that variable's later uses, names bound by destructuring it, a loop or spread over it.
 */
export function follow(f: JsFile, chain: ts.Expression, frames?: JsFrame[]): Followed {
  const out: Followed = { edits: [], fallback: flowsToFallback(chain), blocked: false };
  const quote = quoteStyle(f);
  let ctx: ts.Node = chain;
  while (ctx.parent && ts.isParenthesizedExpression(ctx.parent)) ctx = ctx.parent;
  const p = ctx.parent;
  const scope = enclosingFunction(chain) ?? f.sf;
  if (!p) return out;
  if (ts.isVariableDeclaration(p) && p.initializer === ctx) {
    if (ts.isIdentifier(p.name)) {
      const uses = usesOf(scope, p.name.text, p.end, f);
      out.fallback ||= uses.handled || usesFallBack(scope, p.name.text, p.end);
      if (uses.handled) return out;
      const kind = agreedKind(uses.crashy) ?? agreedKind(uses.soft);
      if (kind === 'unknown' && uses.crashy.length) out.blocked = true;
      else if (kind && kind !== 'unknown') out.chainDefault = defaultFor(kind, quote);
      return out;
    }
    const pattern = p.name;
    out.chainDefault = ts.isObjectBindingPattern(pattern) ? '{}' : '[]';
    // The missing object was expected only if every name taken from it tolerates being absent.
    let tolerant = 0;
    let names = 0;
    for (const el of pattern.elements) {
      if (ts.isOmittedExpression(el) || el.dotDotDotToken || !ts.isIdentifier(el.name)) continue;
      names++;
      const uses = usesOf(scope, el.name.text, p.end, f);
      if (el.initializer || uses.handled || usesFallBack(scope, el.name.text, p.end)) tolerant++;
      if (el.initializer || uses.handled) continue;
      const kind = agreedKind(uses.crashy) ?? agreedKind(uses.soft);
      if (kind === 'unknown' && uses.crashy.length) out.blocked = true;
      else if (kind && kind !== 'unknown')
        out.edits.push({ start: el.name.end, end: el.name.end, text: ` = ${defaultFor(kind, quote)}` });
    }
    out.fallback ||= names > 0 && tolerant === names;
    return out;
  }
  const returned = ts.isReturnStatement(p) || (ts.isArrowFunction(p) && p.body === ctx);
  if (returned && frames) {
    // Returned: what the caller does with it decides the default (one call up).
    const up = callerCall(frames, enclosingFunction(chain));
    if (up) {
      const g = follow(up.file, up.call);
      return { ...out, chainDefault: g.chainDefault, blocked: g.blocked, fallback: out.fallback || g.fallback };
    }
  }
  if (ts.isBinaryExpression(p) && ARITHMETIC.has(p.operatorToken.kind)) {
    // undefined in arithmetic is NaN, which answers null: the neutral number is 0.
    const other = p.left === ctx ? p.right : p.left;
    if (p.operatorToken.kind !== ts.SyntaxKind.PlusToken || kindOf(f, other) === 'number') out.chainDefault = '0';
    else if (kindOf(f, other) === 'string') out.chainDefault = quote + quote;
  } else if (ts.isForOfStatement(p) && p.expression === ctx) out.chainDefault = '[]';
  else if (ts.isSpreadElement(p) && !ts.isObjectLiteralExpression(p.parent)) out.chainDefault = '[]';
  else if (ts.isCallExpression(p) && p.arguments[0] === ctx) {
    const callee = unwrap(p.expression);
    if (
      ts.isPropertyAccessExpression(callee) &&
      ts.isIdentifier(callee.expression) &&
      callee.expression.text === 'Object' &&
      ROOT_KINDS[callee.name.text]
    )
      out.chainDefault = '{}';
  }
  return out;
}

/** Some later use of the name is the left side of a fallback (`rates[country] ?? DEFAULT`). */
function usesFallBack(scope: ts.Node, name: string, after: number): boolean {
  let found = false;
  walk(scope, (n) => {
    if (found) return false;
    if (ts.isIdentifier(n) && n.text === name && n.pos >= after && flowsToFallback(n)) found = true;
    return undefined;
  });
  return found;
}

/** Wraps an expression's text for use as the operand of `??` or a conditional. */
export function operand(f: JsFile, e: ts.Expression): string {
  const text = nodeText(f, e);
  const x = e;
  const simple =
    ts.isIdentifier(x) ||
    ts.isPropertyAccessExpression(x) ||
    ts.isElementAccessExpression(x) ||
    ts.isCallExpression(x) ||
    ts.isParenthesizedExpression(x) ||
    ts.isLiteralExpression(x);
  return simple ? text : `(${text})`;
}

/** The cast a TypeScript file needs for `?? {}` under a destructuring (`{}` has none of the names). */
export function emptyFor(f: JsFile, chain: ts.Expression, empty: string): string {
  if (!/\.(c|m)?tsx?$/i.test(f.path) || empty !== '{}') return empty;
  const text = nodeText(f, chain).replace(/\?\./g, '.').replace(/!/g, '');
  if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(text)) return '({} as any)';
  return `({} as NonNullable<typeof ${text}>)`;
}

export function proposal(
  f: JsFile,
  edits: TextEdit[],
  strategy: string,
  summary: string,
  confidence: number,
): Proposal | undefined {
  return proposalFor(f, edits, strategy, summary, confidence);
}

export function where(f: JsFile, n: ts.Node): string {
  return `${f.path}:${lineOf(f, startOf(f, n))}`;
}

export { isFunctionLike, statementOf };
