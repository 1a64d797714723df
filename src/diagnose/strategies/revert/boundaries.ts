/**
 * Where the function around a line begins and ends, so the revert strategy touches only the crashing
 * function. Behind a small interface: this is a simple heuristic of the revert strategy's own —
 * indentation for Python, braces for JavaScript/TypeScript — until the language-aware finder the template
 * strategy builds on real parsers (src/diagnose/strategies/template/) can be plugged in instead. It never
 * throws; a line it cannot place is `undefined`, and the strategy then proposes nothing. Pure.
 */

/** 1-based, inclusive lines. `start` is the line of the function's header (`def`, `function`, the method name). */
export interface FunctionRange {
  start: number;
  end: number;
  name?: string;
}

export interface BoundaryFinder {
  /** The innermost function holding `line` (1-based) in `text`, the content of the file at `path`. */
  enclosingFunction(path: string, text: string, line: number): FunctionRange | undefined;
}

const PYTHON = /\.pyi?$/i;
const JS = /\.(?:[cm]?[jt]sx?)$/i;

export const heuristicBoundaries: BoundaryFinder = {
  enclosingFunction(path, text, line) {
    const lines = text.split('\n');
    if (line < 1 || line > lines.length) return undefined;
    if (PYTHON.test(path)) return pythonFunction(lines, line);
    if (JS.test(path)) return braceFunction(text, line);
    return undefined;
  },
};

// ---------------------------------------------------------------------------------------------------------
// Python: a `def` whose body (the lines indented deeper than it) holds the line.

const DEF = /^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)/;

function indent(line: string): number {
  let n = 0;
  for (const c of line) {
    if (c === ' ') n++;
    else if (c === '\t') n += 8 - (n % 8);
    else break;
  }
  return n;
}

const blank = (line: string) => /^\s*(?:#.*)?\r?$/.test(line);

/**
 * Which lines start a logical line (statement): not inside brackets, a triple-quoted string, or after a
 * backslash continuation. Only those carry meaningful indentation (black puts a signature's `):` at column 0).
 */
function logicalStarts(lines: string[]): boolean[] {
  const starts: boolean[] = [];
  let depth = 0;
  let triple = '';
  let continued = false;
  for (const line of lines) {
    starts.push(depth === 0 && !triple && !continued);
    continued = false;
    let quote = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (triple) {
        if (c === '\\') i++;
        else if (line.startsWith(triple, i)) {
          i += 2;
          triple = '';
        }
        continue;
      }
      if (quote) {
        if (c === '\\') i++;
        else if (c === quote) quote = '';
        continue;
      }
      if (c === '#') break;
      if ((c === '"' || c === "'") && line.startsWith(c.repeat(3), i)) {
        triple = c.repeat(3);
        i += 2;
      } else if (c === '"' || c === "'") quote = c;
      else if ('([{'.includes(c)) depth++;
      else if (')]}'.includes(c)) depth = Math.max(0, depth - 1);
    }
    continued = !triple && /\\\r?$/.test(line);
  }
  return starts;
}

function pythonFunction(lines: string[], line: number): FunctionRange | undefined {
  const starts = logicalStarts(lines);
  const significant = (i: number) => starts[i]! && !blank(lines[i]!);
  let start = -1;
  // The smallest indentation of the statements between a candidate `def` and the line itself.
  let floor = Number.POSITIVE_INFINITY;
  for (let i = line - 1; i >= 0; i--) {
    if (!significant(i)) continue;
    const text = lines[i]!;
    const ind = indent(text);
    if (DEF.test(text) && (i === line - 1 || ind < floor)) {
      start = i;
      break;
    }
    floor = Math.min(floor, ind);
    if (floor === 0) return undefined; // module level: no function holds the line
  }
  if (start < 0) return undefined;
  const defIndent = indent(lines[start]!);
  let end = start;
  for (let i = start + 1; i < lines.length; i++) {
    if (significant(i) && indent(lines[i]!) <= defIndent) break;
    if (!blank(lines[i]!)) end = i;
  }
  return { start: start + 1, end: end + 1, name: DEF.exec(lines[start]!)![1]! };
}

// ---------------------------------------------------------------------------------------------------------
// JavaScript / TypeScript: the innermost `{…}` holding the line whose header makes it a function body.

interface Pair {
  open: number;
  close: number;
}

/** Brace and paren pairs outside strings, template text, comments and regular expression literals. */
function scanPairs(src: string): { braces: Pair[]; parens: Map<number, number> } {
  const braces: Pair[] = [];
  const parens = new Map<number, number>(); // close → open
  const stack: { ch: string; at: number }[] = [];
  let prev = ''; // last significant character, to tell a regex literal from a division
  const regexAllowed = () => prev === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(prev);
  let i = 0;
  const n = src.length;
  const skipTemplate = (): void => {
    // Inside template text: until the closing backtick or a `${`.
    while (i < n) {
      const c = src[i]!;
      if (c === '\\') {
        i += 2;
        continue;
      }
      if (c === '`') {
        i++;
        prev = 'x';
        return;
      }
      // `${` opens a code context that its `}` closes back into the template text.
      if (c === '$' && src[i + 1] === '{') {
        stack.push({ ch: '${', at: i + 1 });
        i += 2;
        prev = '{';
        return;
      }
      i++;
    }
  };
  while (i < n) {
    const c = src[i]!;
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i++;
      prev = 'x';
      continue;
    }
    if (c === '`') {
      i++;
      skipTemplate();
      continue;
    }
    if (c === '/' && regexAllowed()) {
      i++;
      let cls = false;
      while (i < n && src[i] !== '\n') {
        const r = src[i]!;
        if (r === '\\') i++;
        else if (r === '[') cls = true;
        else if (r === ']') cls = false;
        else if (r === '/' && !cls) break;
        i++;
      }
      i++;
      while (i < n && /[a-z]/i.test(src[i]!)) i++;
      prev = 'x';
      continue;
    }
    if (c === '{' || c === '(') stack.push({ ch: c, at: i });
    else if (c === '}' || c === ')') {
      const top = stack.pop();
      if (top?.ch === '{' && c === '}') braces.push({ open: top.at, close: i });
      else if (top?.ch === '(' && c === ')') parens.set(i, top.at);
      else if (top?.ch === '${' && c === '}') {
        i++;
        skipTemplate();
        continue;
      }
    }
    if (!/\s/.test(c)) prev = /[\w$]/.test(c) ? 'x' : c;
    i++;
  }
  return { braces, parens };
}

const CONTROL = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'return', 'typeof', 'await', 'new']);

/** Whether the `{` at `open` starts a function body; its header's start (offset) and name when it does. */
function functionHeader(
  src: string,
  open: number,
  parens: Map<number, number>,
): { at: number; name?: string } | undefined {
  let j = open - 1;
  const skipSpace = () => {
    while (j >= 0 && /\s/.test(src[j]!)) j--;
  };
  skipSpace();
  // `=> {`: an arrow function; its parameters are a parenthesised list or one identifier.
  if (src[j] === '>' && src[j - 1] === '=') {
    j -= 2;
    skipSpace();
    if (src[j] === ')') {
      const o = parens.get(j);
      return o === undefined ? undefined : { at: o };
    }
    const m = /[\w$]+$/.exec(src.slice(Math.max(0, j - 100), j + 1));
    return m ? { at: j + 1 - m[0].length } : undefined;
  }
  // `) {` or `): Type {` (TypeScript return type): a function, a method, or a control statement.
  const before = src.slice(Math.max(0, j - 300), j + 1);
  const typed = /\)\s*:\s*[^{};=()]*$/.exec(before);
  if (typed) j = j - (before.length - typed.index - 1);
  if (src[j] !== ')') return undefined;
  const o = parens.get(j);
  if (o === undefined) return undefined;
  const head = src.slice(Math.max(0, o - 200), o);
  const m = /(?:(function)\s*\*?\s*([\w$]*)|([\w$]+))\s*(?:<[^<>()]*>)?\s*$/.exec(head);
  if (!m) return undefined;
  if (m[1]) return { at: o - head.length + m.index, ...(m[2] ? { name: m[2] } : {}) };
  if (CONTROL.has(m[3]!)) return undefined;
  return { at: o - head.length + m.index, name: m[3]! };
}

function lineAt(lineStarts: number[], offset: number): number {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function braceFunction(src: string, line: number): FunctionRange | undefined {
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') lineStarts.push(i + 1);
  const { braces, parens } = scanPairs(src);
  const holding = braces
    .map((p) => ({ ...p, from: lineAt(lineStarts, p.open), to: lineAt(lineStarts, p.close) }))
    .filter((p) => p.from <= line && line <= p.to)
    .sort((a, b) => b.open - a.open); // innermost first
  for (const p of holding) {
    const header = functionHeader(src, p.open, parens);
    if (!header) continue;
    const start = lineAt(lineStarts, header.at);
    return { start, end: p.to, ...(header.name ? { name: header.name } : {}) };
  }
  return undefined;
}
