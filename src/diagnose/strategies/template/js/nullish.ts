/**
 * JavaScript/TypeScript: a property read, write, destructuring, iteration or Object.keys on undefined/null
 * (`Cannot read properties of undefined (reading 'x')`, `Cannot destructure property 'a' of …`,
 * `x is not iterable`, `Cannot convert undefined or null to object`), including nested chains. Variants:
 *   fault site — short-circuit the access (`?.`, or an explicit test where the toolchain predates it) and
 *                follow the value: names it initialises or destructures get the neutral default their
 *                later uses need (`{ city = '' }` when `city.toUpperCase()` follows);
 *   guard      — return early from the function (its own fallback value when it has one);
 *   skip       — skip the element when the crash is in a loop over a list;
 *   validate   — answer 400 in the request handler when the field is missing.
 */
import type { Proposal } from '../../types.ts';
import type { TextEdit } from '../edits.ts';
import type { Fault } from '../fault.ts';
import { isPure, type JsFile, nodeText, quoteStyle, startOf, ts, unwrap } from './ast.ts';
import { chainAbove, emptyFor, follow, nearFault, operand, proposal, where } from './common.ts';
import { agreedKind, defaultFor, usesOf } from './infer.ts';
import type { JsFrame } from './lift.ts';
import { lookupBoundary } from './lookup.ts';
import { boundaryVariant, guardVariants, type JsTemplateContext } from './variants.ts';

type NullishFault = Extract<Fault, { kind: 'nullish' }>;

interface Site {
  /** The node that throws (an access, a destructuring declaration, a loop). */
  at: ts.Node;
  /** The undefined/null value. */
  value: ts.Expression;
  fix: (f: JsFile, modern: boolean) => { edits: TextEdit[]; fallback: boolean } | undefined;
}

const printedMatches = (f: JsFile, e: ts.Expression, printed: string | undefined) =>
  printed === undefined ||
  nodeText(f, unwrap(e))
    .replace(/\s+/g, '')
    .replace(/\?\./g, '.')
    .replace(/!(?=[.[]|$)/g, '') === printed.replace(/\s+/g, '');

/** `a.b` / `a[0]` / `a['b']` reading or writing `property` of the value `a`. */
function accessSites(ctx: JsTemplateContext, fault: NullishFault): Site[] {
  const fr = ctx.frames[0]!;
  const f = fr.file;
  const prop = fault.property;
  const isAccess = (n: ts.Node): n is ts.PropertyAccessExpression | ts.ElementAccessExpression => {
    if (ts.isPropertyAccessExpression(n)) return n.name.text === prop;
    if (ts.isElementAccessExpression(n)) {
      const a = unwrap(n.argumentExpression);
      return (
        (ts.isStringLiteral(a) || ts.isNumericLiteral(a) || ts.isNoSubstitutionTemplateLiteral(a)) && a.text === prop
      );
    }
    return false;
  };
  const nameAt = (n: ts.PropertyAccessExpression | ts.ElementAccessExpression) =>
    ts.isPropertyAccessExpression(n) ? startOf(f, n.name) : startOf(f, n.argumentExpression);
  return nearFault(fr, isAccess, nameAt)
    .filter((n) => {
      const isTarget =
        ts.isBinaryExpression(n.parent) &&
        n.parent.left === n &&
        n.parent.operatorToken.kind === ts.SyntaxKind.EqualsToken;
      return fault.use === 'set' ? isTarget : !isTarget;
    })
    .map((n) => ({ at: n, value: n.expression, fix: (file, modern) => accessFix(file, n, fault, modern, ctx.frames) }));
}

function accessFix(
  f: JsFile,
  n: ts.PropertyAccessExpression | ts.ElementAccessExpression,
  fault: NullishFault,
  modern: boolean,
  frames: JsFrame[],
): { edits: TextEdit[]; fallback: boolean } | undefined {
  const value = n.expression;
  if (fault.use === 'set') {
    // No optional assignment in JavaScript: the write happens only when the object is there.
    const stmt = n.parent.parent;
    if (!isPure(value) || !ts.isExpressionStatement(stmt)) return undefined;
    const start = startOf(f, stmt);
    return { edits: [{ start, end: start, text: `if (${operand(f, value)} != null) ` }], fallback: false };
  }
  const chain = chainAbove(n);
  const followed = follow(f, chain, frames);
  if (followed.blocked) return undefined;
  const edits: TextEdit[] = [...followed.edits];
  const dflt = followed.chainDefault && emptyFor(f, chain, followed.chainDefault);
  if (modern) {
    // `a.b` → `a?.b`, `a[0]` → `a?.[0]`: the rest of the chain short-circuits with it.
    const dot = ts.isPropertyAccessExpression(n) ? f.source.indexOf('.', value.end) : value.end;
    if (dot < 0 || n.questionDotToken) return undefined;
    edits.push({ start: dot, end: dot, text: ts.isPropertyAccessExpression(n) ? '?' : '?.' });
    if (dflt) {
      const start = startOf(f, chain);
      edits.push({ start, end: start, text: '(' }, { start: chain.end, end: chain.end, text: ` ?? ${dflt})` });
    }
  } else {
    if (!isPure(value)) return undefined;
    const start = startOf(f, chain);
    edits.push(
      { start, end: start, text: `(${operand(f, value)} == null ? ${dflt ?? 'undefined'} : ` },
      { start: chain.end, end: chain.end, text: ')' },
    );
    if (dflt) {
      // The value may also be missing at the end of the chain: default it too.
      edits.pop();
      edits.push({ start: chain.end, end: chain.end, text: ` || ${dflt})` });
    }
  }
  return { edits, fallback: followed.fallback };
}

/** `const { a } = value` / `const [a] = value` / a destructured parameter. */
function destructureSites(ctx: JsTemplateContext, fault: NullishFault): Site[] {
  const fr = ctx.frames[0]!;
  const sites: Site[] = [];
  const decls = nearFault(
    fr,
    (n): n is ts.VariableDeclaration =>
      ts.isVariableDeclaration(n) && !ts.isIdentifier(n.name) && n.initializer !== undefined,
  ).filter((d) => printedMatches(fr.file, d.initializer!, fault.printed));
  for (const d of decls) {
    sites.push({
      at: d,
      value: d.initializer!,
      fix: (f, modern) => {
        const init = d.initializer!;
        const followed = follow(f, init, ctx.frames);
        if (followed.blocked) return undefined;
        const empty = emptyFor(f, init, ts.isObjectBindingPattern(d.name) ? '{}' : '[]');
        // `x = a, b` would bind only `a`: a comma or conditional initialiser gets parentheses.
        const start = startOf(f, init);
        const needsParens = ts.isBinaryExpression(unwrap(init)) || ts.isConditionalExpression(unwrap(init));
        return {
          edits: [
            ...followed.edits,
            ...(needsParens ? [{ start, end: start, text: '(' }] : []),
            {
              start: init.end,
              end: init.end,
              text: `${needsParens ? ')' : ''}${modern ? ` ?? ${empty}` : ` || ${empty}`}`,
            },
          ],
          fallback: followed.fallback,
        };
      },
    });
  }
  // A parameter `function f({ a })` called with undefined: default the parameter (undefined only).
  if (fault.nullValue === 'undefined') {
    const params = nearFault(
      fr,
      (n): n is ts.ParameterDeclaration => ts.isParameter(n) && ts.isObjectBindingPattern(n.name) && !n.initializer,
    );
    for (const prm of params) {
      sites.push({
        at: prm,
        value: prm as unknown as ts.Expression,
        fix: (f) => {
          const followed = followBindings(f, prm);
          if (!followed) return undefined;
          const at = prm.type ? prm.type.end : prm.name.end;
          return { edits: [...followed, { start: at, end: at, text: ' = {}' }], fallback: false };
        },
      });
    }
  }
  return sites;
}

/** Defaults for a destructured parameter's names, from their uses in the function. */
function followBindings(f: JsFile, prm: ts.ParameterDeclaration): TextEdit[] | undefined {
  const edits: TextEdit[] = [];
  const fn = prm.parent;
  const pattern = prm.name as ts.ObjectBindingPattern;
  for (const el of pattern.elements) {
    if (el.dotDotDotToken || el.initializer || !ts.isIdentifier(el.name)) continue;
    const uses = usesOf(fn, el.name.text, prm.end, f);
    if (uses.handled) continue;
    const kind = agreedKind(uses.crashy) ?? agreedKind(uses.soft);
    if (kind === 'unknown' && uses.crashy.length) return undefined;
    if (kind && kind !== 'unknown')
      edits.push({ start: el.name.end, end: el.name.end, text: ` = ${defaultFor(kind, quoteStyle(f))}` });
  }
  return edits;
}

/** `for (x of value)`, `[...value]`, `const [a] = value`, `Object.keys(value)`. */
function iterationSites(ctx: JsTemplateContext, fault: NullishFault): Site[] {
  const fr = ctx.frames[0]!;
  const f = fr.file;
  const wrapSite = (at: ts.Node, value: ts.Expression, empty: string): Site => ({
    at,
    value,
    fix: (file, modern) => {
      const start = startOf(file, value);
      const text = operand(file, value);
      const paren = ts.isSpreadElement(value.parent);
      const replacement = modern ? `${text} ?? ${empty}` : `${text} || ${empty}`;
      return {
        edits: [{ start, end: value.end, text: paren ? `(${replacement})` : replacement }],
        fallback: false,
      };
    },
  });
  const sites: Site[] = [];
  if (fault.use === 'iterate') {
    for (const n of nearFault(fr, (n): n is ts.ForOfStatement => ts.isForOfStatement(n))) {
      if (printedMatches(f, n.expression, fault.printed)) sites.push(wrapSite(n, n.expression, '[]'));
    }
    for (const n of nearFault(fr, (n): n is ts.SpreadElement => ts.isSpreadElement(n))) {
      if (printedMatches(f, n.expression, fault.printed)) sites.push(wrapSite(n, n.expression, '[]'));
    }
    for (const n of nearFault(
      fr,
      (n): n is ts.VariableDeclaration =>
        ts.isVariableDeclaration(n) && ts.isArrayBindingPattern(n.name) && !!n.initializer,
    )) {
      if (printedMatches(f, n.initializer!, fault.printed)) sites.push(wrapSite(n, n.initializer!, '[]'));
    }
  } else {
    for (const call of nearFault(fr, (n): n is ts.CallExpression => ts.isCallExpression(n))) {
      const callee = unwrap(call.expression);
      const arg = call.arguments[0];
      if (
        arg &&
        ts.isPropertyAccessExpression(callee) &&
        ts.isIdentifier(callee.expression) &&
        callee.expression.text === 'Object' &&
        ['keys', 'values', 'entries', 'getOwnPropertyNames'].includes(callee.name.text)
      )
        sites.push(wrapSite(call, arg, '{}'));
    }
  }
  return sites;
}

export function nullishJs(ctx: JsTemplateContext, fault: NullishFault): Proposal[] {
  const sites =
    fault.use === 'read' || fault.use === 'set'
      ? accessSites(ctx, fault)
      : fault.use === 'destructure'
        ? destructureSites(ctx, fault)
        : fault.use === 'iterate' || fault.use === 'object'
          ? iterationSites(ctx, fault)
          : [];
  const f = ctx.frames[0]!.file;
  const out: Proposal[] = [];
  for (const site of sites.slice(0, 2)) {
    const valueText = ts.isParameter(site.value) ? 'the argument' : `\`${nodeText(f, site.value)}\``;
    const fixed = site.fix(f, ctx.modern);
    if (fixed) {
      const p = proposal(
        f,
        fixed.edits,
        ctx.modern ? 'template:nullish:optional-chain' : 'template:nullish:explicit-check',
        `read through ${valueText} only when it is present, and give what follows a neutral default (${where(f, site.at)})`,
        fixed.fallback ? 0.85 : 0.7,
      );
      if (p) out.push(p);
    }
    if (!ts.isParameter(site.value)) {
      out.push(
        ...guardVariants({
          file: f,
          at: site.at,
          value: site.value,
          cond: (v) => `${v} == null`,
          what: `${valueText} is missing`,
          strategy: 'template:nullish',
          confidence: 0.7,
          frames: ctx.frames,
        }),
      );
    }
    const value = ts.isParameter(site.value) ? undefined : site.value;
    const b = value
      ? (boundaryVariant(ctx, {
          file: f,
          at: site.at,
          value,
          bad: 'nullish',
          strategy: 'template:nullish',
          confidence: fixed?.fallback ? 0.6 : 0.8,
        }) ?? lookupBoundary(ctx, { file: f, at: site.at, value, strategy: 'template:nullish', confidence: 0.8 }))
      : undefined;
    if (b) out.push(b);
  }
  return out;
}
