/**
 * Python: None where a value was computed with — `unsupported operand type(s) for +: 'NoneType' and
 * 'int'`, `can only concatenate str (not "NoneType")`, `'<' not supported between … 'NoneType'`,
 * `int(None)`, `f"{None:.2f}"`. Variants: the neutral value of the other operand's type in place of None
 * (0, "", []) or, in a condition, `x is not None and …` (fault site); a guard in the function; a skip of
 * the element in a loop; 400 in the handler when the value is a missing field of the request.
 */
import type { Proposal } from '../../types.ts';
import type { TextEdit } from '../edits.ts';
import type { Fault } from '../fault.ts';
import { canBeNone, isPure, loadedNames, type PyNode, positionalParams, quoteStyle } from './ast.ts';
import { bySpan, crashSite, followPy, proposalPy } from './common.ts';
import { defaultForPy } from './infer.ts';
import { firstBoundaryPy, guardVariantsPy, type PyTemplateContext, where } from './variants.ts';

type OperandFault = Extract<Fault, { kind: 'nullish' }>;

const OPS: Record<string, string> = {
  '+': 'Add',
  '-': 'Sub',
  '*': 'Mult',
  '/': 'Div',
  '//': 'FloorDiv',
  '%': 'Mod',
  '**': 'Pow',
  '@': 'MatMult',
  '&': 'BitAnd',
  '|': 'BitOr',
  '^': 'BitXor',
  '<<': 'LShift',
  '>>': 'RShift',
};
const CMP: Record<string, string> = { '<': 'Lt', '>': 'Gt', '<=': 'LtE', '>=': 'GtE' };
const NUMERIC_CALLS = new Set(['len', 'str', 'int', 'float', 'sum', 'round', 'abs', 'max', 'min']);

function operandCanBeNone(n: PyNode): boolean {
  if (!canBeNone(n)) return false;
  if (n._t === 'Call' && (n.func as PyNode)._t === 'Name' && NUMERIC_CALLS.has((n.func as PyNode).id as string))
    return false;
  return true;
}

/** The operand(s) the message names as None, on the crashing line. */
function operands(ctx: PyTemplateContext, fault: OperandFault): { node: PyNode; at: PyNode; test: boolean }[] {
  const fr = ctx.frames[0]!;
  const file = fr.file;
  const cs = crashSite(fr);
  if (!cs) return [];
  const out: { node: PyNode; at: PyNode; test: boolean }[] = [];
  const op = (fault.operator ?? '').replace(/=$/, '');
  const take = (side: 'left' | 'right', l: PyNode, r: PyNode, at: PyNode, test = false) => {
    if ((fault.side === 'left' || fault.side === 'both') && side === 'left' && operandCanBeNone(l))
      out.push({ node: l, at, test });
    if ((fault.side === 'right' || fault.side === 'both') && side === 'left' && operandCanBeNone(r))
      out.push({ node: r, at, test });
  };
  const isTest = (n: PyNode) => {
    const p = file.parent(n);
    return (
      !!p &&
      ((['If', 'While', 'IfExp', 'Assert'].includes(p._t) && p.test === n) ||
        p._t === 'BoolOp' ||
        (p._t === 'comprehension' && (p.ifs as PyNode[]).includes(n)))
    );
  };
  for (const n of [cs.stmt, ...cs.nodes]) {
    if (fault.use === 'operand') {
      if (n._t === 'BinOp' && (n.op as PyNode)._t === OPS[op]) take('left', n.left as PyNode, n.right as PyNode, n);
      if (
        n._t === 'AugAssign' &&
        (n.op as PyNode)._t === OPS[op] &&
        fault.side === 'right' &&
        operandCanBeNone(n.value as PyNode)
      )
        out.push({ node: n.value as PyNode, at: n, test: false });
      if (n._t === 'Compare' && CMP[op]) {
        const items = [n.left as PyNode, ...(n.comparators as PyNode[])];
        (n.ops as PyNode[]).forEach((o, i) => {
          if (o._t === CMP[op]) take('left', items[i]!, items[i + 1]!, n, isTest(n));
        });
      }
      if (op === 'unary' && n._t === 'UnaryOp' && operandCanBeNone(n.operand as PyNode))
        out.push({ node: n.operand as PyNode, at: n, test: false });
    }
    if (
      fault.use === 'convert' &&
      n._t === 'Call' &&
      (n.func as PyNode)._t === 'Name' &&
      ['int', 'float'].includes((n.func as PyNode).id as string)
    ) {
      const a = (n.args as PyNode[])[0];
      if (a && operandCanBeNone(a)) out.push({ node: a, at: n, test: false });
    }
    if (fault.use === 'format' && n._t === 'FormattedValue' && n.format_spec && operandCanBeNone(n.value as PyNode))
      out.push({ node: n.value as PyNode, at: n, test: false });
  }
  const seen = new Set<string>();
  return bySpan(fr, out, (o) => o.at).filter((o) => {
    const k = `${o.node.s}:${o.node.e}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const ORDERING = new Set(['sorted', 'sort', 'min', 'max']);

/**
 * `sorted(xs, key=lambda t: (t["due"], …))` where some `t["due"]` is None: the comparison happens inside
 * the builtin, so no `<` is on the line. The key's values read from the element that can be None become
 * `(v is None, v if v is not None else <neutral>)`: None sorts after every value (before, for max), and
 * the order of elements without None is unchanged. Without a key, the elements themselves get one.
 */
function orderingKeyPy(ctx: PyTemplateContext, fault: OperandFault): Proposal[] {
  const fr = ctx.frames[0]!;
  const file = fr.file;
  const cs = crashSite(fr);
  if (!cs || !CMP[fault.operator ?? '']) return [];
  const dflt = defaultForPy(fault.other, quoteStyle(file)) ?? '0';
  const out: Proposal[] = [];
  for (const call of cs.nodes) {
    if (call._t !== 'Call') continue;
    const f = call.func as PyNode;
    const name = f._t === 'Name' ? (f.id as string) : f._t === 'Attribute' ? (f.attr as string) : '';
    if (!ORDERING.has(name) || (name === 'sort') !== (f._t === 'Attribute')) continue;
    const first = name === 'max' ? 'is not None' : 'is None';
    const keyed = (v: string) => `${v} ${first}, ${v} if ${v} is not None else ${dflt}`;
    const key = (call.keywords as PyNode[]).find((k) => k.arg === 'key');
    const edits: TextEdit[] = [];
    if (!key) {
      const args = call.args as PyNode[];
      if ((name === 'sort' ? args.length !== 0 : args.length !== 1) || (call.keywords as PyNode[]).some((k) => !k.arg))
        continue;
      const at = name === 'sort' ? call.e! - 1 : args[0]!.e!;
      edits.push({ start: at, end: at, text: `${name === 'sort' ? '' : ', '}key=lambda v: (${keyed('v')})` });
    } else {
      const fn = key.value as PyNode;
      if (fn._t !== 'Lambda') continue;
      const params = new Set(positionalParams(fn));
      const body = fn.body as PyNode;
      const parts = body._t === 'Tuple' ? (body.elts as PyNode[]) : [body];
      const fromElement = parts.filter(
        (e) => canBeNone(e) && isPure(e) && loadedNames(file, e).some((n) => params.has(n)),
      );
      for (const e of fromElement) {
        const v = file.text(e);
        edits.push({ start: e.s!, end: e.e!, text: body._t === 'Tuple' ? keyed(v) : `(${keyed(v)})` });
      }
    }
    const p =
      edits.length > 0 &&
      proposalPy(
        file,
        edits,
        'template:none-operand:default',
        `order None ${name === 'max' ? 'first' : 'last'} in ${name}() instead of comparing it (${where(file, call)})`,
        0.7,
      );
    if (p) out.push(p);
  }
  return out;
}

export function noneOperandPy(ctx: PyTemplateContext, fault: OperandFault): Proposal[] {
  const file = ctx.frames[0]!.file;
  const found = operands(ctx, fault).slice(0, 3);
  if (found.length === 0) return orderingKeyPy(ctx, fault);
  const q = quoteStyle(file);
  const dflt = defaultForPy(fault.other, q) ?? '0';
  const out: Proposal[] = [];
  // Fault site: every candidate operand, since the message does not say which of equal ones it was.
  const edits: TextEdit[] = [];
  const tests = new Map<PyNode, string[]>();
  let pure = true;
  for (const o of found) {
    if (!isPure(o.node)) {
      pure = false;
      break;
    }
    const t = file.text(o.node);
    if (o.test) tests.set(o.at, [...(tests.get(o.at) ?? []), `${t} is not None`]);
    else if (fault.use === 'convert') {
      const f = followPy(file, o.at, file.functionOf(o.at), ctx.frames);
      const d = f.dflt === 'None' ? '0' : f.dflt;
      edits.push({ start: o.at.s!, end: o.at.e!, text: `(${file.text(o.at)} if ${t} is not None else ${d})` });
    } else edits.push({ start: o.node.s!, end: o.node.e!, text: `(${t} if ${t} is not None else ${dflt})` });
  }
  for (const [cmp, conds] of tests)
    edits.push({ start: cmp.s!, end: cmp.e!, text: `(${conds.join(' and ')} and ${file.text(cmp)})` });
  if (pure && edits.length) {
    const names = found.map((o) => `\`${file.text(o.node)}\``).join(', ');
    const p = proposalPy(
      file,
      edits,
      'template:none-operand:default',
      `use ${dflt} for ${names} when None (${where(file, found[0]!.at)})`,
      0.7,
    );
    if (p) out.push(p);
  }
  const first = found.find((o) => isPure(o.node));
  if (first) {
    const texts = found.filter((o) => isPure(o.node)).map((o) => file.text(o.node));
    out.push(
      ...guardVariantsPy({
        file,
        at: first.at,
        value: first.node,
        cond: () => texts.map((t) => `${t} is None`).join(' or '),
        what: `${texts.map((t) => `\`${t}\``).join(' or ')} is None`,
        frames: ctx.frames,
        strategy: 'template:none-operand',
        confidence: 0.7,
      }),
    );
  }
  out.push(
    ...firstBoundaryPy(
      ctx,
      found.map((o) => ({ at: o.at, value: o.node })),
      { file, bad: 'nullish', strategy: 'template:none-operand', confidence: 0.75 },
    ),
  );
  return out;
}
