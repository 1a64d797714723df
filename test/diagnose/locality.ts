/**
 * What every template edit must satisfy, checked on the real files: the patched file parses (TypeScript
 * parser, python3 `ast`), and the edit stays inside one function the stack ran through — the crashing
 * function, a caller up to the handler — never the rest of the file.
 */
import { diffLines } from 'diff';
import { expect } from 'vitest';
import { isFunctionLike, parseJs, syntaxError, ts, walk } from '../../src/diagnose/strategies/template/js/ast.ts';
import { FUNCTIONS, isNode, type PyNode } from '../../src/diagnose/strategies/template/python/ast.ts';
import type { PythonParser } from '../../src/diagnose/strategies/template/python/helper.ts';
import type { Proposal } from '../../src/diagnose/strategies/types.ts';

/** The smallest span [start, end) of `before` that differs from `after`. */
export function changedSpan(before: string, after: string): [number, number] {
  let i = 0;
  while (i < before.length && i < after.length && before[i] === after[i]) i++;
  let j = 0;
  while (j < before.length - i && j < after.length - i && before[before.length - 1 - j] === after[after.length - 1 - j])
    j++;
  return [i, before.length - j];
}

function pyFunctions(n: PyNode, out: [number, number][] = []): [number, number][] {
  if (FUNCTIONS.has(n._t) && n._t !== 'Lambda' && n.s !== undefined && n.e !== undefined) out.push([n.s, n.e]);
  for (const v of Object.values(n)) {
    if (isNode(v)) pyFunctions(v, out);
    else if (Array.isArray(v)) for (const x of v) if (isNode(x)) pyFunctions(x, out);
  }
  return out;
}

function jsFunctions(path: string, source: string): [number, number][] {
  const f = parseJs(path, source);
  const out: [number, number][] = [];
  walk(f.sf, (n) => {
    if (isFunctionLike(n) && n.body) out.push([n.getStart(f.sf), n.end]);
    return undefined;
  });
  return out;
}

/** Lines (1-based) of `source` the stack ran through in `path`. */
export type FrameLines = Record<string, number[]>;

const lineOf = (s: string, offset: number) => s.slice(0, offset).split(/\r\n|\r|\n/).length;

/** Asserts a proposal's edits parse and each stays inside a function around one of the frame lines. */
export async function expectLocal(p: Proposal, frames: FrameLines, python?: PythonParser): Promise<void> {
  for (const e of p.edits) {
    const before = e.before!;
    const functions = /\.py$/.test(e.path)
      ? pyFunctions(await python!.parse(before).then((r) => (r.ok ? r.tree : { _t: 'Module' })))
      : jsFunctions(e.path, before);
    if (/\.py$/.test(e.path)) expect(await python!.check(e.after), `${p.strategy}: ${e.path} parses`).toBeUndefined();
    else expect(syntaxError(e.path, e.after), `${p.strategy}: ${e.path} parses`).toBeUndefined();
    const lines = frames[e.path] ?? [];
    for (const [a, b] of changedSpans(before, e.after)) {
      const around = functions.filter(
        ([s, end]) => s <= a && b <= end && lines.some((l) => lineOf(before, s) <= l && l <= lineOf(before, end)),
      );
      expect(
        around.length,
        `${p.strategy}: the edit of ${e.path} at ${a}..${b} is inside a function on the stack`,
      ).toBeGreaterThan(0);
    }
  }
}

/** An import of what a check reads (`import { PLANS } from './plans.js'`, `from handlers import HANDLERS`). */
const IMPORT = /^\s*(import\s|from\s+\S+\s+import\s|const\s*\{[^}]*\}\s*=\s*require\()/;

/**
 * The spans of `before` that `after` changes, one per run of changed lines, each narrowed to the
 * characters that differ; a run that only adds or extends module-level imports is no logic and is left out.
 */
function changedSpans(before: string, after: string): [number, number][] {
  const spans: [number, number][] = [];
  let [b0, a0] = [0, 0];
  let run: { b: number; a: number; b1: number; a1: number; lines: string[] } | undefined;
  const close = () => {
    if (run && !run.lines.every((l) => !l.trim() || IMPORT.test(l))) {
      const [x, y] = changedSpan(before.slice(run.b, run.b1), after.slice(run.a, run.a1));
      spans.push([run.b + x, run.b + Math.max(x, y)]);
    }
    run = undefined;
  };
  for (const part of diffLines(before, after)) {
    if (!part.added && !part.removed) {
      close();
      b0 += part.value.length;
      a0 += part.value.length;
      continue;
    }
    run ??= { b: b0, a: a0, b1: b0, a1: a0, lines: [] };
    run.lines.push(...part.value.split(/\r?\n/));
    if (part.removed) b0 += part.value.length;
    else a0 += part.value.length;
    [run.b1, run.a1] = [b0, a0];
  }
  close();
  return spans;
}

/** The in-repo frame lines of a trace text, by repo path (paths matched by their file name). */
export function frameLines(trace: string, files: string[]): FrameLines {
  const out: FrameLines = {};
  const add = (file: string, line: number) => {
    const repo = files.find((f) => file.endsWith(`/${f}`) || file === f);
    if (!repo) return;
    out[repo] ??= [];
    out[repo].push(line);
  };
  for (const m of trace.matchAll(/File "([^"]+)", line (\d+)/g)) add(m[1]!, Number(m[2]));
  for (const m of trace.matchAll(/\(?(?:file:\/\/)?(\/[^\s():]+):(\d+):\d+\)?/g)) add(m[1]!, Number(m[2]));
  return out;
}

export { ts };
