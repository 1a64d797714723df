/**
 * Edits by source offsets: a template names the exact span of the syntax-tree nodes it changes and the
 * text that replaces them, so the rest of the file keeps its bytes (comments, formatting, line endings).
 */
import type { FileEdit } from '../../types.ts';
import type { Proposal } from '../types.ts';

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/** Applies non-overlapping edits; undefined when two overlap (a template bug, never a half-applied file). */
export function applyEdits(source: string, edits: TextEdit[]): string | undefined {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.start < prev.end || (cur.start === prev.start && cur.end === prev.end && cur.start !== cur.end)) {
      return undefined;
    }
  }
  let out = '';
  let at = 0;
  for (const e of sorted) {
    if (e.start < at || e.end < e.start || e.end > source.length) return undefined;
    out += source.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + source.slice(at);
}

export function fileEdit(path: string, before: string, edits: TextEdit[]): FileEdit | undefined {
  const after = applyEdits(before, edits);
  return after === undefined || after === before ? undefined : { path, before, after };
}

/** The line break the file uses (a CRLF file gets CRLF in inserted lines too). */
export function eolOf(source: string): string {
  return /\r\n/.test(source) ? '\r\n' : '\n';
}

/** The indentation of the line holding `offset`, and whether only whitespace precedes `offset` on it. */
export function lineIndent(source: string, offset: number): { indent: string; lineStart: number; startsLine: boolean } {
  let lineStart = offset;
  while (lineStart > 0 && source[lineStart - 1] !== '\n' && source[lineStart - 1] !== '\r') lineStart--;
  const before = source.slice(lineStart, offset);
  const indent = /^[ \t]*/.exec(before)![0];
  return { indent, lineStart, startsLine: before.trim() === '' };
}

/** The file's indentation step: the smallest positive indentation of its lines (default four spaces). */
export function indentUnit(source: string): string {
  let best: string | undefined;
  for (const line of source.split(/\r?\n/)) {
    const m = /^([ \t]+)\S/.exec(line);
    if (!m) continue;
    const ws = m[1]!;
    if (ws.includes('\t')) return '\t';
    if (!best || ws.length < best.length) best = ws;
  }
  return best && best.length <= 8 ? best : '    ';
}

/** Re-indents every line of `text` after the first by `extra` (for wrapping a statement in a block). */
export function reindent(text: string, extra: string): string {
  return text.replace(/(\r?\n)([ \t]*)(?=\S)/g, `$1${extra}$2`);
}

/** One proposal editing one file; undefined when the edits overlap or change nothing. */
export function proposalFor(
  file: { path: string; source: string },
  edits: TextEdit[],
  strategy: string,
  summary: string,
  confidence: number,
): Proposal | undefined {
  const edit = fileEdit(file.path, file.source, edits);
  return edit ? { strategy, summary, confidence, edits: [edit] } : undefined;
}

/**
 * A string literal for `s` that JavaScript and Python read the same way: ASCII only (everything else
 * escaped), in the file's quote style. `s` is made of the source's own names and the templates' words.
 */
export function stringLiteral(s: string, quote: "'" | '"'): string {
  const json = JSON.stringify(s)
    .slice(1, -1)
    .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (quote === '"') return `"${json}"`;
  return `'${json.replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
}
