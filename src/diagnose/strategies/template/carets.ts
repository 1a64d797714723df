/**
 * Python 3.11+ marks the failing sub-expression under a frame's code line (`~~~~^^^^`). The incident's
 * parsed frames keep the code but not the marks; this reads them back from the log text (plain or inside
 * JSON log lines) so a template can pick the node that failed when a line holds several candidates.
 */

export interface CaretSpan {
  /** Columns in the code line as the trace shows it (leading whitespace removed), end exclusive. */
  start: number;
  end: number;
}

const FRAME = /^\s*File "(.+)", line (\d+)(?:, in (.+?))?\s*$/;
const CARETS = /^\s*[~^]*\^[~^]*\s*$/;

/** Every string in a JSON value. */
function strings(v: unknown, out: string[]): void {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
}

/** Texts that may hold a traceback: the log itself and the strings of its JSON lines. */
function texts(logs: string): string[] {
  const out = [logs];
  for (const line of logs.split(/\r?\n/)) {
    const at = line.indexOf('{');
    if (at < 0) continue;
    try {
      strings(JSON.parse(line.slice(at)), out);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** Caret spans keyed by `caretKey`. */
export function caretSpans(logs: string): Map<string, CaretSpan> {
  const spans = new Map<string, CaretSpan>();
  for (const text of texts(logs)) {
    if (!text.includes('Traceback')) continue;
    const lines = text.split(/\r?\n/);
    for (let i = 0; i + 2 < lines.length; i++) {
      const m = FRAME.exec(lines[i]!);
      if (!m) continue;
      const code = lines[i + 1]!;
      const marks = lines[i + 2]!;
      if (!code.trim() || !CARETS.test(marks) || FRAME.test(code)) continue;
      const base = code.length - code.trimStart().length;
      const first = marks.search(/[~^]/);
      const last = Math.max(marks.lastIndexOf('^'), marks.lastIndexOf('~'));
      if (first < base) continue;
      spans.set(caretKey(Number(m[2]), code), { start: first - base, end: last + 1 - base });
    }
  }
  return spans;
}

/** Line and code identify a frame's caret line (the function name is left out: comprehension frames merge). */
export function caretKey(line: number, code: string | undefined): string {
  return `${line}|${(code ?? '').trim()}`;
}
