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
    if (method && ts.isPropertyAccessExpression(callee) && (ARRAYISH.has(method) || isStringMethod(method))) {
      const obj = callee.expression;
      if (!isPure(obj)) continue;
      const array = ARRAYISH.has(method);
      const text = operand(f, obj);
      const coerced = array ? `(Array.isArray(${text}) ? ${text} : [])` : `String(${text})`;
      const p = proposal(
        f,
        [{ start: startOf(f, obj), end: obj.end, text: coerced }],
        `template:not-callable:${array ? 'as-list' : 'as-string'}`,
        `treat \`${nodeText(f, obj)}\` as ${array ? 'an empty list when it is not a list' : 'a string'} before .${method}() (${where(f, call)})`,
        0.65,
      );
      if (p) out.push(p);
      const cond = (v: string) => (array ? `!Array.isArray(${v})` : `typeof ${v} !== 'string'`);
      out.push(
        ...guardVariants({
          file: f,
          at: call,
          value: obj,
          cond,
          what: `\`${nodeText(f, obj)}\` is not ${array ? 'a list' : 'a string'}`,
          strategy: 'template:not-callable',
          confidence: 0.6,
        }),
      );
      const b = boundaryVariant(ctx, {
        file: f,
        at: call,
        value: obj,
        bad: array ? 'not-array' : 'not-string',
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
