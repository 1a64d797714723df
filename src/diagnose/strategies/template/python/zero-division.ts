/**
 * Python ZeroDivisionError (`/`, `//`, `%`, `/=`, divmod): the neutral 0 at the fault site, a guard that
 * returns 0 (or the function's own fallback) before the statement, and — when the divisor is a field of
 * the request, not the size of a collection — 400 in the handler. An empty collection is a normal state
 * (an average of nothing), so its size never becomes a validation.
 */
import type { Proposal } from '../../types.ts';
import { isPure, type PyNode } from './ast.ts';
import { bySpan, conditional, crashSite, disjoint, proposalPy, rootName, siblings } from './common.ts';
import { boundaryVariantPy, guardVariantsPy, type PyTemplateContext, where, wrapStatement } from './variants.ts';

const DIVISION = new Set(['Div', 'FloorDiv', 'Mod']);

function nonZeroConstant(n: PyNode): boolean {
  return n._t === 'Constant' && typeof n.value === 'number' && n.value !== 0;
}

export function zeroDivisionPy(ctx: PyTemplateContext): Proposal[] {
  const fr = ctx.frames[0]!;
  const file = fr.file;
  const site = crashSite(fr);
  if (!site) return [];
  const out: Proposal[] = [];
  const divisions = site.nodes.filter(
    (n) => n._t === 'BinOp' && DIVISION.has((n.op as PyNode)._t) && !nonZeroConstant(n.right as PyNode),
  );
  const aug = site.stmt._t === 'AugAssign' && DIVISION.has((site.stmt.op as PyNode)._t) ? [site.stmt] : [];
  for (const div of bySpan(fr, [...divisions, ...aug], (d) => d).slice(0, 2)) {
    const divisor = (div._t === 'AugAssign' ? div.value : div.right) as PyNode;
    if (!isPure(divisor)) continue;
    const d = file.text(divisor);
    const p = file.parent(div);
    const whole = !!p && (p._t === 'Return' || p._t === 'Assign' || p._t === 'AnnAssign') && p.value === div;
    // `n // size` then `n % size`: later divisions by the same divisor fail for the same input.
    const later =
      div._t === 'AugAssign'
        ? []
        : siblings(
            file,
            div,
            (n) => n._t === 'BinOp' && DIVISION.has((n.op as PyNode)._t) && file.text(n.right as PyNode) === d,
            rootName(divisor),
          );
    const edits =
      div._t === 'AugAssign'
        ? wrapStatement(file, div, [`if ${d} != 0:`])
        : disjoint(
            [div, ...later].map((x) => {
              const px = file.parent(x);
              const alone = !!px && ['Return', 'Assign', 'AnnAssign'].includes(px._t) && px.value === x;
              return conditional(file, x, `${d} != 0`, '0', x === div ? whole : alone);
            }),
          );
    const fix =
      edits &&
      proposalPy(
        file,
        edits,
        'template:zero-division:default',
        `divide by \`${d}\` only when it is not zero, else 0 (${where(file, div)})`,
        0.8,
      );
    if (fix) out.push(fix);
    out.push(
      ...guardVariantsPy({
        file,
        at: div,
        value: divisor,
        cond: (v) => `${v} == 0`,
        what: `\`${d}\` is zero`,
        frames: ctx.frames,
        strategy: 'template:zero-division',
        confidence: 0.85,
      }),
    );
    const sizeOf = divisor._t === 'Call' || divisor._t === 'BinOp';
    if (!sizeOf) {
      const b = boundaryVariantPy(ctx, {
        file,
        at: div,
        value: divisor,
        bad: 'zero',
        strategy: 'template:zero-division',
        confidence: 0.55,
      });
      if (b) out.push(b);
    }
  }
  return out;
}
