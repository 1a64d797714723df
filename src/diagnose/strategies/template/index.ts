/**
 * The template strategy: recognise the crash class from the exception, parse the files of the in-repo
 * frames (TypeScript compiler API for JavaScript/TypeScript, the stdlib `ast` through a python3 helper for
 * Python), and let the class's module write its variants — a neutral default at the fault, a guard in the
 * function, validation in the request handler — as edits on syntax-tree positions. Every edited file is
 * parsed again (at the repo's language level) before it is proposed; verification then decides.
 */
import type { StackFrame } from '../../../incident/types.ts';
import type { RepairContext } from '../../types.ts';
import type { Proposal, Strategy, StrategyOutcome } from '../types.ts';
import { caretKey, caretSpans } from './carets.ts';
import { crashClass, type Fault, faultOf } from './fault.ts';
import { parseJs, scriptKind, syntaxError, usesModernSyntax } from './js/ast.ts';
import { jsProposals } from './js/index.ts';
import type { JsFrame } from './js/lift.ts';
import { featureVersion, jsLevel, LEVEL_FILES, pythonLevel } from './level.ts';
import { PyFile } from './python/ast.ts';
import { PythonParser } from './python/helper.ts';
import { pythonProposals } from './python/index.ts';
import type { PyFrame } from './python/lift.ts';

/** Frames followed up the stack (to reach the request handler), innermost first. */
const MAX_FRAMES = 8;
/** Proposals verified per incident: each costs a sandbox run. */
export const MAX_PROPOSALS = 5;

const JS_FILE = /\.(m|c)?(j|t)sx?$/i;

interface RepoFrame extends StackFrame {
  repoPath: string;
  line: number;
}

function repoFrames(frames: StackFrame[]): RepoFrame[] {
  return frames
    .filter((f): f is RepoFrame => !f.external && !!f.repoPath && !!f.line)
    .reverse()
    .slice(0, MAX_FRAMES);
}

/**
 * Python up to 3.11 runs a comprehension in a frame of its own (`<genexpr>`, `<listcomp>`); in the syntax
 * tree it is part of the enclosing function. The enclosing frame takes the comprehension's line.
 */
function withoutComprehensions(frames: RepoFrame[]): RepoFrame[] {
  const out: RepoFrame[] = [];
  let pending: RepoFrame | undefined;
  for (const f of frames) {
    if (/^<(genexpr|listcomp|setcomp|dictcomp)>$/.test(f.function ?? '')) {
      pending ??= f;
      continue;
    }
    if (pending && out.length === 0 && f.repoPath === pending.repoPath)
      out.push({ ...f, line: pending.line, code: pending.code });
    else out.push(f);
    pending = undefined;
  }
  return out;
}

/** Whitespace-insensitive: a trace's copy of a line against the repo's. */
const squash = (s: string) => s.replace(/\s+/g, '');

async function levelFiles(ctx: RepairContext) {
  const out: Partial<Record<(typeof LEVEL_FILES)[number], string>> = {};
  for (const name of LEVEL_FILES) {
    if (!ctx.repoFiles.includes(name)) continue;
    const text = await ctx.readFile(name);
    if (text !== undefined && text.length < 256 * 1024) out[name] = text;
  }
  return out;
}

/** Keeps the first of proposals whose edits are identical, and drops those that touch no file. */
function dedupe(proposals: Proposal[]): Proposal[] {
  const seen = new Set<string>();
  return proposals.filter((p) => {
    if (p.edits.length === 0) return false;
    const key = JSON.stringify(p.edits.map((e) => [e.path, e.after]));
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function templateProposals(ctx: RepairContext, python: () => PythonParser): Promise<StrategyOutcome> {
  const notes: string[] = [];
  const trace = ctx.incident.trace;
  if (!trace) return { proposals: [], notes: ['templates: no stack trace'] };
  const fault = faultOf(trace);
  if (!fault) return { proposals: [], notes: [`templates: no template covers ${trace.exceptionType}`] };
  const frames = repoFrames(trace.frames);
  if (frames.length === 0) return { proposals: [], notes: ['templates: no frame in the repo'] };

  const sources = new Map<string, string>();
  for (const fr of frames) {
    if (sources.has(fr.repoPath)) continue;
    const text = await ctx.readFile(fr.repoPath);
    if (text !== undefined) sources.set(fr.repoPath, text);
  }
  const inner = frames[0]!;
  const innerSource = sources.get(inner.repoPath);
  if (innerSource === undefined) return { proposals: [], notes: [`templates: ${inner.repoPath} cannot be read`] };
  // The trace quotes the crashing line: when the repo has no such line there, it is not the code that
  // crashed. (Nearby lines count: Python 3.13 quotes a multi-line statement from its first line.)
  for (const fr of frames) {
    const lines = sources.get(fr.repoPath)?.split(/\r?\n/);
    if (fr.code === undefined || !lines) continue;
    const near = squash(lines.slice(Math.max(0, fr.line - 4), fr.line + 3).join(''));
    if (!near.includes(squash(fr.code))) {
      return {
        proposals: [],
        notes: [
          `templates: ${fr.repoPath}:${fr.line} differs from the line in the trace; refusing to patch another revision's code`,
        ],
      };
    }
  }
  const files = await levelFiles(ctx);
  let proposals: Proposal[] = [];
  if (trace.language === 'node') {
    if (!JS_FILE.test(inner.repoPath))
      return { proposals: [], notes: [`templates: ${inner.repoPath} is not JavaScript`] };
    const parsed = new Map([...sources].filter(([p]) => JS_FILE.test(p)).map(([p, s]) => [p, parseJs(p, s)]));
    const jsFrames: JsFrame[] = [];
    for (const fr of frames) {
      const file = parsed.get(fr.repoPath);
      if (!file) break;
      const lines = file.sf.getLineStarts();
      const start = lines[fr.line - 1];
      if (start === undefined) break;
      jsFrames.push({ file, frame: fr, pos: Math.min(start + Math.max(0, (fr.column ?? 1) - 1), file.source.length) });
    }
    if (jsFrames.length === 0)
      return { proposals: [], notes: [`templates: ${inner.repoPath}:${inner.line} is not in the file`] };
    const level = jsLevel(files, usesModernSyntax(jsFrames[0]!.file.sf));
    notes.push(`templates: ${level.modern ? 'optional chaining allowed' : 'explicit checks only'} (${level.why})`);
    proposals = jsProposals({ frames: jsFrames, modern: level.modern }, fault);
    proposals = proposals.filter((p) => {
      for (const e of p.edits) {
        const err = syntaxError(e.path, e.after);
        if (err && (e.before === undefined || !syntaxError(e.path, e.before))) {
          notes.push(`templates: dropped ${p.strategy}: the patched ${e.path} does not parse (${err})`);
          return false;
        }
      }
      return true;
    });
    void scriptKind;
  } else {
    const parser = python();
    const level = pythonLevel(files);
    const pyFrames: PyFrame[] = [];
    const parsed = new Map<string, PyFile | null>();
    for (const fr of withoutComprehensions(frames)) {
      if (!parsed.has(fr.repoPath)) {
        const src = sources.get(fr.repoPath);
        const r = src !== undefined && /\.py$/.test(fr.repoPath) ? await parser.parse(src) : undefined;
        if (r && !r.ok) notes.push(`templates: ${fr.repoPath} does not parse with the host's python3 (${r.error})`);
        parsed.set(fr.repoPath, r?.ok ? new PyFile(fr.repoPath, src!, r.tree) : null);
      }
      const file = parsed.get(fr.repoPath);
      if (!file) break;
      pyFrames.push({ file, frame: fr });
    }
    if (pyFrames.length === 0) return { proposals: [], notes };
    // Python 3.11+ marks the failing sub-expression: it decides between candidates on one line.
    const spans = caretSpans(ctx.incident.logs);
    for (const pf of pyFrames) {
      const span = spans.get(caretKey(pf.frame.line, pf.frame.code));
      const lineText = pf.file.source.split(/\r?\n/)[pf.frame.line - 1];
      if (!span || lineText === undefined) continue;
      const lineStart = pf.file.offsetOfLine(pf.frame.line);
      const indent = lineText.length - lineText.trimStart().length;
      pf.span = { start: lineStart + indent + span.start, end: lineStart + indent + span.end };
    }
    proposals = pythonProposals({ frames: pyFrames }, fault);
    const fv = featureVersion(level, parser.hostMinor);
    const kept: Proposal[] = [];
    for (const p of proposals) {
      let ok = true;
      for (const e of p.edits) {
        const err = await parser.check(e.after, fv);
        if (err && (e.before === undefined || !(await parser.check(e.before, fv)))) {
          notes.push(`templates: dropped ${p.strategy}: the patched ${e.path} does not parse (${err})`);
          ok = false;
          break;
        }
      }
      if (ok) kept.push(p);
    }
    proposals = kept;
  }
  proposals = dedupe(proposals).sort((a, b) => b.confidence - a.confidence);
  if (proposals.length > MAX_PROPOSALS) {
    notes.push(`templates: kept the ${MAX_PROPOSALS} most confident of ${proposals.length} variants`);
    proposals = proposals.slice(0, MAX_PROPOSALS);
  }
  if (proposals.length === 0)
    notes.push(`templates: no ${crashClass(fault)} variant applies to ${inner.repoPath}:${inner.line}`);
  return { proposals, notes };
}

/** The strategy behind the `Strategy` interface; owns the python3 helper for one heal. */
export function templateStrategy(): Strategy & { close(): void } {
  let parser: PythonParser | undefined;
  return {
    name: 'template',
    propose: (ctx) => templateProposals(ctx, () => (parser ??= new PythonParser())),
    close: () => parser?.close(),
  };
}

export type { Fault };
