/**
 * Big logs (a `kubectl logs` dump of tens of MB with the crash at the end) are reduced on intake, in one
 * linear pass, to a bounded excerpt: the lines around every stack-trace marker (the latest ones when there
 * are too many) plus the tail. Everything after intake (trace and request extraction, redaction, reports)
 * then works on a bounded text whatever was sent.
 */

export interface ExcerptLimits {
  /** Logs up to this many characters are kept whole. */
  whole: number;
  /** Characters of the log's end always kept. */
  tail: number;
  /** Characters kept around trace markers before the tail (latest first). */
  traces: number;
  /** Lines kept before and after each marker. */
  before: number;
  after: number;
}

export const EXCERPT: ExcerptLimits = {
  whole: 4 * 1024 * 1024,
  tail: 1024 * 1024,
  traces: 2 * 1024 * 1024,
  before: 5,
  after: 200,
};

/**
 * A line that starts or continues a stack trace: Python headers, Node frames, and both escaped in JSON
 * lines. (A Node trace's message line comes before its first frame, a Python exception line after its
 * frames: the window around each marker holds them.)
 */
function isTraceMarker(line: string): boolean {
  return line.includes('Traceback (most recent call last)') || /^\s+at\s/.test(line) || /\\n\s{1,16}at\s/.test(line);
}

const omitted = (chars: number) => `\n\n[suture: ${chars} characters of log omitted]\n\n`;

export function excerptLogs(text: string, limits: ExcerptLimits = EXCERPT): string {
  if (text.length <= limits.whole) return text;
  // The tail starts at a line boundary when there is one in it.
  let tailStart = text.length - limits.tail;
  const nl = text.indexOf('\n', tailStart);
  if (nl >= 0 && nl + 1 < text.length) tailStart = nl + 1;

  // Windows [start, end) around markers before the tail; a queue trimmed from the front to the budget.
  const windows: [number, number][] = [];
  let first = 0;
  let kept = 0;
  const push = (w: [number, number]) => {
    windows.push(w);
    kept += w[1] - w[0];
    while (kept > limits.traces && first < windows.length) {
      const old = windows[first++]!;
      kept -= old[1] - old[0];
    }
  };
  const recent: number[] = []; // starts of the last `before` lines
  let open: [number, number] | undefined;
  let openUntil = -1;
  for (let start = 0, line = 0; start < tailStart; line++) {
    let end = text.indexOf('\n', start);
    if (end < 0 || end > tailStart) end = tailStart;
    if (isTraceMarker(text.slice(start, end))) {
      const from = recent[0] ?? start;
      if (open && from <= open[1]) openUntil = line + limits.after;
      else {
        if (open) push(open);
        open = [from, end];
        openUntil = line + limits.after;
      }
    }
    if (open && line <= openUntil) open[1] = Math.min(end + 1, tailStart);
    else if (open) {
      push(open);
      open = undefined;
    }
    recent.push(start);
    if (recent.length > limits.before) recent.shift();
    start = end + 1;
  }
  if (open) push(open);

  let out = '';
  let at = 0;
  for (const [start, end] of [...windows.slice(first), [tailStart, text.length] as [number, number]]) {
    if (start > at) out += omitted(start - at);
    out += text.slice(Math.max(start, at), end);
    at = end;
  }
  return out;
}
