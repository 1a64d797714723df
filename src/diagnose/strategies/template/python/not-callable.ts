/**
 * Python `'NoneType' object is not callable`: an optional callback or hook that was not set. Variants:
 * call it only when set (fault site), a guard in the function. Other types (`'str' object is not
 * callable`) are shadowing bugs no template fixes.
 */
import type { Proposal } from '../../types.ts';
import type { Fault } from '../fault.ts';
import { isPure, type PyNode } from './ast.ts';
import { bySpan, conditional, crashSite, followPy, proposalPy } from './common.ts';
import { lookupBoundaryPy } from './lookup.ts';
import { guardVariantsPy, type PyTemplateContext, where, wrapStatement } from './variants.ts';

export function notCallablePy(ctx: PyTemplateContext, fault: Extract<Fault, { kind: 'not-callable' }>): Proposal[] {
  if (fault.calledType !== 'NoneType') return [];
  const fr = ctx.frames[0]!;
  const file = fr.file;
  const cs = crashSite(fr);
  if (!cs) return [];
  const defined = new Set(
    file.all.filter((n) => ['FunctionDef', 'AsyncFunctionDef', 'ClassDef'].includes(n._t)).map((n) => n.name as string),
  );
  const calls = cs.nodes.filter((n) => {
    if (n._t !== 'Call') return false;
    const f = n.func as PyNode;
    if (f._t === 'Name') return !defined.has(f.id as string) && isPure(f);
    return f._t === 'Attribute' && isPure(f);
  });
  const out: Proposal[] = [];
  for (const call of bySpan(fr, calls, (c) => c).slice(0, 1)) {
    const f = call.func as PyNode;
    const t = file.text(f);
    const p = file.parent(call);
    // What the call's result flows into decides the value used when it is not made.
    const flow = followPy(file, call, file.functionOf(call), ctx.frames);
    const edits =
      p?._t === 'Expr'
        ? wrapStatement(file, p, [`if ${t} is not None:`])
        : flow.blocked
          ? undefined
          : [conditional(file, call, `${t} is not None`, flow.dflt, flow.whole)];
    const fix =
      edits &&
      proposalPy(
        file,
        edits,
        'template:not-callable:call-if-set',
        `call \`${t}\` only when it is set (${where(file, call)})`,
        0.6,
      );
    if (fix) out.push(fix);
    out.push(
      ...guardVariantsPy({
        file,
        at: call,
        value: f,
        cond: (v) => `${v} is None`,
        what: `\`${t}\` is None`,
        frames: ctx.frames,
        strategy: 'template:not-callable',
        confidence: 0.55,
      }),
    );
    // `HANDLERS.get(event["type"])(…)`: the table has nothing for the request's key.
    const b = lookupBoundaryPy(ctx, { file, at: call, value: f, strategy: 'template:not-callable', confidence: 0.8 });
    if (b) out.push(b);
  }
  return out;
}
