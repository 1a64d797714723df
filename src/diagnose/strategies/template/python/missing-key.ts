/**
 * Python KeyError on a mapping read in the team's code (a field missing from a payload, an id missing from
 * a lookup table). Variants: read it with `.get()` and the neutral default its uses need, or short-circuit
 * a longer chain (`x["a"]["b"] if "a" in x else …`) at the fault site; a guard (or a skip of the element
 * in a loop or comprehension) in the function; 400 in the request handler when the key is a field of the
 * request. The key is matched against the source's own literals; the message's text is never written.
 */
import type { Proposal } from '../../types.ts';
import type { TextEdit } from '../edits.ts';
import type { Fault } from '../fault.ts';
import { constValue, isPure, type PyNode, sliceOf } from './ast.ts';
import {
  bySpan,
  chainAbovePy,
  conditional,
  crashSite,
  disjoint,
  followPy,
  proposalPy,
  rootName,
  siblings,
} from './common.ts';
import { lookupBoundaryPy } from './lookup.ts';
import { boundaryVariantPy, guardVariantsPy, type PyTemplateContext, where } from './variants.ts';

export function missingKeyPy(ctx: PyTemplateContext, fault: Extract<Fault, { kind: 'missing-key' }>): Proposal[] {
  const fr = ctx.frames[0]!;
  const file = fr.file;
  const cs = crashSite(fr);
  if (!cs) return [];
  const reads = cs.nodes.filter((n) => n._t === 'Subscript' && (n.ctx as PyNode | undefined)?._t !== 'Store');
  let subs = reads.filter((n) => fault.key !== undefined && constValue(sliceOf(n)) === fault.key);
  const constant = subs.length > 0;
  // A lookup by a variable key (`PRICES[sku]`): the table lacks the request's value.
  if (!constant) subs = reads.filter((n) => ['Name', 'Attribute', 'Subscript', 'Call'].includes(sliceOf(n)._t));
  const out: Proposal[] = [];
  const fn = file.functionOf(cs.stmt);
  subs = bySpan(fr, subs, (s) => s);
  /** `.get()` for a lone read, a short-circuit for a longer chain; undefined when no default fits. */
  const fixOne = (sub: PyNode): { edits: TextEdit[]; fallback: boolean } | undefined => {
    const mapping = sub.value as PyNode;
    const keyNode = sliceOf(sub);
    const chain = chainAbovePy(file, sub);
    const f = followPy(file, chain, fn, ctx.frames);
    if (f.blocked) return undefined;
    const [m, key] = [file.text(mapping), file.text(keyNode)];
    if (chain === sub)
      return {
        edits: [{ start: sub.s!, end: sub.e!, text: `${m}.get(${key}${f.dflt === 'None' ? '' : `, ${f.dflt}`})` }],
        fallback: f.fallback,
      };
    if (isPure(mapping) && isPure(keyNode))
      return { edits: [conditional(file, chain, `${key} in ${m}`, f.dflt, f.whole)], fallback: f.fallback };
    return undefined;
  };
  for (const sub of subs.slice(0, 2)) {
    const mapping = sub.value as PyNode;
    const keyNode = sliceOf(sub);
    const key = file.text(keyNode);
    const m = file.text(mapping);
    const first = fixOne(sub);
    // The same key read again later from the same mapping fails the same way.
    const more = first
      ? siblings(
          file,
          sub,
          (n) =>
            n._t === 'Subscript' &&
            (n.ctx as PyNode | undefined)?._t !== 'Store' &&
            file.text(n.value as PyNode) === m &&
            file.text(sliceOf(n)) === key,
          rootName(mapping),
        ).map(fixOne)
      : [];
    const edits =
      first && !more.some((x) => x === undefined)
        ? disjoint([...first.edits, ...more.flatMap((x) => x!.edits)])
        : undefined;
    const f = { fallback: first?.fallback ?? false };
    const fix =
      edits &&
      proposalPy(
        file,
        edits,
        'template:missing-key:get',
        `read ${key} from \`${m}\` only when present, with a neutral default for what follows (${where(file, sub)})`,
        f.fallback ? 0.85 : 0.7,
      );
    if (fix) out.push(fix);
    if (isPure(keyNode)) {
      out.push(
        ...guardVariantsPy({
          file,
          at: sub,
          value: mapping,
          cond: (x) => `${key} not in ${x}`,
          what: `\`${m}\` has no ${key}`,
          frames: ctx.frames,
          strategy: 'template:missing-key',
          confidence: 0.7,
        }),
      );
    }
    const k = constValue(keyNode);
    if (constant && k !== undefined) {
      const b = boundaryVariantPy(ctx, {
        file,
        at: sub,
        value: mapping,
        extra: [{ k: 'key', key: k }],
        bad: 'missing',
        strategy: 'template:missing-key',
        confidence: f.fallback ? 0.6 : 0.8,
      });
      if (b) out.push(b);
    } else if (!constant) {
      // `RATES[order["currency"]]`: the table lacks the request's value.
      const b = lookupBoundaryPy(ctx, { file, at: sub, value: sub, strategy: 'template:missing-key', confidence: 0.8 });
      if (b) out.push(b);
    }
  }
  return out;
}
