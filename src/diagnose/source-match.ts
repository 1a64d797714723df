/**
 * Whether the repo's code at the revision being healed is the code that crashed. A Python traceback quotes
 * the source line of every frame (`StackFrame.code`); when the repo's line at that number says something
 * else, the crash happened in another revision of the file, and a patch built on the repo's line would
 * change the wrong code. Strategies that edit at the trace's line numbers refuse then. Pure.
 */
import type { ParsedTrace, StackFrame } from '../incident/types.ts';

/** Whitespace does not count: tracebacks strip the indentation, and a reformat changes no behaviour. */
const squash = (s: string) => s.replace(/\s+/g, '');

/**
 * False when the frame quotes its source line and `fileText` (the frame's file at the revision being
 * healed) has a different line there, or none. True when they agree, or when there is nothing to compare
 * (the trace carries no source text, as Node stacks do not, or no line number).
 */
export function sourceMatches(frame: Pick<StackFrame, 'code' | 'line'>, fileText: string): boolean {
  if (frame.code === undefined || squash(frame.code) === '' || !frame.line) return true;
  const line = fileText.split(/\r\n|\n|\r/)[frame.line - 1];
  return line !== undefined && squash(line) === squash(frame.code);
}

/**
 * One note per in-repo frame of `trace` whose quoted line differs from the repo's (files that cannot be
 * read are skipped: another check reports them), innermost first. Empty when the code is the one that crashed.
 */
export async function sourceMismatches(
  trace: ParsedTrace,
  readFile: (repoPath: string) => Promise<string | undefined>,
): Promise<string[]> {
  const notes: string[] = [];
  for (const f of [...trace.frames].reverse()) {
    if (f.external || !f.repoPath || f.code === undefined) continue;
    const text = await readFile(f.repoPath);
    if (text === undefined || sourceMatches(f, text)) continue;
    notes.push(
      `${f.repoPath}:${f.line} at the revision being healed is not the line the trace quotes: the crash happened in another revision of this file`,
    );
  }
  return notes;
}
