/**
 * The variants every JavaScript template can offer besides its own fault-site fix: a guard that returns
 * early from the crashing function, a skip of the one bad element in a loop, and validation at the
 * request handler that answers 400 (the value's path lifted up the stack). Verification chooses.
 */
import type { Proposal } from '../../types.ts';
import { fileEdit, indentUnit, lineIndent, type TextEdit } from '../edits.ts';
import { type AccessPath, type Bad, badMessage, badWords, fieldLabel } from '../path.ts';
import {
  enclosingFunction,
  isListedStatement,
  isPure,
  type JsFile,
  lineOf,
  nodeText,
  quoteStyle,
  startOf,
  statementOf,
  ts,
  unwrap,
  usesSemicolons,
} from './ast.ts';
import { follow } from './common.ts';
import { answer400, asHandler, handlerAround } from './http.ts';
import { returnDefault } from './infer.ts';
import { type Anchor, callerCall, isArrowBody, type JsFrame, liftToHandler, pathOf } from './lift.ts';

export interface JsTemplateContext {
  frames: JsFrame[];
  /** `?.` and `??` may be emitted. */
  modern: boolean;
}

/**
 * Edits that put `lines` right before `stmt`, bracing a bare if/loop body when needed; before an arrow's
 * expression body, the body becomes a block that runs them and returns the expression.
 */
export function insertBefore(f: JsFile, stmt: Anchor, lines: string[]): TextEdit[] | undefined {
  const start = startOf(f, stmt);
  if (isArrowBody(stmt)) {
    const { indent } = lineIndent(f.source, startOf(f, stmt.parent));
    const inner = indent + indentUnit(f.source);
    const eol = /\r\n/.test(f.source) ? '\r\n' : '\n';
    const semi = usesSemicolons(f) ? ';' : '';
    const block = [...lines, `return ${nodeText(f, stmt)}${semi}`].map((l) => `${inner}${l}`).join(eol);
    return [{ start, end: stmt.end, text: `{${eol}${block}${eol}${indent}}` }];
  }
  const { indent, lineStart, startsLine } = lineIndent(f.source, start);
  const eol = /\r\n/.test(f.source) ? '\r\n' : '\n';
  if (isListedStatement(stmt)) {
    if (startsLine)
      return [{ start: lineStart, end: lineStart, text: lines.map((l) => `${indent}${l}${eol}`).join('') }];
    return [{ start, end: start, text: `${lines.join(' ')} ` }];
  }
  const p = stmt.parent;
  if (p && (ts.isIfStatement(p) || ts.isIterationStatement(p, false) || ts.isLabeledStatement(p))) {
    return [
      { start, end: start, text: `{ ${lines.join(' ')} ` },
      { start: stmt.end, end: stmt.end, text: ' }' },
    ];
  }
  return undefined;
}

/** A `return` value as text (`return;` when empty). */
function returning(value: string | undefined, semi: string): string {
  return value ? `return ${value}${semi}` : `return${semi}`;
}

/** Where a guard for a fault inside an arrow's expression body goes: the body becomes a block. */
function guardArrow(f: JsFile, fn: ts.ArrowFunction, cond: string, value: string, semi: string): TextEdit[] {
  const body = fn.body as ts.Expression;
  const text = nodeText(f, body);
  const wrapped =
    ts.isObjectLiteralExpression(unwrap(body)) && !ts.isParenthesizedExpression(body) ? `(${text})` : text;
  return [
    {
      start: startOf(f, body),
      end: body.end,
      text: `{ if (${cond}) ${returning(value, semi)} return ${wrapped}${semi} }`,
    },
  ];
}

export interface GuardSite {
  file: JsFile;
  /** The node that crashes (its statement gets the guard). */
  at: ts.Node;
  /** The value that is bad, evaluated in the guard's condition (must be pure and in scope). */
  value: ts.Expression;
  /** The condition, given the value's text. */
  cond: (value: string) => string;
  /** Words for the summary: what is bad about the value. */
  what: string;
  strategy: string;
  confidence: number;
  /** The stack, innermost first: what the caller does with the return value sets the early return's. */
  frames?: JsFrame[];
}

/**
 * `if (<bad>) return <default>;` before the crashing statement, in the crashing function, and — when the
 * statement runs in a loop over the bad value's container — `continue;` to skip the one bad element.
 */
export function guardVariants(site: GuardSite): Proposal[] {
  const { file: f } = site;
  const fn = enclosingFunction(site.at);
  if (!fn || !isPure(site.value) || asHandler(f, fn)) return [];
  // A callback inside a handler that answers the request itself (req.on('end', …)) must answer, not return.
  const handler = handlerAround(f, site.at);
  if (handler && new RegExp(`\\b${handler.responder}\\s*\\.`).test(nodeText(f, fn))) return [];
  const semi = usesSemicolons(f) ? ';' : '';
  const quote = quoteStyle(f);
  const valueText = nodeText(f, site.value);
  // The value must not depend on anything the statement itself declares.
  const stmt = statementOf(site.at);
  if (!stmt && !(ts.isArrowFunction(fn) && !ts.isBlock(fn.body))) return [];
  const cond = site.cond(valueText);
  let dflt = returnDefault(f, fn, quote);
  if ((dflt === 'undefined' || dflt === '') && site.frames) {
    const up = callerCall(site.frames, fn);
    const g = up && follow(up.file, up.call);
    if (g?.chainDefault && !g.blocked) dflt = g.chainDefault;
  }
  const out: Proposal[] = [];
  const name = fn.name && ts.isIdentifier(fn.name) ? fn.name.text : 'the function';
  const where = `${f.path}:${lineOf(f, startOf(f, site.at))}`;
  if (ts.isArrowFunction(fn) && !ts.isBlock(fn.body)) {
    const edit = fileEdit(f.path, f.source, guardArrow(f, fn, cond, dflt ?? 'undefined', semi));
    if (edit)
      out.push({
        strategy: `${site.strategy}:guard`,
        summary: `return early from the callback when ${site.what} (${where})`,
        confidence: site.confidence,
        edits: [edit],
      });
    return out;
  }
  if (!stmt || declaresIn(stmt, valueText)) return [];
  const guard = insertBefore(f, stmt, [`if (${cond}) ${returning(dflt === '' ? undefined : dflt, semi)}`]);
  const edit = guard && fileEdit(f.path, f.source, guard);
  if (edit) {
    out.push({
      strategy: `${site.strategy}:guard`,
      summary: `return ${dflt ? `\`${dflt}\`` : 'early'} from ${name} when ${site.what} (${where})`,
      confidence: site.confidence,
      edits: [edit],
    });
  }
  // Skip the bad element: the statement runs in a for…of over the value's container.
  const rooted = pathOf(site.value);
  for (let p: ts.Node | undefined = stmt.parent; p && p !== fn; p = p.parent) {
    if (!ts.isForOfStatement(p) && !ts.isForStatement(p)) continue;
    if (!rooted?.path.steps.some((s) => s.k === 'each') && !(ts.isForStatement(p) && valueText.includes('['))) break;
    const skip = insertBefore(f, stmt, [`if (${cond}) continue${semi}`]);
    const e = skip && fileEdit(f.path, f.source, skip);
    if (e)
      out.push({
        strategy: `${site.strategy}:skip`,
        summary: `skip the element when ${site.what} (${where})`,
        confidence: site.confidence - 0.1,
        edits: [e],
      });
    break;
  }
  return out;
}

/** The statement declares a name the value reads: the guard cannot run before it. */
function declaresIn(stmt: ts.Statement, valueText: string): boolean {
  const names = new Set<string>();
  if (ts.isVariableStatement(stmt)) {
    const add = (b: ts.BindingName) => {
      if (ts.isIdentifier(b)) names.add(b.text);
      else for (const el of b.elements) if (!ts.isOmittedExpression(el)) add(el.name);
    };
    for (const d of stmt.declarationList.declarations) add(d.name);
  }
  return [...names].some((n) => new RegExp(`(^|[^\\w$.])${n.replace(/\$/g, '\\$')}([^\\w$]|$)`).test(valueText));
}

/** A JavaScript condition, true when the value at `path` is bad: safe to evaluate on any input. */
export function pathCondition(path: AccessPath, bad: Bad, modern: boolean, item = 'item'): string {
  const eachAt = path.steps.findIndex((s) => s.k === 'each');
  const prefix = eachAt < 0 ? path.steps : path.steps.slice(0, eachAt);
  const access = (root: string, steps: AccessPath['steps'], optional: boolean) => {
    let out = root;
    steps.forEach((s, i) => {
      // The framework's request object is always there: no `?.` right after it.
      const opt = optional && !(i === 0 && /^(req|request|ctx|context)$/.test(root));
      if (s.k === 'prop') out += opt ? `?.${s.name}` : `.${s.name}`;
      else if (s.k === 'key') out += `${opt ? '?.' : ''}[${JSON.stringify(s.key)}]`;
      else if (s.k === 'get') out += `${opt ? '?.' : '.'}get(${JSON.stringify(s.key)})`;
    });
    return out;
  };
  // Old syntax: test every prefix for null before reading through it.
  const guardChain = (root: string, steps: AccessPath['steps']) => {
    const parts: string[] = [];
    for (let i = 0; i < steps.length; i++) parts.push(`${access(root, steps.slice(0, i), false)} == null`);
    return parts;
  };
  const test = (value: string) => {
    switch (bad) {
      case 'empty':
        return `!Array.isArray(${value}) || ${value}.length === 0`;
      case 'not-array':
        return `!Array.isArray(${value})`;
      case 'not-string':
        return `typeof ${value} !== 'string'`;
      case 'not-function':
        return `typeof ${value} !== 'function'`;
      case 'zero':
        return `Number(${value}) === 0`;
      case 'not-number':
        return `Number.isNaN(Number(${value}))`;
      case 'not-number-type':
        return `typeof ${value} !== 'number'`;
      case 'invalid-date':
        return `Number.isNaN(new Date(${value}).getTime())`;
      default:
        return `${value} == null`;
    }
  };
  const whole = (root: string, steps: AccessPath['steps']) => {
    // Type checks (Array.isArray, typeof) are false for null and undefined already.
    const typed = bad !== 'nullish' && bad !== 'missing' && bad !== 'zero';
    if (modern) {
      const v = access(root, steps, true);
      if (typed) return test(v);
      return bad === 'nullish' || bad === 'missing' ? `${v} == null` : `${v} == null || ${test(v)}`;
    }
    const chain = [...guardChain(root, steps), `${access(root, steps, false)} == null`];
    const v = access(root, steps, false);
    if (bad === 'nullish' || bad === 'missing') return chain.join(' || ');
    return [...chain.slice(0, typed ? -1 : undefined), test(v)].join(' || ');
  };
  if (eachAt < 0) return whole(path.root, prefix);
  const rest = path.steps.slice(eachAt + 1);
  const list = modern ? access(path.root, prefix, true) : access(path.root, prefix, false);
  const inner = pathCondition({ root: item, steps: rest }, bad, modern, `${item}_`);
  const listNull = modern ? '' : `${[...guardChain(path.root, prefix)].join(' || ')}${prefix.length ? ' || ' : ''}`;
  return `${listNull}!Array.isArray(${list}) || ${list}.some((${item}) => ${inner})`;
}

/** The path as an expression that is undefined, not an error, when a step is missing (where `?.` parses). */
export function pathText(path: AccessPath, modern: boolean): string | undefined {
  let out = path.root;
  const q = modern ? '?.' : '';
  path.steps.forEach((s, i) => {
    const opt = i > 0 || !/^(req|request|ctx|context)$/.test(path.root) ? q : '';
    if (s.k === 'prop') out += opt ? `${opt}${s.name}` : `.${s.name}`;
    else if (s.k === 'key') out += `${opt}[${JSON.stringify(s.key)}]`;
    else if (s.k === 'get') out += `${opt || '.'}get(${JSON.stringify(s.key)})`;
    else out = '';
  });
  return out || undefined;
}

export interface BoundarySite {
  file: JsFile;
  /** The crashing node (its statement anchors the lift). */
  at: ts.Node;
  value: ts.Expression;
  bad: Bad;
  strategy: string;
  confidence: number;
  /** Parser named in the message for `unparseable`. */
  parser?: string;
}

/** Validation in the request handler: answer 400 with a clear message before the bad value is used. */
export function boundaryVariant(ctx: JsTemplateContext, site: BoundarySite): Proposal | undefined {
  const lifted = liftToHandler(ctx.frames, site.value, site.at);
  if (!lifted) return undefined;
  return boundaryAt(ctx, lifted.file, lifted.anchor, lifted.handler, lifted.path, site, lifted.hops);
}

export function boundaryAt(
  ctx: JsTemplateContext,
  f: JsFile,
  anchor: Anchor,
  handler: NonNullable<ReturnType<typeof asHandler>>,
  path: AccessPath,
  site: Pick<BoundarySite, 'bad' | 'strategy' | 'confidence' | 'parser'>,
  hops: number,
  condition?: string,
  /** More edits of the same file the check needs (an import of what it reads). */
  extra: TextEdit[] = [],
): Proposal | undefined {
  const semi = usesSemicolons(f) ? ';' : '';
  const quote = quoteStyle(f);
  const message = badMessage(path, site.bad, site.parser);
  const cond = condition ?? pathCondition(path, site.bad, ctx.modern);
  const ans = answer400(f, handler, anchor, message, quote, semi === ';');
  const unit = indentUnit(f.source);
  const lines = [`if (${cond}) {`, ...ans.lines.map((l) => `${unit}${l}`), '}'];
  const edits = insertBefore(
    f,
    anchor,
    isListedStatement(anchor) || isArrowBody(anchor) ? lines : [`if (${cond}) { ${ans.lines.join(' ')} }`],
  );
  const edit = edits && fileEdit(f.path, f.source, [...extra, ...edits]);
  if (!edit) return undefined;
  const label = fieldLabel(path) || 'the request body';
  return {
    strategy: `${site.strategy}:validate`,
    summary: `answer 400 (${message}) in the ${handler.framework} handler when ${label} is ${badWords(site.bad)} (${f.path}:${lineOf(f, startOf(f, anchor))}${hops ? `, ${hops} call(s) above the crash` : ''})`,
    confidence: site.confidence,
    edits: [edit],
  };
}

export { unwrap };
