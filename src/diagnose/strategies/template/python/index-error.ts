/**
 * Python: an index out of range or an empty sequence — `xs[0]` / `xs[-1]` / `xs[i]` (IndexError),
 * `max([])` / `min([])` (ValueError), `statistics.mean([])`, `random.choice([])`, `next(it)`
 * (StopIteration), `xs.pop()` on an empty list. Variants: the neutral default its context needs at the
 * fault site (`xs[0] if xs else None`, `max(xs, default=0)`), a guard in the function, a skip in a loop,
 * and 400 in the handler when the list is a field of the request.
 */
import type { Proposal } from '../../types.ts';
import type { TextEdit } from '../edits.ts';
import type { Fault } from '../fault.ts';
import { intValue, isPure, type PyFile, type PyNode, sliceOf } from './ast.ts';
import { bySpan, chainAbovePy, conditional, crashSite, disjoint, followPy, proposalPy } from './common.ts';
import { boundaryVariantPy, guardVariantsPy, type PyTemplateContext, where } from './variants.ts';

interface Site {
  at: PyNode;
  /** The sequence that is too short. */
  seq: PyNode;
  /** Python condition (given the sequence's text) under which the operation is safe. */
  ok: (s: string) => string;
  bad: (s: string) => string;
  /** Empty is what makes it fail (so a 400 can say "must not be empty"). */
  empty: boolean;
  /** A fault-site edit other than the conditional (adding `default=`). */
  special?: (dflt: string) => TextEdit[] | undefined;
}

const callName = (n: PyNode) => {
  const f = n.func as PyNode;
  return f._t === 'Name' ? (f.id as string) : f._t === 'Attribute' ? (f.attr as string) : '';
};

function sites(ctx: PyTemplateContext, what: Extract<Fault, { kind: 'index' }>['what']): Site[] {
  const fr = ctx.frames[0]!;
  const cs = crashSite(fr);
  if (!cs) return [];
  return bySpan(fr, sitesIn(fr.file, cs.nodes, what), (x) => x.at).slice(0, 2);
}

function sitesIn(file: PyFile, nodes: PyNode[], what: Extract<Fault, { kind: 'index' }>['what']): Site[] {
  const out: Site[] = [];
  for (const n of nodes) {
    if (what === 'subscript' && n._t === 'Subscript' && (n.ctx as PyNode | undefined)?._t !== 'Store') {
      const idx = sliceOf(n);
      if (idx._t === 'Slice' || (idx._t === 'Constant' && idx.vt === 'str')) continue;
      const k = intValue(idx);
      const i = file.text(idx);
      if ((k === 0 || k === -1) && (n.value as PyNode)._t === 'Call') {
        // `sorted(xs)[-1]` evaluates its sequence once: `(sorted(xs) or [default])[-1]`.
        const seq = n.value as PyNode;
        out.push({
          at: n,
          seq,
          ok: (s) => s,
          bad: (s) => `not ${s}`,
          empty: true,
          special: (dflt) =>
            chainAbovePy(file, n) === n
              ? [{ start: n.s!, end: n.e!, text: `(${file.text(seq)} or [${dflt}])[${k}]` }]
              : undefined,
        });
      } else if (k === 0 || k === -1)
        out.push({ at: n, seq: n.value as PyNode, ok: (s) => s, bad: (s) => `not ${s}`, empty: true });
      else if (k !== undefined && k > 0)
        out.push({
          at: n,
          seq: n.value as PyNode,
          ok: (s) => `len(${s}) > ${k}`,
          bad: (s) => `len(${s}) <= ${k}`,
          empty: false,
        });
      else if (k !== undefined)
        out.push({
          at: n,
          seq: n.value as PyNode,
          ok: (s) => `len(${s}) >= ${-k}`,
          bad: (s) => `len(${s}) < ${-k}`,
          empty: false,
        });
      else if (isPure(idx))
        out.push({
          at: n,
          seq: n.value as PyNode,
          ok: (s) => `-len(${s}) <= ${i} < len(${s})`,
          bad: (s) => `not -len(${s}) <= ${i} < len(${s})`,
          empty: false,
        });
    }
    if (n._t !== 'Call') continue;
    const name = callName(n);
    const args = n.args as PyNode[];
    const kws = n.keywords as PyNode[];
    if (
      what === 'empty-call' &&
      ['max', 'min'].includes(name) &&
      (n.func as PyNode)._t === 'Name' &&
      args.length === 1 &&
      !kws.some((k) => k.arg === 'default')
    ) {
      const close = n.e! - 1;
      out.push({
        at: n,
        seq: args[0]!,
        ok: (s) => s,
        bad: (s) => `not ${s}`,
        empty: true,
        special: (dflt) =>
          file.source[close] === ')' && chainAbovePy(file, n) === n
            ? addArgument(file, n, `default=${dflt}`)
            : undefined,
      });
    }
    if (
      what === 'empty-call' &&
      ['mean', 'median', 'mode', 'stdev', 'variance', 'fmean', 'harmonic_mean'].includes(name) &&
      args[0]
    )
      out.push({ at: n, seq: args[0]!, ok: (s) => s, bad: (s) => `not ${s}`, empty: true });
    if (what === 'choice' && name === 'choice' && args[0])
      out.push({ at: n, seq: args[0]!, ok: (s) => s, bad: (s) => `not ${s}`, empty: true });
    if (what === 'pop' && name === 'pop' && (n.func as PyNode)._t === 'Attribute' && args.length === 0)
      out.push({ at: n, seq: (n.func as PyNode).value as PyNode, ok: (s) => s, bad: (s) => `not ${s}`, empty: true });
    if (what === 'next' && name === 'next' && (n.func as PyNode)._t === 'Name' && args.length === 1)
      out.push({
        at: n,
        seq: args[0]!,
        ok: () => '',
        bad: () => '',
        empty: false,
        special: (dflt) => (chainAbovePy(file, n) === n ? addArgument(file, n, dflt) : undefined),
      });
  }
  return out;
}

export function indexErrorPy(ctx: PyTemplateContext, fault: Extract<Fault, { kind: 'index' }>): Proposal[] {
  const file = ctx.frames[0]!.file;
  const out: Proposal[] = [];
  for (const site of sites(ctx, fault.what)) {
    const s = file.text(site.seq);
    const chain = chainAbovePy(file, site.at);
    const f = followPy(file, chain, file.functionOf(site.at), ctx.frames);
    if (!f.blocked) {
      const fixOne = (x: Site): TextEdit[] | undefined => {
        const c = chainAbovePy(file, x.at);
        const d = x === site ? f : followPy(file, c, file.functionOf(x.at), ctx.frames);
        if (d.blocked) return undefined;
        if (x.special) return x.special(d.dflt);
        return isPure(x.seq) ? [conditional(file, c, x.ok(file.text(x.seq)), d.dflt, d.whole)] : undefined;
      };
      // The same empty sequence read the same way later in the function (max, then min) fails too.
      const fn = file.functionOf(site.at);
      const after = fn ? file.descendants(fn, { functions: false }).filter((n) => (n.s ?? 0) >= site.at.e!) : [];
      const empty = file.text(emptiness(site.seq));
      const later = site.empty
        ? [...sitesIn(file, after, 'empty-call'), ...sitesIn(file, after, 'subscript')].filter(
            (x) => x.empty && file.text(emptiness(x.seq)) === empty,
          )
        : [];
      const parts = [site, ...later].map(fixOne);
      const edits = parts.every((x) => x !== undefined) ? disjoint(parts.flat() as TextEdit[]) : undefined;
      const fix =
        edits &&
        proposalPy(
          file,
          edits,
          'template:index:default',
          `use ${f.dflt} when \`${s}\` is too short (${where(file, site.at)})`,
          f.fallback ? 0.85 : 0.75,
        );
      if (fix) out.push(fix);
    }
    if (!site.bad(s)) continue;
    // `max(r.x for r in rows)` is empty exactly when `rows` is: that is what a guard or a 400 tests.
    const seq = site.empty ? emptiness(site.seq) : site.seq;
    const q = file.text(seq);
    out.push(
      ...guardVariantsPy({
        file,
        at: site.at,
        value: seq,
        cond: site.bad,
        what: site.empty ? `\`${q}\` is empty` : `\`${q}\` is too short`,
        frames: ctx.frames,
        strategy: 'template:index',
        confidence: 0.7,
      }),
    );
    if (site.empty) {
      const b = boundaryVariantPy(ctx, {
        file,
        at: site.at,
        value: seq,
        bad: 'empty',
        strategy: 'template:index',
        confidence: 0.7,
      });
      if (b) out.push(b);
    }
  }
  return out;
}

/**
 * The sequence whose emptiness decides: a comprehension or generator with one unfiltered `for` is empty
 * exactly when what it iterates is; so are `sorted(x)`, `list(x)`, … of `x`.
 */
function emptiness(seq: PyNode): PyNode {
  if (['GeneratorExp', 'ListComp', 'SetComp'].includes(seq._t)) {
    const gens = seq.generators as PyNode[];
    if (gens.length === 1 && (gens[0]!.ifs as PyNode[]).length === 0 && !gens[0]!.is_async)
      return emptiness(gens[0]!.iter as PyNode);
  }
  const f = seq._t === 'Call' ? (seq.func as PyNode) : undefined;
  const args = (seq.args as PyNode[] | undefined) ?? [];
  if (f?._t === 'Name' && ['sorted', 'list', 'tuple', 'reversed'].includes(f.id as string) && args.length === 1)
    return emptiness(args[0]!);
  return seq;
}

/**
 * One more argument for a call (`next(it)` → `next(it, None)`). A lone generator argument has no
 * parentheses of its own (`next(u for u in users)`): it gets them, or the call would not parse.
 */
function addArgument(file: PyFile, call: PyNode, text: string): TextEdit[] {
  const args = call.args as PyNode[];
  const last = args[args.length - 1]!;
  if (args.length === 1 && last._t === 'GeneratorExp' && last.e === call.e) {
    const open = file.source.indexOf('(', (call.func as PyNode).e!);
    const inner = file.source.slice(open + 1, call.e! - 1);
    return [{ start: open, end: call.e!, text: `((${inner}), ${text})` }];
  }
  return [{ start: last.e!, end: last.e!, text: `, ${text}` }];
}
