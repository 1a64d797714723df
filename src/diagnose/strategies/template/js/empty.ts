/**
 * JavaScript/TypeScript: `Reduce of empty array with no initial value`. Variants: the neutral value of
 * what the reducer computes when the list is empty (fault site), a guard in the function, 400 in the
 * handler when the list comes from the request.
 */
import type { Proposal } from '../../types.ts';
import type { Fault } from '../fault.ts';
import { isPure, type JsFile, nodeText, quoteStyle, startOf, ts, unwrap } from './ast.ts';
import { chainAbove, follow, nearFault, operand, proposal, where } from './common.ts';
import { defaultFor, kindOf, returnedExpressions } from './infer.ts';
import { boundaryVariant, guardVariants, type JsTemplateContext } from './variants.ts';

export function emptyJs(ctx: JsTemplateContext, fault: Extract<Fault, { kind: 'index' }>): Proposal[] {
  if (fault.what !== 'reduce') return [];
  const fr = ctx.frames[0]!;
  const f = fr.file;
  const calls = nearFault(
    fr,
    (n): n is ts.CallExpression =>
      ts.isCallExpression(n) &&
      n.arguments.length === 1 &&
      ts.isPropertyAccessExpression(unwrap(n.expression)) &&
      ['reduce', 'reduceRight'].includes((unwrap(n.expression) as ts.PropertyAccessExpression).name.text),
  );
  const out: Proposal[] = [];
  for (const call of calls.slice(0, 1)) {
    const list = (unwrap(call.expression) as ts.PropertyAccessExpression).expression;
    const reducer = unwrap(call.arguments[0]!);
    const returned =
      ts.isArrowFunction(reducer) || ts.isFunctionExpression(reducer) ? returnedExpressions(reducer)[0] : undefined;
    // The reducer's identity as the initial value: the same result for every non-empty list.
    const identity = returned && identityOf(f, reducer as ts.FunctionLikeDeclaration, returned);
    if (identity) {
      const at = call.arguments[0]!.end;
      const p = proposal(
        f,
        [{ start: at, end: at, text: `, ${identity}` }],
        'template:empty-list:initial-value',
        `start the reduction at ${identity}, the reducer's identity, so an empty \`${nodeText(f, list)}\` reduces to it (${where(f, call)})`,
        0.75,
      );
      if (p) out.push(p);
    }
    if (!isPure(list)) continue;
    const chain = chainAbove(call);
    const followed = follow(f, chain, ctx.frames);
    const dflt =
      followed.chainDefault ?? defaultFor(returned ? kindOf(f, returned) : undefined, quoteStyle(f)) ?? 'undefined';
    const text = operand(f, list);
    const p = proposal(
      f,
      [
        { start: startOf(f, call), end: startOf(f, call), text: `(${text}.length === 0 ? ${dflt} : ` },
        { start: call.end, end: call.end, text: ')' },
      ],
      'template:empty-list:default',
      `use ${dflt} when \`${nodeText(f, list)}\` is empty instead of reducing it (${where(f, call)})`,
      0.7,
    );
    if (p) out.push(p);
    out.push(
      ...guardVariants({
        file: f,
        at: call,
        value: list,
        cond: (v) => `${v}.length === 0`,
        what: `\`${nodeText(f, list)}\` is empty`,
        strategy: 'template:empty-list',
        confidence: 0.7,
      }),
    );
    const b = boundaryVariant(ctx, {
      file: f,
      at: call,
      value: list,
      bad: 'empty',
      strategy: 'template:empty-list',
      confidence: 0.65,
    });
    if (b) out.push(b);
  }
  return out;
}

/** The identity element of a reducer `(acc, x) => acc + x` / `Math.max(acc, x)` / `acc * x`, when it is one. */
function identityOf(f: JsFile, fn: ts.FunctionLikeDeclaration, body: ts.Expression): string | undefined {
  const acc = fn.parameters[0];
  if (!acc || !ts.isIdentifier(acc.name)) return undefined;
  const name = acc.name.text;
  const e = unwrap(body);
  const isAcc = (x: ts.Expression) => ts.isIdentifier(unwrap(x)) && (unwrap(x) as ts.Identifier).text === name;
  if (ts.isCallExpression(e) && e.arguments.some(isAcc)) {
    const callee = nodeText(f, e.expression);
    if (callee === 'Math.max') return '-Infinity';
    if (callee === 'Math.min') return 'Infinity';
  }
  if (ts.isBinaryExpression(e) && (isAcc(e.left) || isAcc(e.right))) {
    const other = isAcc(e.left) ? e.right : e.left;
    if (e.operatorToken.kind === ts.SyntaxKind.AsteriskToken) return '1';
    if (e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
      const k = kindOf(f, other);
      if (k === 'string') return quoteStyle(f).repeat(2);
      if (k === 'number' || ts.isPropertyAccessExpression(unwrap(other)) || ts.isIdentifier(unwrap(other))) return '0';
    }
  }
  return undefined;
}
