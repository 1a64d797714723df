/**
 * Node.js stack parser: the `Name [CODE]: message` header, V8 `at …` frames (async, new, anonymous,
 * file:// URLs, node:internal), and causes printed as `[cause]: …` (util.inspect) or `caused by: …`
 * (pino's serializer). V8 prints innermost first; frames are returned outermost first like Python's.
 */
import { fileURLToPath } from 'node:url';
import type { ParsedTrace, StackFrame } from '../types.ts';
import type { FoundTrace } from './python.ts';
import { stripAnsi } from './text.ts';

const FRAME_START = /^\s*at\s+\S/;
const ELIDED = /^\s*\.\.\. \d+ (?:more )?lines? matching cause stack trace \.\.\.\s*$|^\s*\.\.\. \d+ more\s*$/;
/** `Name: message`, `Name [CODE]: message`, `Uncaught Name: message`, or a bare name. */
const HEADER = /^\s*(?:Uncaught\s+)?([A-Za-z_$][\w$.]*)(?:\s+\[([A-Z][A-Z0-9_]*)\])?(?::\s?(.*)|\s*)$/;
const ERROR_NAME = /(?:Error|Exception)$/;
const CAUSE_LINE = /^\s*(?:\[cause\]:|caused by:)\s*(.*)$/i;

/** Parses the first Node.js error stack in `text` (with its causes). */
export function parseNodeStack(text: string): ParsedTrace | undefined {
  return findNodeTraces(text)[0]?.trace;
}

/** Every Node.js error stack in `text`, in order of appearance; lines for which `skip` is true are not read. */
export function findNodeTraces(text: string, skip: (line: number) => boolean = () => false): FoundTrace[] {
  const lines = stripAnsi(text).split(/\r?\n/);
  const found: FoundTrace[] = [];
  let i = 0;
  while (i < lines.length) {
    if (skip(i) || !isFrameLine(lines[i]!)) {
      i++;
      continue;
    }
    const start = headerStart(lines, i, skip);
    const parsed = parseFrom(lines, start, i);
    found.push({ trace: parsed.trace, start, end: parsed.end });
    i = Math.max(parsed.end, i + 1);
  }
  return found;
}

/** Parses a header at `headerAt` (or none when it equals `firstFrame`) plus frames and any causes. */
function parseFrom(
  lines: string[],
  headerAt: number,
  firstFrame: number,
  headerText?: string,
): { trace: ParsedTrace; end: number } {
  const { exceptionType, message } = parseHeader(
    headerText !== undefined
      ? [headerText, ...lines.slice(headerAt + 1, firstFrame)]
      : lines.slice(headerAt, firstFrame),
  );
  const innermostFirst: StackFrame[] = [];
  let i = firstFrame;
  let opensObject = false;
  while (i < lines.length && (isFrameLine(lines[i]!) || ELIDED.test(lines[i]!))) {
    const line = lines[i]!;
    if (isFrameLine(line)) {
      const frame = parseFrameLine(line);
      if (frame) innermostFirst.push(frame);
      opensObject = /\{\s*$/.test(line);
    }
    i++;
  }
  const trace: ParsedTrace = { language: 'node', exceptionType, message, frames: innermostFirst.reverse() };
  const tail = opensObject ? scanInspectedObject(lines, i) : scanCausedBy(lines, i);
  if (tail.cause) trace.cause = tail.cause;
  return { trace, end: tail.end };
}

/** pino's serializer appends `caused by: <stack>` right after the frames. */
function scanCausedBy(lines: string[], from: number): { cause?: ParsedTrace; end: number } {
  const line = lines[from];
  const m = line === undefined ? null : CAUSE_LINE.exec(line);
  return m ? parseCause(lines, from, m[1]!) : { end: from };
}

/**
 * util.inspect prints extra properties in `{ … }` after the last frame, `[cause]: <stack>` among them;
 * consume the whole object so its property lines are not mistaken for anything else.
 */
function scanInspectedObject(lines: string[], from: number): { cause?: ParsedTrace; end: number } {
  let depth = 1;
  let i = from;
  let cause: ParsedTrace | undefined;
  while (i < lines.length && depth > 0) {
    const m = depth === 1 && !cause ? CAUSE_LINE.exec(lines[i]!) : null;
    if (m && HEADER.test(m[1]!)) {
      const parsed = parseCause(lines, i, m[1]!);
      cause = parsed.cause;
      i = parsed.end;
      continue;
    }
    depth += braceDelta(lines[i]!);
    i++;
  }
  return cause ? { cause, end: i } : { end: i };
}

function parseCause(lines: string[], at: number, header: string): { cause: ParsedTrace; end: number } {
  let firstFrame = at + 1;
  while (
    firstFrame < lines.length &&
    firstFrame - at < 50 &&
    lines[firstFrame]!.trim() &&
    !isFrameLine(lines[firstFrame]!)
  )
    firstFrame++;
  if (firstFrame < lines.length && isFrameLine(lines[firstFrame]!)) {
    const parsed = parseFrom(lines, at, firstFrame, header);
    return { cause: parsed.trace, end: parsed.end };
  }
  // A cause that is not an Error (or has no stack) still names what went wrong.
  const { exceptionType, message } = parseHeader([header]);
  return { cause: { language: 'node', exceptionType, message, frames: [] }, end: at + 1 };
}

function braceDelta(line: string): number {
  const unquoted = line.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"/g, '');
  return (unquoted.match(/[{[]/g)?.length ?? 0) - (unquoted.match(/[}\]]/g)?.length ?? 0);
}

/**
 * The header is above the first frame: within the contiguous non-blank block, the topmost line that names an
 * error (`…Error`, `…Exception`, or a `[CODE]`); then such a line a little further up; then the nearest
 * `Name: message` line in the block.
 */
function headerStart(lines: string[], firstFrame: number, skip: (line: number) => boolean): number {
  let top = firstFrame;
  while (top > 0 && lines[top - 1]!.trim() && !skip(top - 1) && !isFrameLine(lines[top - 1]!) && firstFrame - top < 50)
    top--;
  for (let j = top; j < firstFrame; j++) if (namesError(lines[j]!)) return j;
  // Messages may hold blank lines (node:assert prints a diff): look a little further up for an error name.
  for (let j = top - 1; j >= 0 && firstFrame - j <= 30 && !skip(j) && !isFrameLine(lines[j]!); j--)
    if (namesError(lines[j]!)) return j;
  for (let j = firstFrame - 1; j >= top; j--) if (HEADER.exec(lines[j]!)?.[3] !== undefined) return j;
  return firstFrame > top ? firstFrame - 1 : firstFrame;
}

function namesError(line: string): boolean {
  const m = HEADER.exec(line);
  return m !== null && (ERROR_NAME.test(m[1]!) || m[2] !== undefined);
}

function parseHeader(headerLines: string[]): { exceptionType: string; message: string } {
  const first = headerLines[0];
  if (first === undefined) return { exceptionType: 'Error', message: '' };
  const m = HEADER.exec(first);
  if (!m) return { exceptionType: 'Error', message: [first.trim(), ...headerLines.slice(1)].join('\n').trim() };
  const message = [m[3] ?? '', ...headerLines.slice(1)].join('\n').trim();
  return { exceptionType: m[1]!, message };
}

function isFrameLine(line: string): boolean {
  return FRAME_START.test(line) && parseFrameLine(line) !== undefined;
}

/** One `at …` line; undefined when it is prose that merely starts with "at". */
export function parseFrameLine(line: string): StackFrame | undefined {
  let rest = line
    .trim()
    .replace(/^at\s+/, '')
    .replace(/\s*\{\s*$/, '');
  let isAsync = false;
  if (rest.startsWith('async ')) {
    isAsync = true;
    rest = rest.slice(6);
  }
  let fn: string | undefined;
  let location = rest;
  const wrapped = /^(.*?) \((.*)\)$/.exec(rest);
  if (wrapped) {
    fn = wrapped[1]!;
    location = wrapped[2]!;
  }
  // `eval at fn (file:1:2), <anonymous>:3:4`: the eval'd code has no file of its own.
  if (location.startsWith('eval at ')) location = location.slice(location.lastIndexOf(', ') + 2);
  const pos = /^(.*?):(\d+)(?::(\d+))?$/.exec(location);
  let frame: StackFrame;
  if (pos) {
    const file = toPath(pos[1]!);
    frame = { file, line: Number(pos[2]), external: isExternalNodeFile(file) };
    if (pos[3] !== undefined) frame.column = Number(pos[3]);
  } else if (/^(?:<anonymous>|native|unknown location|index \d+)$/.test(location)) {
    // V8 built-ins: `Array.map (<anonymous>)`, `async Promise.all (index 0)`.
    frame = { file: location.startsWith('index ') ? '<anonymous>' : location, external: true };
  } else {
    return undefined;
  }
  frame.function = fn ?? '<anonymous>';
  if (isAsync) frame.async = true;
  return frame;
}

function toPath(file: string): string {
  if (!file.startsWith('file://')) return file;
  try {
    return fileURLToPath(file);
  } catch {
    return decodeURIComponent(file.replace(/^file:\/\//, ''));
  }
}

/** Frames that are obviously not application code. */
export function isExternalNodeFile(file: string): boolean {
  return (
    file.startsWith('node:') ||
    /^internal[/\\]/.test(file) ||
    /[/\\]node_modules[/\\]/.test(file) ||
    file === '<anonymous>' ||
    file === 'native'
  );
}
