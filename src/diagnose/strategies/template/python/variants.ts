/**
 * The variants every Python template can offer besides its own fault-site fix: a guard that returns early
 * from the crashing function, a skip of the one bad element (a `continue` in a loop, a filter in a
 * comprehension), and validation in the request handler answering 400 (the path lifted up the stack).
 */
import type { Proposal } from '../../types.ts';
import { eolOf, fileEdit, indentUnit, lineIndent, type TextEdit } from '../edits.ts';
import { type AccessPath, type Bad, badMessage, badWords, fieldLabel } from '../path.ts';
import { boundNames, FUNCTIONS, isPure, loadedNames, type PyFile, type PyNode, pyString, quoteStyle } from './ast.ts';
import { followPy } from './common.ts';
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
  const ret = dflt ? `return ${dflt}` : 'return';
  const guard = insertBeforePy(file, stmt, [`if ${cond}:`, `${unit}${ret}`]);
  const edit = guard && fileEdit(file.path, file.source, guard);
  if (edit) {
    out.push({
      strategy: `${site.strategy}:guard`,
      summary: `${dflt ? `return ${dflt}` : 'return early'} from ${fn.name as string}() when ${site.what} (${where(file, at)})`,
      confidence: site.confidence,
      edits: [edit],
    });
  }
  for (const loop of file.ancestors(stmt)) {
    if (loop === fn || FUNCTIONS.has(loop._t)) break;
    if (loop._t !== 'For' && loop._t !== 'AsyncFor') continue;
    if (!boundNames(loop.target as PyNode).some((b) => names.has(b))) break;
    const skip = insertBeforePy(file, stmt, [`if ${cond}:`, `${unit}continue`]);
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
): Proposal | undefined {
  const q = quoteStyle(file);
  const message = badMessage(path, site.bad, site.parser);
  const ans = answer400Py(file, handler, anchor, message);
  const unit = indentUnit(file.source);
  const lines = check
    ? [...check, ...ans.lines.map((l) => `${unit}${l}`)]
    : [`if ${condition ?? pathConditionPy(path, site.bad, q)}:`, ...ans.lines.map((l) => `${unit}${l}`)];
  const edits = insertBeforePy(file, anchor, lines);
  const edit = edits && fileEdit(file.path, file.source, edits);
  if (!edit) return undefined;
  const label = fieldLabel(path) || 'the request body';
  return {
    strategy: `${site.strategy}:validate`,
    summary: `answer 400 (${message}) in the ${handler.framework} handler ${handler.fn.name as string}() when ${label} is ${badWords(site.bad)} (${where(file, anchor)}${hops ? `, ${hops} call(s) above the crash` : ''})`,
    confidence: site.confidence,
    edits: [edit],
  };
}
