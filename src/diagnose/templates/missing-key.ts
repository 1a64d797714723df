/**
 * Python KeyError on a string key read from a dict in the team's code (a field missing from a payload):
 * read it with `.get()` instead (`order["coupon"]` → `order.get("coupon")`), on the crashing line only and
 * never on an assignment target. Whether None is then handled is for verification to prove.
 */
import { faultingLine } from '../source.ts';
import type { Template } from '../types.ts';

/** The key from `KeyError: 'coupon'` (the message is the key's repr); only plain string keys. */
function keyOf(message: string): string | undefined {
  const m = /^(['"])([\w.\- ]{1,100})\1$/.exec(message.trim());
  return m?.[2];
}

export const missingKey: Template = {
  name: 'missing-key',
  matches(ctx) {
    const t = ctx.incident.trace;
    return t?.language === 'python' && /(^|\.)KeyError$/.test(t.exceptionType) && keyOf(t.message) !== undefined;
  },
  async propose(ctx) {
    const key = keyOf(ctx.incident.trace!.message)!;
    const site = await faultingLine(ctx);
    if (!site) return undefined;
    const { frame, before, lines, src } = site;
    const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // `[<quote>key<quote>]` right after a name, call or subscript, and not followed by an assignment.
    const re = new RegExp(`(?<=[\\w)\\]])\\[(['"])${escaped}\\1\\](?!\\s*(?:[-+*/%|&^]|//|\\*\\*|<<|>>)?=(?!=))`, 'g');
    let count = 0;
    const fixed = src.replace(re, (_m, q: string) => {
      count++;
      return `.get(${q}${key}${q})`;
    });
    if (count === 0) return undefined;
    const after = [...lines.slice(0, frame.line - 1), fixed, ...lines.slice(frame.line)].join('\n');
    return {
      strategy: 'template:dict-get',
      summary: `read the optional key \`${key}\` with .get() in ${frame.function ?? 'the function'} (${frame.repoPath}:${frame.line})`,
      confidence: 0.7,
      edits: [{ path: frame.repoPath, before, after }],
    };
  },
};
