/**
 * The variants every Python template can offer besides its own fault-site fix: a guard that returns early
 * from the crashing function, a skip of the one bad element (a `continue` in a loop, a filter in a
 * comprehension), and validation in the request handler answering 400 (the path lifted up the stack).
 */
import type { Proposal } from '../../types.ts';
import { eolOf, fileEdit, indentUnit, lineIndent, type TextEdit } from '../edits.ts';
import { type AccessPath, type Bad, badMessage, badWords, fieldLabel } from '../path.ts';
import { boundNames, FUNCTIONS, isPure, loadedNames, type PyFile, type PyNode, pyString, quoteStyle } from './ast.ts';
import { followPy, rootName } from './common.ts';
import { answer400Py, asHandlerPy, type PyHandler } from './http.ts';
import { returnDefaultPy } from './infer.ts';
import { callerCall, liftToHandlerPy, type PyFrame } from './lift.ts';

export interface PyTemplateContext {
  frames: PyFrame[];
}

const COMPREHENSIONS = new Set(['ListComp', 'SetComp', 'GeneratorExp', 'DictComp']);

/** A statement on its own line(s), in a block: lines can go right before it. */
function insertable(file: PyFile, stmt: PyNode): boolean {
  return file.listOf(stmt) !== undefined && lineIndent(file.source, stmt.s!).startsLine;
}

/** Edits that put `lines` (indented like `stmt`) right before it. */
export function insertBeforePy(file: PyFile, stmt: PyNode, lines: string[]): TextEdit[] | undefined {
  if (!insertable(file, stmt)) return undefined;
  const { indent, lineStart } = lineIndent(file.source, stmt.s!);
  const eol = eolOf(file.source);
  return [{ start: lineStart, end: lineStart, text: lines.map((l) => `${indent}${l}${eol}`).join('') }];
}

/** A string literal spanning lines would change if re-indented. */
function hasMultilineString(file: PyFile, n: PyNode): boolean {
  return [n, ...file.descendants(n)].some(
    (x) =>
      (x._t === 'Constant' && x.vt === 'str' && file.text(x).includes('\n')) ||
      (x._t === 'JoinedStr' && file.text(x).includes('\n')),
  );
}

/** Puts `stmt` (re-indented one level) under `header` lines, with `after` lines at the header's level. */
export function wrapStatement(
  file: PyFile,
  stmt: PyNode,
  header: string[],
  after: string[] = [],
): TextEdit[] | undefined {
  if (!insertable(file, stmt) || hasMultilineString(file, stmt)) return undefined;
  const { indent, lineStart } = lineIndent(file.source, stmt.s!);
  const unit = indentUnit(file.source);
  const eol = eolOf(file.source);
  // The statement's own lines, from its line start to its end (comments after it on the line stay put).
  const body = file.source.slice(lineStart, stmt.e!);
  const reindented = body
    .split(/\r?\n/)
    .map((l) => (l.trim() ? `${unit}${l}` : l))
    .join(eol);
  const text = [...header.map((h) => `${indent}${h}`), reindented, ...after.map((a) => `${indent}${a}`)].join(eol);
  return [{ start: lineStart, end: stmt.e!, text }];
}

/** The negation of a simple condition written the way a person would (`k in d`, `x is not None`, `x`). */
export function negatePy(cond: string): string {
  if (/ or | and /.test(cond)) return `not (${cond})`;
  let m = /^(.+) not in (.+)$/.exec(cond);
  if (m) return `${m[1]} in ${m[2]}`;
  m = /^(.+) is None$/.exec(cond);
  if (m) return `${m[1]} is not None`;
  m = /^not (.+)$/.exec(cond);
  if (m && !/\s/.test(m[1]!.replace(/\([^()]*\)|\[[^[\]]*\]/g, ''))) return m[1]!;
  return `not (${cond})`;
}

/** A test without side effects: names, constants, reads, comparisons and `and`/`or`/`not` of them. */
function pureTest(n: PyNode): boolean {
  if (isPure(n)) return true;
  if (n._t === 'Compare') return [n.left as PyNode, ...(n.comparators as PyNode[])].every(pureTest);
  if (n._t === 'BoolOp') return (n.values as PyNode[]).every(pureTest);
  return n._t === 'UnaryOp' && pureTest(n.operand as PyNode);
}

/**
 * What must hold for `at` to be evaluated at all within its statement — the tests of the conditional
 * expressions (`x if c else y`) and the earlier operands of `and`/`or` around it — outermost first;
 * undefined when one of them is not a pure test (it cannot be repeated before the statement).
 */
export function evaluatedWhen(file: PyFile, at: PyNode, stmt: PyNode): string[] | undefined {
  const conds: string[] = [];
  let cur = at;
  for (const a of file.ancestors(at)) {
    if (a === stmt) break;
    const inner: string[] = [];
    if (a._t === 'IfExp' && a.test !== cur) {
      const t = a.test as PyNode;
      if (!pureTest(t)) return undefined;
      inner.push(a.body === cur ? file.text(t) : negatePy(file.text(t)));
    } else if (a._t === 'BoolOp') {
      const vals = a.values as PyNode[];
      for (const v of vals.slice(0, vals.indexOf(cur))) {
        if (!pureTest(v)) return undefined;
        inner.push((a.op as PyNode)._t === 'And' ? file.text(v) : negatePy(file.text(v)));
      }
    }
    conds.unshift(...inner.map((c) => (/ or /.test(c) && !/^not \(/.test(c) ? `(${c})` : c)));
    cur = a;
  }
  return conds;
}

export interface PyGuardSite {
  file: PyFile;
  at: PyNode;
  value: PyNode;
  /** The Python condition, given the value's text, true when it is bad. */
  cond: (value: string) => string;
  what: string;
  strategy: string;
  confidence: number;
  /** The stack, innermost first: what the caller does with the return value sets the early return's. */
  frames?: PyFrame[];
}

export function where(file: PyFile, n: PyNode): string {
  return `${file.path}:${file.lineOf(n.s ?? 0)}`;
}

/**
 * `if <bad>: return <default>` before the crashing statement; `continue` in a loop over the value's
 * container; a filter clause when the crash is inside a comprehension over it.
 */
export function guardVariantsPy(site: PyGuardSite): Proposal[] {
  const { file, at, value } = site;
  const out: Proposal[] = [];
  if (!isPure(value)) return out;
  const valueText = file.text(value);
  const cond = site.cond(valueText);
  const names = new Set(loadedNames(file, value));
  const unit = indentUnit(file.source);
  // Inside a comprehension over the value's container: filter the bad elements out.
  const comp = file.ancestors(at).find((a) => COMPREHENSIONS.has(a._t));
  if (comp && file.functionOf(at) === file.functionOf(comp)) {
    const gens = comp.generators as PyNode[];
    const binds = gens.flatMap((g) => boundNames(g.target as PyNode));
    if (binds.some((b) => names.has(b))) {
      const last = gens[gens.length - 1]!;
      const ifs = last.ifs as PyNode[];
      const endAt = (ifs.length ? ifs[ifs.length - 1]! : (last.iter as PyNode)).e!;
      const edit = fileEdit(file.path, file.source, [{ start: endAt, end: endAt, text: ` if ${negatePy(cond)}` }]);
      if (edit)
        out.push({
          strategy: `${site.strategy}:skip`,
          summary: `leave out the elements where ${site.what} (${where(file, at)})`,
          confidence: site.confidence - 0.1,
          edits: [edit],
        });
      return out;
    }
  }
  const fn = file.functionOf(at);
  const stmt = file.statementOf(at);
  if (!fn || fn._t === 'Lambda' || !stmt || asHandlerPy(file, fn)) return out;
  // Names the statement binds before evaluating the value (a for loop's target) are not yet bound.
  if (['For', 'AsyncFor'].includes(stmt._t) && boundNames(stmt.target as PyNode).some((b) => names.has(b))) return out;
  let dflt = returnDefaultPy(file, fn);
  if ((dflt === 'None' || dflt === '') && site.frames) {
    const up = callerCall(site.frames, fn);
    const g = up && followPy(up.file, up.call, up.file.functionOf(up.call));
    if (g && !g.blocked && g.dflt !== 'None') dflt = g.dflt;
  }
  // Hoisted before the statement, the test must hold only where the statement would have evaluated it.
  const when = evaluatedWhen(file, at, stmt);
  if (!when) return out;
  const test = when.length ? [...when, / or /.test(cond) ? `(${cond})` : cond].join(' and ') : cond;
  const ret = dflt ? `return ${dflt}` : 'return';
  const guard = insertBeforePy(file, stmt, [`if ${test}:`, `${unit}${ret}`]);
  const edit = guard && fileEdit(file.path, file.source, guard);
  if (edit) {
    out.push({
      strategy: `${site.strategy}:guard`,
      summary: `${dflt ? `return ${dflt}` : 'return early'} from ${fn.name as string}() when ${site.what} (${where(file, at)})`,
      confidence: site.confidence,
      edits: [edit],
    });
  }
  const outer = callerGuard(site, fn, cond);
  if (outer) out.push(outer);
  for (const loop of file.ancestors(stmt)) {
    if (loop === fn || FUNCTIONS.has(loop._t)) break;
    if (loop._t !== 'For' && loop._t !== 'AsyncFor') continue;
    if (!boundNames(loop.target as PyNode).some((b) => names.has(b))) break;
    const skip = insertBeforePy(file, stmt, [`if ${test}:`, `${unit}continue`]);
    const e = skip && fileEdit(file.path, file.source, skip);
    if (e)
      out.push({
        strategy: `${site.strategy}:skip`,
        summary: `skip the element when ${site.what} (${where(file, at)})`,
        confidence: site.confidence - 0.1,
        edits: [e],
      });
    break;
  }
  return out;
}

/**
 * The object's own state (`self.readings`) is the same in the method of its class that called the
 * crashing one (`self.peak()` in `report()`): a guard there also spares the calls that method makes next
 * on the same state (`self.low()`), which a guard in the crashing method cannot.
 */
function callerGuard(site: PyGuardSite, fn: PyNode, cond: string): Proposal | undefined {
  const { file, value } = site;
  const up = site.frames && callerCall(site.frames, fn);
  if (!up || up.file !== file || rootName(value) !== 'self') return undefined;
  const outer = file.functionOf(up.call);
  const callee = up.call.func as PyNode;
  const cls = file.parent(fn);
  if (
    !outer ||
    cls?._t !== 'ClassDef' ||
    file.parent(outer) !== cls ||
    asHandlerPy(file, outer) ||
    callee._t !== 'Attribute' ||
    file.text(callee.value as PyNode) !== 'self'
  )
    return undefined;
  const stmt = file.statementOf(up.call);
  const when = stmt && evaluatedWhen(file, up.call, stmt);
  if (!stmt || !when) return undefined;
  const test = when.length ? [...when, / or /.test(cond) ? `(${cond})` : cond].join(' and ') : cond;
  const dflt = returnDefaultPy(file, outer);
  const lines = [`if ${test}:`, `${indentUnit(file.source)}${dflt ? `return ${dflt}` : 'return'}`];
  const edits = insertBeforePy(file, stmt, lines);
  const edit = edits && fileEdit(file.path, file.source, edits);
  return edit
    ? {
        strategy: `${site.strategy}:guard-caller`,
        summary: `${dflt ? `return ${dflt}` : 'return early'} from ${outer.name as string}() when ${site.what}, before it calls ${fn.name as string}() (${where(file, stmt)})`,
        confidence: Math.round((site.confidence - 0.05) * 100) / 100,
        edits: [edit],
      }
    : undefined;
}

/** A Python condition, true when the value at `path` is bad; safe on any input (each step type-checked). */
export function pathConditionPy(path: AccessPath, bad: Bad, q: "'" | '"', item = '_item'): string {
  const conds: string[] = [];
  let cur = path.root;
  const steps = path.steps;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const last = i === steps.length - 1;
    if (s.k === 'each') {
      const inner = pathConditionPy({ root: item, steps: steps.slice(i + 1) }, bad, q, `${item}_`);
      conds.push(`not isinstance(${cur}, (list, tuple))`, `any(${inner} for ${item} in ${cur})`);
      return conds.join(' or ');
    }
    if (s.k === 'prop') {
      conds.push(`${cur} is None`);
      cur = `${cur}.${s.name}`;
    } else if (s.k === 'get') {
      conds.push(`not isinstance(${cur}, dict)`);
      cur = `${cur}.get(${pyString(s.key, q)}${s.fallback ? `, ${s.fallback}` : ''})`;
    } else if (typeof s.key === 'number') {
      conds.push(
        `not isinstance(${cur}, (list, tuple))`,
        s.key >= 0 ? `len(${cur}) <= ${s.key}` : `len(${cur}) < ${-s.key}`,
      );
      cur = `${cur}[${s.key}]`;
    } else {
      const key = pyString(s.key, q);
      conds.push(`not isinstance(${cur}, dict)`, `${key} not in ${cur}`);
      cur = `${cur}[${key}]`;
      if (last && bad === 'missing') return conds.join(' or ');
    }
  }
  switch (bad) {
    case 'empty':
      conds.push(`not ${cur}`);
      break;
    case 'zero':
      conds.push(`${cur} is None`, `${cur} == 0`);
      break;
    case 'not-array':
      conds.push(`not isinstance(${cur}, (list, tuple))`);
      break;
    default:
      conds.push(`${cur} is None`);
  }
  return conds.join(' or ');
}

/** A path as Python source (`order["items"]`, `req.args.get("q")`); undefined through a list's elements. */
export function pathTextPy(path: AccessPath, q: "'" | '"'): string | undefined {
  let out = path.root;
  for (const s of path.steps) {
    if (s.k === 'each') return undefined;
    if (s.k === 'prop') out += `.${s.name}`;
    else if (s.k === 'get') out += `.get(${pyString(s.key, q)}${s.fallback ? `, ${s.fallback}` : ''})`;
    else out += typeof s.key === 'number' ? `[${s.key}]` : `[${pyString(s.key, q)}]`;
  }
  return out;
}

export interface PyBoundarySite {
  file: PyFile;
  at: PyNode;
  value: PyNode;
  bad: Bad;
  strategy: string;
  confidence: number;
  parser?: string;
  /** Extra path steps after the value's own (the key a KeyError names). */
  extra?: AccessPath['steps'];
}

export function boundaryVariantPy(ctx: PyTemplateContext, site: PyBoundarySite): Proposal | undefined {
  const lifted = liftToHandlerPy(ctx.frames, site.value, site.at);
  if (!lifted) return undefined;
  const path = { ...lifted.path, steps: [...lifted.path.steps, ...(site.extra ?? [])] };
  if (path.steps.length === 0) return undefined;
  return boundaryAtPy(lifted.file, lifted.anchor, lifted.handler, path, site, lifted.hops);
}

/** The first of several candidate values (the trace does not say which) whose path lifts to a handler. */
export function firstBoundaryPy(
  ctx: PyTemplateContext,
  candidates: { at: PyNode; value: PyNode }[],
  site: Omit<PyBoundarySite, 'at' | 'value'>,
): Proposal[] {
  for (const c of candidates) {
    const b = boundaryVariantPy(ctx, { ...site, at: c.at, value: c.value });
    if (b) return [b];
  }
  return [];
}

export function boundaryAtPy(
  file: PyFile,
  anchor: PyNode,
  handler: PyHandler,
  path: AccessPath,
  site: Pick<PyBoundarySite, 'bad' | 'strategy' | 'confidence' | 'parser'>,
  hops: number,
  condition?: string,
  check?: string[],
  /** More edits of the same file the check needs (an import of what it reads). */
  extra: TextEdit[] = [],
): Proposal | undefined {
  const q = quoteStyle(file);
  const message = badMessage(path, site.bad, site.parser);
  const ans = answer400Py(file, handler, anchor, message);
  const unit = indentUnit(file.source);
  const lines = check
    ? [...check, ...ans.lines.map((l) => `${unit}${l}`)]
    : [`if ${condition ?? pathConditionPy(path, site.bad, q)}:`, ...ans.lines.map((l) => `${unit}${l}`)];
  const edits = insertBeforePy(file, anchor, lines);
  const edit = edits && fileEdit(file.path, file.source, [...extra, ...edits]);
  if (!edit) return undefined;
  const label = fieldLabel(path) || 'the request body';
  return {
    strategy: `${site.strategy}:validate`,
    summary: `answer 400 (${message}) in the ${handler.framework} handler ${handler.fn.name as string}() when ${label} is ${badWords(site.bad)} (${where(file, anchor)}${hops ? `, ${hops} call(s) above the crash` : ''})`,
    confidence: site.confidence,
    edits: [edit],
  };
}
