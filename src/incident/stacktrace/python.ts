/**
 * Python traceback parser: `Traceback (most recent call last):` blocks, 3.11+ caret lines, chained
 * exceptions (`raise … from …` and "During handling …"), and best-effort exception groups.
 */
import type { ParsedTrace, StackFrame } from '../types.ts';
import { stripAnsi } from './text.ts';

const HEADER = /^\s*(?:[+|]\s*)?(?:Exception Group )?Traceback \(most recent call last\):\s*$/;
const FRAME = /^\s*File "(.+)", line (\d+)(?:, in (.+?))?\s*$/;
/** 3.11+ position markers under the code line: only spaces, ^ and ~ (and - in some 3.13 forms). */
const CARETS = /^\s*[~^-]*\^[~^-]*\s*$|^\s*~+\s*$/;
const REPEATED = /^\s*\[Previous line repeated \d+ more times?\]\s*$/;
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*)(?::\s?(.*))?$/;
const CHAIN_SEPARATORS = [
  'The above exception was the direct cause of the following exception:',
  'During handling of the above exception, another exception occurred:',
];
/** A line that starts a new log record, so it cannot continue a multi-line exception message. */
const RECORD_START =
  /^(?:\{|\[?\d{4}-\d\d-\d\d|\d{1,3}(?:\.\d{1,3}){3} - |(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL)\b[:\s]|\s+at\s)/;

/** A traceback found in text, with the line span it occupied (end is exclusive). */
export interface FoundTrace {
  trace: ParsedTrace;
  start: number;
  end: number;
}

/** Parses the first Python traceback (with its chain) in `text`; the outer (last printed) exception wins. */
export function parsePythonTraceback(text: string): ParsedTrace | undefined {
  return findPythonTraces(text)[0]?.trace;
}

/** Every Python traceback chain in `text`, in order of appearance. */
export function findPythonTraces(text: string): FoundTrace[] {
  const lines = stripAnsi(text).split(/\r?\n/).map(stripGroupPrefix);
  const found: FoundTrace[] = [];
  let i = 0;
  while (i < lines.length) {
    if (!HEADER.test(lines[i]!)) {
      i++;
      continue;
    }
    const start = i;
    let chain: ParsedTrace | undefined;
    let block = parseBlock(lines, i);
    while (block) {
      if (chain) block.trace.cause = chain;
      chain = block.trace;
      i = block.end;
      const next = nextChained(lines, i);
      if (next === undefined) break;
      block = parseBlock(lines, next);
    }
    if (chain && /Exception Group/.test(lines[start]!)) i = attachFirstSubException(lines, start, i, chain);
    if (chain) found.push({ trace: chain, start, end: i });
    else i = start + 1;
  }
  return found;
}

/**
 * Exception groups print their sub-exceptions after the group's own traceback, up to a closing `+-----` line.
 * Best effort: the first sub-exception becomes the group's cause (it is where the failure happened); the
 * whole group counts as one trace. Returns the line after the group.
 */
function attachFirstSubException(lines: string[], headerAt: number, from: number, group: ParsedTrace): number {
  const closingIndent = indentOf(lines[headerAt]!) + 2;
  let end = from;
  while (end < lines.length && !(/^\s*\+-+\s*$/.test(lines[end]!) && indentOf(lines[end]!) === closingIndent)) end++;
  const first = findPythonTraces(lines.slice(from, end).join('\n'))[0];
  if (first && !group.cause) group.cause = first.trace;
  return Math.min(end + 1, lines.length);
}

/** Exception-group output prefixes every line with `  | ` / `  + `; drop them so the normal grammar applies. */
function stripGroupPrefix(line: string): string {
  const m = /^(\s*)[+|] (.*)$/.exec(line);
  if (!m || /^\s*\+-/.test(line)) return line;
  return m[1]! + m[2]!;
}

function parseBlock(lines: string[], headerAt: number): { trace: ParsedTrace; end: number } | undefined {
  const headerIndent = indentOf(lines[headerAt]!);
  const frames: StackFrame[] = [];
  let i = headerAt + 1;
  while (i < lines.length) {
    const line = lines[i]!;
    const m = FRAME.exec(line);
    if (m) {
      const frameIndent = indentOf(line);
      const frame = makeFrame(m[1]!, Number(m[2]), m[3]);
      i++;
      // Source line(s) and caret markers are indented deeper than `File`.
      while (i < lines.length && indentOf(lines[i]!) > frameIndent && !FRAME.test(lines[i]!)) {
        const body = lines[i]!;
        if (body.trim() && !CARETS.test(body) && frame.code === undefined) frame.code = body.trim();
        i++;
      }
      frames.push(frame);
      continue;
    }
    if (REPEATED.test(line) || !line.trim()) {
      i++;
      continue;
    }
    break;
  }
  const exc = i < lines.length ? EXCEPTION_LINE.exec(lines[i]!.slice(headerIndent)) : null;
  if (!exc || frames.length === 0) {
    // A header with no exception line (truncated log) still carries useful frames.
    if (frames.length === 0) return undefined;
    return { trace: { language: 'python', exceptionType: 'UnknownError', message: '', frames }, end: i };
  }
  const messageLines = [exc[2] ?? ''];
  i++;
  while (i < lines.length && isMessageContinuation(lines[i]!)) messageLines.push(lines[i++]!);
  return {
    trace: { language: 'python', exceptionType: exc[1]!, message: messageLines.join('\n').trimEnd(), frames },
    end: i,
  };
}

function isMessageContinuation(line: string): boolean {
  if (!line.trim() || HEADER.test(line) || RECORD_START.test(line) || /^\s*\+-/.test(line)) return false;
  return !CHAIN_SEPARATORS.includes(line.trim());
}

/** After an exception line: blank lines, a chain separator, blank lines, then the next header. */
function nextChained(lines: string[], from: number): number | undefined {
  let i = from;
  while (i < lines.length && !lines[i]!.trim()) i++;
  if (i >= lines.length || !CHAIN_SEPARATORS.includes(lines[i]!.trim())) return undefined;
  i++;
  while (i < lines.length && !lines[i]!.trim()) i++;
  return i < lines.length && HEADER.test(lines[i]!) ? i : undefined;
}

function makeFrame(file: string, line: number, fn: string | undefined): StackFrame {
  const frame: StackFrame = { file, line, external: isExternalPythonFile(file) };
  if (fn !== undefined) frame.function = fn;
  return frame;
}

/** Frames that are obviously not application code, whatever the repo holds. */
export function isExternalPythonFile(file: string): boolean {
  return (
    /[/\\](?:site|dist)-packages[/\\]/.test(file) ||
    /[/\\]lib[/\\]python\d+(?:\.\d+)?[/\\]/.test(file) ||
    /^<(?:frozen [^>]*|string|stdin|console|input-\d+)>$/.test(file)
  );
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}
