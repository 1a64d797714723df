/**
 * Node TypeError reading a property of undefined/null (a missing nested object in a payload): make that
 * one property access optional (`a.b.c` → `a.b?.c`), which short-circuits the rest of the chain. Whether the
 * result is then handled sensibly is for verification to prove, not for the template to assume.
 */
import { faultingLine } from '../source.ts';
import type { Template } from '../types.ts';

const MESSAGES = [
  /Cannot read propert(?:y|ies) of (?:undefined|null) \(reading '([^']+)'\)/,
  /Cannot read property '([^']+)' of (?:undefined|null)/,
];

function propertyOf(message: string): string | undefined {
  for (const re of MESSAGES) {
    const m = re.exec(message);
    if (m) return m[1];
  }
  return undefined;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const missingProperty: Template = {
  name: 'missing-property',
  matches(ctx) {
    const t = ctx.incident.trace;
    return t?.language === 'node' && t.exceptionType === 'TypeError' && propertyOf(t.message) !== undefined;
  },
  async propose(ctx) {
    const trace = ctx.incident.trace!;
    const prop = propertyOf(trace.message)!;
    const site = await faultingLine(ctx);
    if (!site) return undefined;
    const { frame, before, lines, src } = site;
    // `.prop` or `['prop']` not already optional; pick the one nearest the reported column.
    const re = new RegExp(`(?<!\\?)(\\.${escapeRegExp(prop)}(?![\\w$])|\\[(['"\`])${escapeRegExp(prop)}\\2\\])`, 'g');
    const hits = [...src.matchAll(re)];
    if (hits.length === 0) return undefined;
    const col = (frame.column ?? 1) - 1;
    const hit = hits.reduce((a, b) => (Math.abs(b.index! - col) < Math.abs(a.index! - col) ? b : a));
    const access = hit[0];
    const optional = access.startsWith('.') ? `?${access}` : `?.${access}`;
    const fixed = src.slice(0, hit.index!) + optional + src.slice(hit.index! + access.length);
    const after = [...lines.slice(0, frame.line - 1), fixed, ...lines.slice(frame.line)].join('\n');
    const obj = src.slice(0, hit.index!).match(/[\w$.?[\]'"]+$/)?.[0] ?? 'the object';
    return {
      strategy: 'template:optional-chaining',
      summary: `read \`${prop}\` only when \`${obj}\` is present (${frame.repoPath}:${frame.line}, optional chaining)`,
      confidence: 0.8,
      edits: [{ path: frame.repoPath, before, after }],
    };
  },
};
