/**
 * Python: an attribute, subscript, item assignment, iteration, len() or unpacking on None
 * (`'NoneType' object has no attribute 'x'` / `is not subscriptable` / `is not iterable` / `has no len()`),
 * including nested chains and `.get()` results. Variants: short-circuit the chain where the value is None
 * and give what follows the neutral default its uses need (fault site), a guard in the function, a skip
 * of the element in a loop or comprehension, and 400 in the request handler when the field is missing.
 */
import type { Proposal } from '../../types.ts';
import type { TextEdit } from '../edits.ts';
import type { Fault } from '../fault.ts';
import { canBeNone, isNode, isPure, type PyFile, type PyNode, sliceOf } from './ast.ts';
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
import type { PyFrame } from './lift.ts';
import {
  boundaryVariantPy,
  firstBoundaryPy,
  guardVariantsPy,
  type PyTemplateContext,
  where,
  wrapStatement,
} from './variants.ts';

type NullishFault = Extract<Fault, { kind: 'nullish' }>;

const ITERATING = new Set([
  'sorted',
  'list',
  'sum',
  'set',
  'tuple',
  'enumerate',
  'zip',
  'max',
  'min',
  'any',
  'all',
  'dict',
  'frozenset',
]);

interface Site {
  /** The node that raises. */
  at: PyNode;
  value: PyNode;
  kind: 'access' | 'iterate' | 'set' | 'unpack';
}

function sites(ctx: PyTemplateContext, fault: NullishFault): Site[] {
  const fr = ctx.frames[0]!;
  const file = fr.file;
  const cs = crashSite(fr);
  if (!cs) return [];
  const { stmt, nodes } = cs;
  const ctxOf = (n: PyNode) => (n.ctx as PyNode | undefined)?._t;
  const out: Site[] = [];
  switch (fault.use) {
    case 'read':
      for (const n of nodes)
        if (n._t === 'Attribute' && n.attr === fault.property && ctxOf(n) !== 'Store')
          out.push({ at: n, value: n.value as PyNode, kind: 'access' });
      break;
    case 'subscript':
      for (const n of nodes)
        if (n._t === 'Subscript' && ctxOf(n) !== 'Store') out.push({ at: n, value: n.value as PyNode, kind: 'access' });
      break;
    case 'set':
      for (const n of nodes)
        if ((n._t === 'Subscript' || n._t === 'Attribute') && ctxOf(n) === 'Store')
          out.push({ at: n, value: n.value as PyNode, kind: 'set' });
      break;
    case 'len':
      for (const n of nodes)
        if (
          n._t === 'Call' &&
          (n.func as PyNode)._t === 'Name' &&
          (n.func as PyNode).id === 'len' &&
          (n.args as PyNode[])[0]
        )
          out.push({ at: n, value: (n.args as PyNode[])[0]!, kind: 'iterate' });
      break;
    case 'iterate': {
      if ((stmt._t === 'For' || stmt._t === 'AsyncFor') && nodes.includes(stmt.iter as PyNode))
        out.push({ at: stmt, value: stmt.iter as PyNode, kind: 'iterate' });
      for (const n of [...nodes, ...file.descendants(stmt).filter((x) => x._t === 'comprehension')]) {
        if (n._t === 'comprehension' && nodes.includes(n.iter as PyNode))
          out.push({ at: n.iter as PyNode, value: n.iter as PyNode, kind: 'iterate' });
        if (n._t === 'Compare') {
          (n.ops as PyNode[]).forEach((op, i) => {
            if (op._t === 'In' || op._t === 'NotIn')
              out.push({ at: n, value: (n.comparators as PyNode[])[i]!, kind: 'iterate' });
          });
        }
        if (
          n._t === 'Call' &&
          (n.func as PyNode)._t === 'Name' &&
          ITERATING.has((n.func as PyNode).id as string) &&
          (n.args as PyNode[])[0]
        )
          out.push({ at: n, value: (n.args as PyNode[])[0]!, kind: 'iterate' });
      }
      break;
    }
    case 'destructure':
      if (stmt._t === 'Assign' && ['Tuple', 'List'].includes((stmt.targets as PyNode[])[0]!._t))
        out.push({ at: stmt, value: stmt.value as PyNode, kind: 'unpack' });
      break;
  }
  // Values that cannot be None are not the culprit.
  const seen = new Set<string>();
  return out
    .filter((s) => canBeNone(s.value))
    .filter((s) => {
      const key = `${s.value.s}:${s.value.e}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** `x.get("k")` read through as a mapping next: `(x.get("k") or {})` keeps the rest of the chain. */
function getThenMapping(file: PyFile, site: Site): boolean {
  const v = site.value;
  if (
    v._t !== 'Call' ||
    (v.func as PyNode)._t !== 'Attribute' ||
    (v.func as PyNode).attr !== 'get' ||
    (v.args as PyNode[]).length !== 1
  )
    return false;
  const at = site.at;
  if (at._t === 'Subscript') return sliceOf(at)._t === 'Constant' && sliceOf(at).vt === 'str';
  return (
    at._t === 'Attribute' &&
    ['get', 'items', 'keys', 'values'].includes(at.attr as string) &&
    file.parent(at)?._t === 'Call'
  );
}

/** The fault-site edit for one access on a possibly-None value, or undefined when none is complete. */
function accessFix(
  file: PyFile,
  site: Site,
  fn: PyNode | undefined,
  frames: PyFrame[],
): { edits: TextEdit[]; fallback: boolean } | undefined {
  const v = file.text(site.value);
  const chain = chainAbovePy(file, site.at);
  const f = followPy(file, chain, fn, frames);
  if (f.blocked) return undefined;
  if (getThenMapping(file, site) && f.dflt === 'None')
    return { edits: [{ start: site.value.s!, end: site.value.e!, text: `(${v} or {})` }], fallback: f.fallback };
  if (!isPure(site.value)) return undefined;
  return { edits: [conditional(file, chain, `${v} is not None`, f.dflt, f.whole)], fallback: f.fallback };
}

function fixFor(
  file: PyFile,
  site: Site,
  fn: PyNode | undefined,
  frames: PyFrame[],
): { edits: TextEdit[]; fallback: boolean } | undefined {
  const v = file.text(site.value);
  if (site.kind === 'access') {
    const first = accessFix(file, site, fn, frames);
    if (!first) return undefined;
    // The same value read again later in the function fails the same way.
    const more = siblings(
      file,
      site.at,
      (n) => (n._t === 'Attribute' || n._t === 'Subscript') && isNode(n.value) && file.text(n.value as PyNode) === v,
      rootName(site.value),
    ).map((n) => accessFix(file, { at: n, value: n.value as PyNode, kind: 'access' }, fn, frames));
    if (more.some((m) => m === undefined)) return undefined;
    return { edits: disjoint([...first.edits, ...more.flatMap((m) => m!.edits)]), fallback: first.fallback };
  }
  if (site.kind === 'iterate') {
    const p = file.parent(site.value);
    const bare = p?._t === 'For' || p?._t === 'AsyncFor' || p?._t === 'comprehension' || p?._t === 'Call';
    const empty = p?._t === 'Compare' ? '()' : '[]';
    return {
      edits: [{ start: site.value.s!, end: site.value.e!, text: bare ? `${v} or ${empty}` : `(${v} or ${empty})` }],
      fallback: false,
    };
  }
  if (site.kind === 'set' && isPure(site.value)) {
    const stmt = file.statementOf(site.at);
    const edits = stmt && wrapStatement(file, stmt, [`if ${v} is not None:`]);
    return edits ? { edits, fallback: false } : undefined;
  }
  return undefined;
}

/**
 * Without a caret span, `a.get("x").get("y").z` leaves open which link was None: one fix checks every
 * candidate of the chain, innermost first, so the `and` never reads through a None.
 */
function combined(file: PyFile, sites: Site[], fn: PyNode | undefined): Site[] | undefined {
  const access = sites.filter((s) => s.kind === 'access');
  if (access.length < 2 || access.length !== sites.length) return undefined;
  const chain = chainAbovePy(file, access[0]!.at);
  if (!access.every((s) => chainAbovePy(file, s.at) === chain && isPure(s.value))) return undefined;
  void fn;
  return [...access].sort((a, b) => a.value.e! - a.value.s! - (b.value.e! - b.value.s!));
}

export function nullishPy(ctx: PyTemplateContext, fault: NullishFault): Proposal[] {
  const fr = ctx.frames[0]!;
  const file = fr.file;
  const out: Proposal[] = [];
  const found = bySpan(fr, sites(ctx, fault), (s) => (s.kind === 'iterate' ? s.value : s.at));
  const chainOf = combined(file, found, file.functionOf(found[0]?.at ?? file.tree));
  if (chainOf) {
    const fn = file.functionOf(chainOf[0]!.at);
    const chain = chainAbovePy(file, chainOf[0]!.at);
    const f = followPy(file, chain, fn, ctx.frames);
    const values = chainOf.map((s) => file.text(s.value));
    if (!f.blocked) {
      const p = proposalPy(
        file,
        [conditional(file, chain, values.map((v) => `${v} is not None`).join(' and '), f.dflt, f.whole)],
        'template:nullish:default',
        `read through ${values.map((v) => `\`${v}\``).join(', ')} only when none is None, with a neutral default for what follows (${where(file, chain)})`,
        f.fallback ? 0.85 : 0.7,
      );
      if (p) out.push(p);
    }
    out.push(
      ...guardVariantsPy({
        file,
        at: chainOf[0]!.at,
        value: chainOf[0]!.value,
        cond: () => values.map((v) => `${v} is None`).join(' or '),
        what: `${values.map((v) => `\`${v}\``).join(' or ')} is None`,
        frames: ctx.frames,
        strategy: 'template:nullish',
        confidence: 0.7,
      }),
    );
    out.push(
      ...firstBoundaryPy(ctx, chainOf, { file, bad: 'nullish', strategy: 'template:nullish', confidence: 0.75 }),
    );
    return out;
  }
  for (const site of found.slice(0, 2)) {
    const v = file.text(site.value);
    const fn = file.functionOf(site.at);
    const fixed = fixFor(file, site, fn, ctx.frames);
    const fix =
      fixed &&
      proposalPy(
        file,
        fixed.edits,
        'template:nullish:default',
        `use \`${v}\` only when it is not None, with a neutral default for what follows (${where(file, site.at)})`,
        fixed.fallback ? 0.85 : 0.7,
      );
    if (fix) out.push(fix);
    out.push(
      ...guardVariantsPy({
        file,
        at: site.at,
        value: site.value,
        cond: (x) => `${x} is None`,
        what: `\`${v}\` is None`,
        frames: ctx.frames,
        strategy: 'template:nullish',
        confidence: 0.7,
      }),
    );
    const b = boundaryVariantPy(ctx, {
      file,
      at: site.at,
      value: site.value,
      bad: 'nullish',
      strategy: 'template:nullish',
      confidence: fixed?.fallback ? 0.6 : 0.8,
    });
    if (b) out.push(b);
  }
  return out;
}
