/**
 * JavaScript/TypeScript: request input its parser rejects — `JSON.parse` (SyntaxError), `new Date(x)`
 * (RangeError: Invalid time value), `Number()`/`parseInt`/`parseFloat` (NaN reaching `new Array`,
 * `toFixed`, `BigInt`), `BigInt(x)`, `new URL(x)` — answered with 400 instead of 500. Variants: catch the
 * parse where the handler does it (`let body; try { body = JSON.parse(raw); } catch { 400 }`), and check
 * the input in the handler before the call that parses it (the argument's path lifted up the stack).
 */
import type { Proposal } from '../../types.ts';
import { indentUnit } from '../edits.ts';
import type { Fault, ParseWhat } from '../fault.ts';
import { type AccessPath, badMessage, fieldLabel, type Step } from '../path.ts';
import {
  catchClause,
  enclosingFunction,
  isListedStatement,
  type JsFile,
  nodeText,
  quoteStyle,
  startOf,
  statementOf,
  ts,
  unwrap,
  usesSemicolons,
  walk,
} from './ast.ts';
import { nearFault, proposal, where } from './common.ts';
import { answer400, handlerAround } from './http.ts';
import { type Anchor, liftToHandler, pathOf } from './lift.ts';
import { boundaryAt, insertBefore, type JsTemplateContext, pathText } from './variants.ts';

interface ParseSite {
  /** The parsing expression (`JSON.parse(raw)`, `new Date(s)`, `Number(q)`). */
  parse: ts.CallExpression | ts.NewExpression;
  /** Its input. */
  input: ts.Expression;
  /** Throws (JSON, BigInt, URL) or yields an invalid value (Date, Number). */
  throws: boolean;
  parser: string;
}

function calleeName(n: ts.CallExpression | ts.NewExpression): string {
  const c = unwrap(n.expression);
  return c.getText();
}

const PARSERS: Record<ParseWhat, { match: (n: ts.Node) => boolean; throws: boolean; parser: string } | undefined> = {
  json: { match: (n) => ts.isCallExpression(n) && calleeName(n) === 'JSON.parse', throws: true, parser: 'valid JSON' },
  bigint: { match: (n) => ts.isCallExpression(n) && calleeName(n) === 'BigInt', throws: true, parser: 'an integer' },
  url: { match: (n) => ts.isNewExpression(n) && calleeName(n) === 'URL', throws: true, parser: 'a valid URL' },
  date: { match: (n) => ts.isNewExpression(n) && calleeName(n) === 'Date', throws: false, parser: 'a valid date' },
  number: {
    match: (n) =>
      ts.isCallExpression(n) &&
      ['Number', 'parseInt', 'parseFloat', 'Number.parseInt', 'Number.parseFloat'].includes(calleeName(n)),
    throws: false,
    parser: 'a number',
  },
  int: undefined,
  float: undefined,
  decimal: undefined,
  uuid: undefined,
};

/** The parse calls on the crashing line, or behind a variable the crashing line reads (`d.toISOString()`). */
function sites(ctx: JsTemplateContext, what: ParseWhat): ParseSite[] {
  const spec = PARSERS[what];
  if (!spec) return [];
  const fr = ctx.frames[0]!;
  const isParse = (n: ts.Node): n is ts.CallExpression | ts.NewExpression =>
    (ts.isCallExpression(n) || ts.isNewExpression(n)) && spec.match(n) && (n.arguments?.length ?? 0) >= 1;
  let found = nearFault(fr, isParse);
  if (found.length === 0) {
    // `const d = new Date(s)` … `d.toISOString()` on the crashing line: the declaration of a name it reads.
    const names = new Set(nearFault(fr, (n): n is ts.Identifier => ts.isIdentifier(n)).map((i) => i.text));
    const fn = enclosingFunction(
      nearFault(
        fr,
        (n): n is ts.Node => ts.isExpressionStatement(n) || ts.isVariableStatement(n) || ts.isReturnStatement(n),
      )[0] ?? fr.file.sf,
    );
    walk(fn ?? fr.file.sf, (n) => {
      if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && names.has(n.name.text) && n.initializer) {
        const init = unwrap(n.initializer);
        if (isParse(init)) found.push(init);
      }
      return undefined;
    });
    found = found.slice(0, 2);
  }
  return found.map((parse) => ({ parse, input: parse.arguments![0]!, throws: spec.throws, parser: spec.parser }));
}

/** `let x; try { x = PARSE; } catch { 400 }` for `const x = PARSE;` (or a bare statement) in the handler. */
function catchInPlace(ctx: JsTemplateContext, site: ParseSite, message: string): Proposal | undefined {
  const f = ctx.frames[0]!.file;
  const stmt = statementOf(site.parse);
  const handler = handlerAround(f, site.parse);
  if (!stmt || !handler || !isListedStatement(stmt)) return undefined;
  const semi = usesSemicolons(f) ? ';' : '';
  const quote = quoteStyle(f);
  const ans = answer400(f, handler, stmt, message, quote, semi === ';');
  const unit = indentUnit(f.source);
  let body: string[];
  let before: string[] = [];
  if (ts.isVariableStatement(stmt)) {
    const decls = stmt.declarationList.declarations;
    const d = decls[0]!;
    if (decls.length !== 1 || !ts.isIdentifier(d.name) || !d.initializer) return undefined;
    before = [`let ${d.name.text}${d.type ? `: ${nodeText(f, d.type)}` : ''}${semi}`];
    body = [`${d.name.text} = ${nodeText(f, d.initializer)}${semi}`];
  } else if (ts.isExpressionStatement(stmt)) {
    body = [nodeText(f, stmt)];
  } else return undefined;
  if (!site.throws) return undefined;
  const lines = [
    ...before,
    'try {',
    ...body.map((l) => unit + l),
    `} ${catchClause(ctx.modern)} {`,
    ...ans.lines.map((l) => unit + l),
    '}',
  ];
  const start = startOf(f, stmt);
  const { indent } = { indent: /[ \t]*$/.exec(f.source.slice(0, start))![0] };
  return proposal(
    f,
    [{ start, end: stmt.end, text: lines.join(`\n${indent}`) }],
    'template:unparseable:catch',
    `answer 400 (${message}) when the ${handler.framework} handler cannot parse its input (${where(f, stmt)})`,
    0.85,
  );
}

/** In the handler, before the call that leads to the parse: check the (lifted) input parses. */
function checkInHandler(ctx: JsTemplateContext, site: ParseSite, what: ParseWhat): Proposal | undefined {
  const f = ctx.frames[0]!.file;
  const lifted = liftToHandler(ctx.frames, site.input, site.parse);
  let inputText: string | undefined;
  let path: AccessPath | undefined;
  let target:
    | { file: JsFile; anchor: Anchor; handler: NonNullable<ReturnType<typeof handlerAround>>; hops: number }
    | undefined;
  // `entries[].bookedAt`: the input is a field of every element of a list.
  const each = lifted && splitAtEach(lifted.path);
  if (lifted && each) {
    const list = pathText(each.list, ctx.modern);
    inputText = pathText({ root: 'item', steps: each.item }, ctx.modern);
    if (!list || !inputText || each.item.some((st) => st.k === 'each')) return undefined;
    each.listText = list;
    path = lifted.path;
    target = { file: lifted.file, anchor: lifted.anchor, handler: lifted.handler, hops: lifted.hops };
  } else if (lifted) {
    inputText = pathText(lifted.path, ctx.modern);
    path = lifted.path;
    target = { file: lifted.file, anchor: lifted.anchor, handler: lifted.handler, hops: lifted.hops };
  } else {
    // An input that is no plain path (`raw || '{}'`) can still be checked where it is parsed, in the handler.
    const handler = handlerAround(f, site.parse);
    const stmt = statementOf(site.parse);
    if (!handler || !stmt || !isListedStatement(stmt) || !reusable(site.input)) return undefined;
    inputText = nodeText(f, site.input);
    path = pathOf(site.input)?.path;
    target = { file: f, anchor: stmt, handler, hops: 0 };
  }
  if (!inputText || !target) return undefined;
  const start = startOf(f, site.parse);
  const argStart = startOf(f, site.input) - start;
  const parseText = nodeText(f, site.parse);
  const parseWithInput =
    parseText.slice(0, argStart) + inputText + parseText.slice(argStart + (site.input.end - startOf(f, site.input)));
  const tf = target.file;
  const message = badMessage(
    path && fieldLabel(path) ? path : undefined,
    what === 'number' ? 'not-number' : what === 'date' ? 'invalid-date' : 'unparseable',
    site.parser,
  );
  const strategy = 'template:unparseable';
  if (!site.throws) {
    const one = what === 'date' ? `Number.isNaN(${parseWithInput}.getTime())` : `Number.isNaN(${parseWithInput})`;
    const cond = each?.listText ? `!Array.isArray(${each.listText}) || ${each.listText}.some((item) => ${one})` : one;
    return boundaryAt(
      ctx,
      tf,
      target.anchor,
      target.handler,
      path ?? { root: inputText, steps: [] },
      { bad: what === 'date' ? 'invalid-date' : 'not-number', strategy, confidence: 0.8, parser: site.parser },
      target.hops,
      cond,
    );
  }
  const semi = usesSemicolons(tf) ? ';' : '';
  const ans = answer400(tf, target.handler, target.anchor, message, quoteStyle(tf), semi === ';');
  const unit = indentUnit(tf.source);
  const lines = [
    `try {`,
    each?.listText
      ? `${unit}for (const item of ${each.listText}) ${parseWithInput}${semi}`
      : `${unit}${parseWithInput}${semi}`,
    `} ${catchClause(ctx.modern)} {`,
    ...ans.lines.map((l) => unit + l),
    '}',
  ];
  const edits = insertBefore(tf, target.anchor, lines);
  return edits
    ? proposal(
        tf,
        edits,
        `${strategy}:validate`,
        `answer 400 (${message}) in the ${target.handler.framework} handler when its input does not parse (${where(tf, target.anchor)})`,
        0.8,
      )
    : undefined;
}

/** A path through a list's elements, at its first `each`: the list's path and the steps within an element. */
function splitAtEach(path: AccessPath): { list: AccessPath; item: Step[]; listText?: string } | undefined {
  const i = path.steps.findIndex((st) => st.k === 'each');
  if (i < 0) return undefined;
  return { list: { root: path.root, steps: path.steps.slice(0, i) }, item: path.steps.slice(i + 1) };
}

/** No calls, assignments or awaits: the expression can be evaluated once more to check it. */
function reusable(e: ts.Expression): boolean {
  let ok = true;
  walk(e, (n) => {
    if (
      ts.isCallExpression(n) ||
      ts.isNewExpression(n) ||
      ts.isAwaitExpression(n) ||
      ts.isPostfixUnaryExpression(n) ||
      (ts.isBinaryExpression(n) &&
        n.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
        n.operatorToken.kind <= ts.SyntaxKind.LastAssignment)
    )
      ok = false;
    return undefined;
  });
  return ok;
}

/**
 * `const size = parseInt(q, 10)` in the handler: check the name right after it (`Number.isNaN(size)`), no
 * second evaluation of the input needed.
 */
function checkAfter(ctx: JsTemplateContext, site: ParseSite, what: ParseWhat): Proposal | undefined {
  const f = ctx.frames[0]!.file;
  const decl = site.parse.parent;
  if (
    site.throws ||
    !decl ||
    !ts.isVariableDeclaration(decl) ||
    !ts.isIdentifier(decl.name) ||
    decl.initializer !== site.parse
  )
    return undefined;
  const stmt = statementOf(decl);
  const handler = handlerAround(f, site.parse);
  if (!stmt || !handler || !isListedStatement(stmt)) return undefined;
  const name = decl.name.text;
  const path = pathOf(site.input)?.path;
  const bad = what === 'date' ? 'invalid-date' : 'not-number';
  const message = badMessage(path && fieldLabel(path) ? path : undefined, bad, site.parser);
  const semi = usesSemicolons(f) ? ';' : '';
  const ans = answer400(f, handler, stmt, message, quoteStyle(f), semi === ';');
  const unit = indentUnit(f.source);
  const cond = what === 'date' ? `Number.isNaN(${name}.getTime())` : `Number.isNaN(${name})`;
  const indent = /[ \t]*$/.exec(f.source.slice(0, startOf(f, stmt)))![0];
  const lines = [`if (${cond}) {`, ...ans.lines.map((l) => unit + l), '}'];
  return proposal(
    f,
    [{ start: stmt.end, end: stmt.end, text: `\n${lines.map((l) => indent + l).join('\n')}` }],
    'template:unparseable:check',
    `answer 400 (${message}) right after the ${handler.framework} handler parses its input (${where(f, stmt)})`,
    0.85,
  );
}

export function unparseableJs(ctx: JsTemplateContext, fault: Extract<Fault, { kind: 'parse' }>): Proposal[] {
  const out: Proposal[] = [];
  for (const site of sites(ctx, fault.what).slice(0, 1)) {
    const own = pathOf(site.input)?.path;
    const message = badMessage(own && fieldLabel(own) ? own : undefined, 'unparseable', site.parser);
    const inPlace = catchInPlace(ctx, site, message) ?? checkAfter(ctx, site, fault.what);
    if (inPlace) out.push(inPlace);
    const check = checkInHandler(ctx, site, fault.what);
    if (check) out.push(check);
  }
  return out;
}
