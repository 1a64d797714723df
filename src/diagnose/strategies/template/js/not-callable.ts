/**
 * JavaScript/TypeScript "x is not a function": an array method on something that is not an array
 * (`order.items.map is not a function` when a client sends an object), a string method on a number, an
 * optional callback that was not passed. Variants: coerce at the fault site (`Array.isArray(v) ? v : []`,
 * `String(v)`, call only when it is a function), guard in the function, 400 in the handler.
 */
import type { Proposal } from '../../types.ts';
import type { Fault } from '../fault.ts';
import { isPure, nodeText, startOf, ts, unwrap } from './ast.ts';
import { nearFault, operand, proposal, where } from './common.ts';
import { ARRAY_METHODS, isStringMethod } from './infer.ts';
import { lookupBoundary } from './lookup.ts';
import { boundaryVariant, guardVariants, type JsTemplateContext } from './variants.ts';

const ARRAYISH = new Set([
  ...ARRAY_METHODS,
  'includes',
  'indexOf',
  'slice',
  'concat',
  'at',
  'entries',
  'keys',
  'values',
]);

const NUMBER_METHODS = new Set(['toFixed', 'toPrecision', 'toExponential']);

/** What a value is coerced to at the fault site, what the guard tests, and what the 400 says. */
const KINDS = {
  list: {
    coerced: (v: string) => `(Array.isArray(${v}) ? ${v} : [])`,
    check: (v: string) => `!Array.isArray(${v})`,
    words: 'an empty list when it is not a list',
    bad: 'not-array',
  },
  string: {
    coerced: (v: string) => `String(${v})`,
    check: (v: string) => `typeof ${v} !== 'string'`,
    words: 'a string',
    bad: 'not-string',
  },
  // "12.5".toFixed(2): a number sent as a string.
  number: {
    coerced: (v: string) => `Number(${v})`,
    check: (v: string) => `typeof ${v} !== 'number'`,
    words: 'a number',
    bad: 'not-number-type',
  },
} as const;

const norm = (s: string) =>
  s
    .replace(/\s+/g, '')
    .replace(/\?\./g, '.')
    .replace(/^await/, '');

export function notCallableJs(ctx: JsTemplateContext, fault: Extract<Fault, { kind: 'not-callable' }>): Proposal[] {
  const fr = ctx.frames[0]!;
  const f = fr.file;
  const printed = fault.printed && norm(fault.printed);
  const tail = printed?.includes('(intermediate value)') ? printed.split('(intermediate value)').pop() : undefined;
  const calls = nearFault(fr, (n): n is ts.CallExpression => ts.isCallExpression(n)).filter((c) => {
    const text = norm(nodeText(f, c.expression));
    return !printed || text === printed || (tail !== undefined && tail !== '' && text.endsWith(tail));
  });
  const out: Proposal[] = [];
  for (const call of calls.slice(0, 1)) {
    const callee = unwrap(call.expression);
    const method = ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
    const kind = !method
      ? undefined
      : ARRAYISH.has(method)
        ? 'list'
        : isStringMethod(method)
          ? 'string'
          : NUMBER_METHODS.has(method)
            ? 'number'
            : undefined;
    if (kind && ts.isPropertyAccessExpression(callee)) {
      const obj = callee.expression;
      if (!isPure(obj)) continue;
      const text = operand(f, obj);
      const { coerced, check, words, bad } = KINDS[kind];
      const p = proposal(
        f,
        [{ start: startOf(f, obj), end: obj.end, text: coerced(text) }],
        `template:not-callable:as-${kind}`,
        `treat \`${nodeText(f, obj)}\` as ${words} before .${method}() (${where(f, call)})`,
        0.65,
      );
      if (p) out.push(p);
      out.push(
        ...guardVariants({
          file: f,
          at: call,
          value: obj,
          cond: check,
          what: `\`${nodeText(f, obj)}\` is not a ${kind}`,
          strategy: 'template:not-callable',
          confidence: 0.6,
        }),
      );
      const b = boundaryVariant(ctx, {
        file: f,
        at: call,
        value: obj,
        bad,
        strategy: 'template:not-callable',
        confidence: 0.8,
      });
      if (b) out.push(b);
      continue;
    }
    if (!isPure(callee)) continue;
    const text = operand(f, callee);
    const stmt = call.parent;
    const edits = ts.isExpressionStatement(stmt)
      ? [{ start: startOf(f, stmt), end: startOf(f, stmt), text: `if (typeof ${text} === 'function') ` }]
      : [
          { start: startOf(f, call), end: startOf(f, call), text: `(typeof ${text} === 'function' ? ` },
          { start: call.end, end: call.end, text: ' : undefined)' },
        ];
    const p = proposal(
      f,
      edits,
      'template:not-callable:call-if-function',
      `call \`${nodeText(f, callee)}\` only when it is a function (${where(f, call)})`,
      0.6,
    );
    if (p) out.push(p);
    out.push(
      ...guardVariants({
        file: f,
        at: call,
        value: callee,
        cond: (v) => `typeof ${v} !== 'function'`,
        what: `\`${nodeText(f, callee)}\` is not a function`,
        strategy: 'template:not-callable',
        confidence: 0.55,
      }),
    );
    // `RENDERERS[format](rows)`: the table has no function for the request's key.
    const b = lookupBoundary(ctx, {
      file: f,
      at: call,
      value: callee,
      strategy: 'template:not-callable',
      confidence: 0.8,
    });
    if (b) out.push(b);
  }
  return out;
}
