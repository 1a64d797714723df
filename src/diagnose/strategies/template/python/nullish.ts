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
import { isPure, type PyFile, type PyNode, sliceOf } from './ast.ts';
import { chainAbovePy, conditional, crashSite, followPy, proposalPy } from './common.ts';
import { boundaryVariantPy, guardVariantsPy, type PyTemplateContext, where, wrapStatement } from './variants.ts';

type NullishFault = Extract<Fault, { kind: 'nullish' }>;

const NEVER_NONE = new Set([
  'Constant',
  'List',
  'Dict',
  'Tuple',
  'Set',
  'JoinedStr',
  'BinOp',
  'ListComp',
  'DictComp',
  'SetComp',
  'Compare',
]);
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
  // Values that cannot be None are not the culprit; calls and names first.
  const seen = new Set<string>();
  return out
    .filter((s) => !NEVER_NONE.has(s.value._t))
    .filter((s) => {
      const key = `${s.value.s}:${s.value.e}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .slice(0, 2);
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

export function nullishPy(ctx: PyTemplateContext, fault: NullishFault): Proposal[] {
  const file = ctx.frames[0]!.file;
  const out: Proposal[] = [];
  for (const site of sites(ctx, fault)) {
    const v = file.text(site.value);
    const fn = file.functionOf(site.at);
    let fallback = false;
    let edits: TextEdit[] | undefined;
    if (site.kind === 'access') {
      const chain = chainAbovePy(file, site.at);
      const f = followPy(file, chain, fn);
      fallback = f.fallback;
      if (!f.blocked) {
        if (getThenMapping(file, site) && f.dflt === 'None')
          edits = [{ start: site.value.s!, end: site.value.e!, text: `(${v} or {})` }];
        else if (isPure(site.value)) edits = [conditional(file, chain, `${v} is not None`, f.dflt, f.whole)];
      }
    } else if (site.kind === 'iterate') {
      const p = file.parent(site.value);
      const bare = p?._t === 'For' || p?._t === 'AsyncFor' || p?._t === 'comprehension' || p?._t === 'Call';
      const empty = p?._t === 'Compare' ? '()' : '[]';
      edits = [{ start: site.value.s!, end: site.value.e!, text: bare ? `${v} or ${empty}` : `(${v} or ${empty})` }];
    } else if (site.kind === 'set' && isPure(site.value)) {
      const stmt = file.statementOf(site.at);
      edits = stmt && wrapStatement(file, stmt, [`if ${v} is not None:`]);
    }
    const fix =
      edits &&
      proposalPy(
        file,
        edits,
        'template:nullish:default',
        `use \`${v}\` only when it is not None, with a neutral default for what follows (${where(file, site.at)})`,
        fallback ? 0.85 : 0.7,
      );
    if (fix) out.push(fix);
    out.push(
      ...guardVariantsPy({
        file,
        at: site.at,
        value: site.value,
        cond: (x) => `${x} is None`,
        what: `\`${v}\` is None`,
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
      confidence: fallback ? 0.6 : 0.8,
    });
    if (b) out.push(b);
  }
  return out;
}
