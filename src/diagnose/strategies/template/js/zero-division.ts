/**
 * JavaScript/TypeScript division by zero, which only BigInt division raises (`RangeError: Division by
 * zero`): 0n at the fault site, a guard in the function, 400 in the handler when the divisor is a field.
 */
import type { Proposal } from '../../types.ts';
import { descendants, enclosingFunction, isPure, type JsFile, nodeText, startOf, ts } from './ast.ts';
import { nearFault, operand, proposal, where } from './common.ts';
import { boundaryVariant, guardVariants, type JsTemplateContext } from './variants.ts';

const DIVIDING = new Set([ts.SyntaxKind.SlashToken, ts.SyntaxKind.PercentToken]);

/**
 * Divisions by the same divisor (same text) after `div` in its function, up to the first assignment to
 * the divisor's variable; none nested in another (their edits would overlap).
 */
function laterDivisions(f: JsFile, div: ts.BinaryExpression): ts.BinaryExpression[] {
  const fn = enclosingFunction(div);
  const divisor = nodeText(f, div.right);
  const root = /^[\w$]+/.exec(divisor)?.[0];
  if (!fn || !root) return [];
  const assigned = descendants(
    fn,
    (n) =>
      n.pos >= div.end &&
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      n.operatorToken.kind <= ts.SyntaxKind.LastAssignment &&
      new RegExp(`^${root.replace(/\$/g, '\\$')}\\b`).test(nodeText(f, n.left)),
  )[0];
  const out: ts.BinaryExpression[] = [];
  for (const n of descendants(fn, (x) => x.pos >= div.end && ts.isBinaryExpression(x))) {
    const b = n as ts.BinaryExpression;
    if (!DIVIDING.has(b.operatorToken.kind) || nodeText(f, b.right) !== divisor) continue;
    if (assigned && b.pos >= assigned.pos) break;
    if (out.some((o) => o.pos <= b.pos && b.end <= o.end)) continue;
    out.push(b);
  }
  return out;
}

export function zeroDivisionJs(ctx: JsTemplateContext): Proposal[] {
  const fr = ctx.frames[0]!;
  const f = fr.file;
  const divisions = nearFault(
    fr,
    (n): n is ts.BinaryExpression =>
      ts.isBinaryExpression(n) &&
      (n.operatorToken.kind === ts.SyntaxKind.SlashToken || n.operatorToken.kind === ts.SyntaxKind.PercentToken),
  );
  const out: Proposal[] = [];
  for (const div of divisions.slice(0, 1)) {
    const d = div.right;
    if (!isPure(d)) continue;
    const text = operand(f, d);
    // `total / n` then `total % n`: every later division by the same divisor fails for the same input.
    const p = proposal(
      f,
      [div, ...laterDivisions(f, div)].flatMap((x) => [
        { start: startOf(f, x), end: startOf(f, x), text: `(${text} == 0 ? 0n : ` },
        { start: x.end, end: x.end, text: ')' },
      ]),
      'template:zero-division:default',
      `divide by \`${nodeText(f, d)}\` only when it is not zero, else 0n (${where(f, div)})`,
      0.7,
    );
    if (p) out.push(p);
    out.push(
      ...guardVariants({
        file: f,
        at: div,
        value: d,
        cond: (v) => `${v} == 0`,
        what: `\`${nodeText(f, d)}\` is zero`,
        strategy: 'template:zero-division',
        confidence: 0.75,
      }),
    );
    const b = boundaryVariant(ctx, {
      file: f,
      at: div,
      value: d,
      bad: 'zero',
      strategy: 'template:zero-division',
      confidence: 0.6,
    });
    if (b) out.push(b);
  }
  return out;
}
