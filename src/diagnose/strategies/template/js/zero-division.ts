/**
 * JavaScript/TypeScript division by zero, which only BigInt division raises (`RangeError: Division by
 * zero`): 0n at the fault site, a guard in the function, 400 in the handler when the divisor is a field.
 */
import type { Proposal } from '../../types.ts';
import { isPure, nodeText, startOf, ts } from './ast.ts';
import { nearFault, operand, proposal, where } from './common.ts';
import { boundaryVariant, guardVariants, type JsTemplateContext } from './variants.ts';

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
    const p = proposal(
      f,
      [
        { start: startOf(f, div), end: startOf(f, div), text: `(${text} == 0 ? 0n : ` },
        { start: div.end, end: div.end, text: ')' },
      ],
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
