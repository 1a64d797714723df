/** Shared by the Python crash-class modules: the crash site, the chain around it, the value after it. */
import type { Proposal } from '../../types.ts';
import { proposalFor, type TextEdit } from '../edits.ts';
import { type PyFile, type PyNode, quoteStyle, unpackedAsMapping } from './ast.ts';
import { agreedKindPy, defaultForPy, flowsToFallbackPy, kindOfPy, nameFallsBack, usesOfPy } from './infer.ts';
import { callerCall, type PyFrame } from './lift.ts';

/** The crash statement at the innermost frame and its expression nodes on the frame's line. */
export function crashSite(fr: PyFrame): { stmt: PyNode; nodes: PyNode[] } | undefined {
  const stmt = fr.file.statementAtLine(fr.frame.line);
  if (!stmt) return undefined;
  let nodes = fr.file.exprsAtLine(stmt, fr.frame.line);
  if (nodes.length === 0) nodes = fr.file.exprsAtLine(stmt, fr.file.lineOf(stmt.s ?? 0));
  return { stmt, nodes };
}

/** `a.b[0].c()` around `a.b`: what a short-circuit at `a.b` has to skip. */
export function chainAbovePy(file: PyFile, n: PyNode): PyNode {
  let cur = n;
  for (;;) {
    const p = file.parent(cur);
    if (
      p &&
      ((p._t === 'Attribute' && p.value === cur) ||
        (p._t === 'Subscript' && p.value === cur) ||
        (p._t === 'Call' && p.func === cur))
    ) {
      cur = p;
      continue;
    }
    return cur;
  }
}

export interface FollowedPy {
  /** The neutral default the chain's context needs (None when it needs none). */
  dflt: string;
  fallback: boolean;
  blocked: boolean;
  /** The chain is the whole right-hand side of an assignment or a return: no parentheses needed. */
  whole: boolean;
}

/**
 * Follows the value of `chain` (now possibly None) through its context: the name it is assigned to and
 * that name's later uses, or the operation it feeds (iteration, len(), arithmetic, a format spec).
 */
export function followPy(file: PyFile, chain: PyNode, scope: PyNode | undefined, frames?: PyFrame[]): FollowedPy {
  const q = quoteStyle(file);
  const out: FollowedPy = { dflt: 'None', fallback: flowsToFallbackPy(file, chain), blocked: false, whole: false };
  const p = file.parent(chain);
  if (!p) return out;
  if ((p._t === 'Assign' || p._t === 'AnnAssign') && p.value === chain) {
    out.whole = true;
    const targets = p._t === 'Assign' ? (p.targets as PyNode[]) : [p.target as PyNode];
    if (targets.length !== 1 || targets[0]!._t !== 'Name') {
      if (targets.length === 1 && ['Tuple', 'List'].includes(targets[0]!._t)) out.blocked = true;
      return out;
    }
    const name = targets[0]!.id as string;
    const uses = usesOfPy(file, scope ?? file.tree, name, p.e!);
    out.fallback ||= uses.handled || nameFallsBack(file, scope ?? file.tree, name, p.e!);
    if (uses.handled) return out;
    const kind = agreedKindPy(uses.crashy);
    if (kind === 'unknown') out.blocked = true;
    else if (kind) out.dflt = defaultForPy(kind, q)!;
    return out;
  }
  // A branch of `a if c else b`: the conditional's value is what flows on.
  if (p._t === 'IfExp' && (p.body === chain || p.orelse === chain)) {
    const g = followPy(file, p, scope, frames);
    return { ...g, whole: false, fallback: out.fallback || g.fallback };
  }
  if (p._t === 'Return' || (p._t === 'Expr' && p.value === chain)) {
    out.whole = p._t === 'Return';
    // Returned: what the caller does with it decides the default (one call up).
    const up = p._t === 'Return' && frames ? callerCall(frames, scope) : undefined;
    if (up) {
      const g = followPy(up.file, up.call, up.file.functionOf(up.call));
      return { ...g, whole: true, fallback: out.fallback || g.fallback };
    }
    return out;
  }
  if ((p._t === 'For' || p._t === 'AsyncFor' || p._t === 'comprehension') && p.iter === chain) out.dflt = '[]';
  else if (p._t === 'Call' && (p.func as PyNode)._t === 'Name') {
    const f = (p.func as PyNode).id as string;
    if (['len', 'sum', 'sorted', 'list', 'tuple', 'set', 'min', 'max', 'any', 'all', 'enumerate', 'zip'].includes(f))
      out.dflt = '[]';
    if (['int', 'float', 'round', 'abs', 'Decimal'].includes(f)) out.dflt = '0';
  } else if (p._t === 'BinOp') {
    const other = (p.left === chain ? p.right : p.left) as PyNode;
    const k = kindOfPy(file, other);
    out.dflt = k === 'string' ? `${q}${q}` : k === 'list' ? '[]' : '0';
  } else if (p._t === 'Compare') {
    const ops = (p.ops as PyNode[]).map((o) => o._t);
    const comps = p.comparators as PyNode[];
    if (comps.includes(chain) && ['In', 'NotIn'].includes(ops[comps.indexOf(chain)]!)) out.dflt = '()';
    else if (ops.some((o) => ['Lt', 'Gt', 'LtE', 'GtE'].includes(o))) out.dflt = '0';
  } else if (p._t === 'AugAssign') out.dflt = '0';
  else if (unpackedAsMapping(p, chain)) out.dflt = '{}';
  else if (p._t === 'Starred') out.dflt = '[]';
  else if (p._t === 'FormattedValue' && p.format_spec) out.dflt = '0';
  return out;
}

/**
 * `<chain> if <ok> else <default>` in place of the chain: parenthesised unless it stands alone (a whole
 * assigned or returned value, a call argument, a keyword value).
 */
export function conditional(file: PyFile, chain: PyNode, ok: string, dflt: string, whole: boolean): TextEdit {
  const text = `${file.text(chain)} if ${ok} else ${dflt}`;
  const p = file.parent(chain);
  const alone =
    whole ||
    (p?._t === 'Call' && (p.args as PyNode[]).includes(chain)) ||
    p?._t === 'keyword' ||
    ((p?._t === 'Return' || p?._t === 'Assign' || p?._t === 'AnnAssign') && p.value === chain);
  return { start: chain.s!, end: chain.e!, text: alone ? text : `(${text})` };
}

export function proposalPy(
  file: PyFile,
  edits: TextEdit[],
  strategy: string,
  summary: string,
  confidence: number,
): Proposal | undefined {
  return proposalFor(file, edits, strategy, summary, confidence);
}

/**
 * Candidates by the trace's caret span (Python 3.11+): those exactly at it, else those inside it, else
 * all of them (no span, or it matches none).
 */
export function bySpan<T>(fr: PyFrame, sites: T[], nodeOf: (s: T) => PyNode): T[] {
  const span = fr.span;
  if (!span) return sites;
  const exact = sites.filter((s) => nodeOf(s).s === span.start && nodeOf(s).e === span.end);
  if (exact.length) return exact;
  const inside = sites.filter((s) => (nodeOf(s).s ?? -1) >= span.start && (nodeOf(s).e ?? -1) <= span.end);
  return inside.length ? inside : sites;
}

/**
 * Later reads of the same value the same way in the function (`order["shipping"]["address"]` again two
 * lines down): they fail for the same input, so a complete fault-site fix covers them too. Only when the
 * value's root name is not assigned in between.
 */
export function siblings(file: PyFile, at: PyNode, same: (n: PyNode) => boolean, root: string | undefined): PyNode[] {
  const fn = file.functionOf(at);
  if (!fn || !root) return [];
  const later = file.descendants(fn, { functions: false }).filter((n) => (n.s ?? 0) >= at.e! && same(n));
  const reassigned = file
    .descendants(fn, { functions: false })
    .find(
      (n) => n._t === 'Name' && n.id === root && (n.ctx as PyNode | undefined)?._t === 'Store' && (n.s ?? 0) >= at.e!,
    );
  return later.filter((n) => !reassigned || (n.s ?? 0) < reassigned.s!);
}

/** The variable a pure value starts at (`order` in `order["a"].b`). */
export function rootName(n: PyNode): string | undefined {
  let cur = n;
  for (;;) {
    if (cur._t === 'Name') return cur.id as string;
    if (cur._t === 'Attribute' || cur._t === 'Subscript') cur = cur.value as PyNode;
    else if (cur._t === 'Call' && (cur.func as PyNode)._t === 'Attribute') cur = (cur.func as PyNode).value as PyNode;
    else return undefined;
  }
}

/** Drops edits nested in (or overlapping) an earlier one. */
export function disjoint(edits: TextEdit[]): TextEdit[] {
  const out: TextEdit[] = [];
  for (const e of [...edits].sort((a, b) => a.start - b.start)) {
    const prev = out[out.length - 1];
    if (prev && e.start < prev.end) continue;
    out.push(e);
  }
  return out;
}
