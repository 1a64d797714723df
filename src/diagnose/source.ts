import { innermostRepoFrame } from '../incident/paths.ts';
import type { StackFrame } from '../incident/types.ts';
import type { RepairContext } from './types.ts';

/** Small, language-agnostic helpers for reading one source line the way the templates need it. */

/** Index of the operator at the caret position, or the last top-level occurrence of one of `ops`. */
export function findOperator(line: string, ops: RegExp): { index: number; op: string } | undefined {
  let depth = 0;
  let quote: string | undefined;
  let found: { index: number; op: string } | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '#') break;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else {
      const m = ops.exec(line.slice(i));
      if (m && m.index === 0 && depth >= 0) {
        found = { index: i, op: m[0] };
        i += m[0].length - 1;
      }
    }
  }
  return found;
}

/** The operand that starts at `from`: an atom with its trailers (calls, attributes, subscripts, parens). */
export function readOperand(line: string, from: number): string {
  let i = from;
  while (line[i] === ' ') i++;
  const start = i;
  let depth = 0;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && !/[\w.]/.test(c)) break;
  }
  return line.slice(start, i).trim();
}

export function indentOf(line: string): string {
  return /^\s*/.exec(line)?.[0] ?? '';
}

/** The innermost in-repo frame with its file (at the base revision) and the source line it points at. */
export async function faultingLine(
  ctx: RepairContext,
): Promise<
  { frame: StackFrame & { repoPath: string; line: number }; before: string; lines: string[]; src: string } | undefined
> {
  const frame = ctx.incident.trace ? innermostRepoFrame(ctx.incident.trace) : undefined;
  if (!frame?.repoPath || !frame.line) return undefined;
  const before = await ctx.readFile(frame.repoPath);
  if (before === undefined) return undefined;
  const lines = before.split('\n');
  const src = lines[frame.line - 1];
  if (src === undefined) return undefined;
  return { frame: { ...frame, repoPath: frame.repoPath, line: frame.line }, before, lines, src };
}
