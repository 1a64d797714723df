/**
 * The function a function-level regression test calls, and the input it calls it with: starting at the
 * innermost in-repo frame, the exception becomes a requirement on a value at the fault (inputs.ts), carried
 * to that function's parameters; when the function cannot be called from a test (a method, a nested or
 * unexported function) the requirement moves to its caller through the call on the caller's line, outward,
 * until a callable function is reached. Pure: sources come from the `RepoView`.
 */
import ts from 'typescript';
import type { ParsedTrace, StackFrame } from '../../incident/types.ts';
import { buildWithUses, guessFromUse, type Param, type Requirement, type Step, UNDEFINED, type Use } from './inputs.ts';
import {
  chainOf,
  exportOf,
  type FnNode,
  functionAt,
  isAsyncFn,
  jsFaultRequirements,
  jsParams,
  jsResolveLocal,
  jsThroughCall,
  jsUses,
  onParam,
  parseJs,
  positionOf,
} from './inputs-js.ts';
import {
  findPyFunction,
  type PyFunction,
  pyFaultRequirements,
  pyResolveLocal,
  pyThroughCall,
  pyUses,
} from './inputs-python.ts';
import type { RepoView } from './repo-view.ts';

/** The receiver chain of an array method whose callback `fn` is, when the requirement is on its element parameter. */
function callbackReceiver(fn: FnNode, index: number) {
  const call = fn.parent;
  if (!ts.isCallExpression(call) || !ts.isPropertyAccessExpression(call.expression)) return undefined;
  if (
    !/^(map|forEach|filter|find|findIndex|some|every|flatMap|reduce|reduceRight|sort)$/.test(call.expression.name.text)
  )
    return undefined;
  if (index !== (/^reduce/.test(call.expression.name.text) ? 1 : 0)) return undefined;
  return chainOf(call.expression.expression);
}

function enclosingFn(fn: FnNode): FnNode | undefined {
  for (let n: ts.Node | undefined = fn.parent; n; n = n.parent) {
    if (ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n))
      return n;
  }
  return undefined;
}

export interface FunctionCall {
  language: 'python' | 'node';
  /** Repo path of the module that defines it. */
  file: string;
  /** The function's name in the trace (the test's messages say it; it is data). */
  function: string;
  isAsync: boolean;
  /** Python: the module's dotted name and the repo directory it is imported from. */
  module?: string;
  sysPath?: string;
  /** Python: keyword arguments. */
  kwargs?: Record<string, unknown>;
  /** Node: how the module exports it, and the positional arguments. */
  binding?: string;
  args?: unknown[];
  /** The exception the input reproduced, `Type: message`, for the test's message. */
  exception: string;
}

const MAX_RESOLVE = 8;

function repoFrames(trace: ParsedTrace): StackFrame[] {
  return trace.frames.filter((f) => !f.external && f.repoPath && f.line);
}

/** Python: the dotted module for a repo file and the directory to put on sys.path (packages walked up). */
export function pythonModule(view: RepoView, file: string): { module: string; sysPath: string } | undefined {
  if (!file.endsWith('.py')) return undefined;
  const parts = file.replace(/\.py$/, '').split('/');
  let root = parts.length - 1;
  while (root > 0 && view.files.includes(`${parts.slice(0, root).join('/')}/__init__.py`)) root--;
  const modParts = parts.slice(root);
  if (modParts.at(-1) === '__init__') modParts.pop();
  if (!modParts.length || !modParts.every((p) => /^[A-Za-z_]\w*$/.test(p))) return undefined;
  return { module: modParts.join('.'), sysPath: parts.slice(0, root).join('/') };
}

/** A parameter the crash says nothing about: what the function reads from it, else a guess from its use. */
function otherArg(uses: Use[], name: string, body: string, language: 'python' | 'node'): unknown {
  if (uses.length === 0) return guessFromUse(name, body, language);
  return buildWithUses([], { value: undefined }, uses, language);
}

function pyArgs(fn: PyFunction, r: Requirement): Record<string, unknown> {
  const body = fn.lines.slice(1).join('\n');
  const kwargs: Record<string, unknown> = {};
  for (const p of fn.params) {
    if (p.rest || p.name === 'self' || p.name === 'cls') continue;
    if (p.name === r.root) kwargs[p.name] = buildWithUses(r.steps, r.leaf, pyUses(fn, p.name), 'python');
    else if (!p.hasDefault) kwargs[p.name] = otherArg(pyUses(fn, p.name), p.name, body, 'python');
  }
  return kwargs;
}

/** Moves `r` to a parameter of `fn` through locals; undefined when it rests on something else. */
function pyToParam(fn: PyFunction, line: number, r: Requirement | undefined): Requirement | undefined {
  for (let i = 0; r && i < MAX_RESOLVE; i++) {
    if (fn.params.some((p) => p.name === r!.root && !p.rest)) return r;
    r = pyResolveLocal(fn, line, r);
  }
  return undefined;
}

function pythonCall(trace: ParsedTrace, view: RepoView): FunctionCall | undefined {
  // A comprehension or lambda frame (`<listcomp>`, `<genexpr>`) runs inside its enclosing function, on the
  // same statement: the enclosing frame takes its line.
  const frames: StackFrame[] = [];
  for (const f of repoFrames(trace)) {
    const prev = frames.at(-1);
    if (
      prev &&
      /^<(genexpr|listcomp|dictcomp|setcomp|lambda)>$/.test(f.function ?? '') &&
      prev.repoPath === f.repoPath
    ) {
      frames[frames.length - 1] = { ...prev, line: f.line! };
    } else frames.push(f);
  }
  const inner = frames.at(-1);
  if (!inner) return undefined;
  const src = view.read(inner.repoPath!);
  if (src === undefined || !inner.function) return undefined;
  let fn = findPyFunction(src, inner.function, inner.line!);
  if (!fn) return undefined;
  const lineText = src.split(/\r?\n/)[inner.line! - 1] ?? inner.code ?? '';
  const reqs = pyFaultRequirements(trace.exceptionType, trace.message, lineText);
  for (const first of reqs) {
    let r = pyToParam(fn, inner.line!, first);
    let at = frames.length - 1;
    let cur = fn;
    while (r) {
      const mod = pythonModule(view, frames[at]!.repoPath!);
      if (cur.topLevel && mod && !cur.params.some((p) => p.name === 'self')) {
        return {
          language: 'python',
          file: frames[at]!.repoPath!,
          function: cur.name,
          isAsync: cur.isAsync,
          ...mod,
          kwargs: pyArgs(cur, r),
          exception: `${trace.exceptionType}: ${trace.message}`,
        };
      }
      // not callable from a test: carry the requirement to the caller
      const caller = frames[at - 1];
      if (!caller?.function) break;
      const csrc = view.read(caller.repoPath!);
      if (csrc === undefined) break;
      const cfn = findPyFunction(csrc, caller.function, caller.line!);
      if (!cfn) break;
      const callLine = csrc.split(/\r?\n/)[caller.line! - 1] ?? '';
      r = pyToParam(cfn, caller.line!, pyThroughCall(callLine, cur.name, cur.params, r));
      cur = cfn;
      at--;
    }
    fn = findPyFunction(src, inner.function, inner.line!)!;
  }
  return undefined;
}

function jsArgs(
  sf: ts.SourceFile,
  fn: FnNode,
  params: Param[],
  index: number,
  r: Requirement & { steps: Step[] },
): unknown[] {
  const body = fn.body ? sf.text.slice(fn.body.pos, fn.body.end) : '';
  const args: unknown[] = [];
  let last = index;
  params.forEach((p, i) => {
    if (p.rest) return;
    if (i === index) args[i] = buildWithUses(r.steps, r.leaf, jsUses(fn, params, i), 'node');
    else if (p.hasDefault) args[i] = UNDEFINED;
    else {
      args[i] = p.pattern
        ? buildWithUses([], { value: undefined }, jsUses(fn, params, i), 'node')
        : otherArg(jsUses(fn, params, i), p.name, body, 'node');
      last = Math.max(last, i);
    }
  });
  return args.slice(0, last + 1).map((a) => (a === undefined ? UNDEFINED : a));
}

function nodeCall(trace: ParsedTrace, view: RepoView): FunctionCall | undefined {
  const frames = repoFrames(trace);
  const inner = frames.at(-1);
  if (!inner) return undefined;
  const src = view.read(inner.repoPath!);
  if (src === undefined) return undefined;
  const sf = parseJs(src, inner.repoPath!);
  const pos = positionOf(sf, inner.line!, inner.column);
  if (pos === undefined) return undefined;
  const fn = functionAt(sf, pos, inner.function);
  if (!fn) return undefined;
  const reqs = jsFaultRequirements(sf, fn, inner.line!, inner.column, trace.exceptionType, trace.message);
  for (const first of reqs) {
    let at = frames.length - 1;
    let cur = { sf, fn, pos, frame: inner };
    let r: Requirement | undefined = first;
    while (r) {
      const params = jsParams(cur.fn);
      let p = onParam(params, r);
      for (let i = 0; !p && r && i < MAX_RESOLVE; i++) {
        r = jsResolveLocal(cur.sf, cur.fn, cur.pos, r);
        if (r) p = onParam(params, r);
      }
      if (!p || !r) break;
      const ex = exportOf(cur.sf, cur.fn);
      if (ex) {
        return {
          language: 'node',
          file: cur.frame.repoPath!,
          function: cur.frame.function ?? ex.binding,
          isAsync: isAsyncFn(cur.fn),
          binding: ex.binding,
          args: jsArgs(cur.sf, cur.fn, params, p.index, { ...r, steps: p.steps }),
          exception: `${trace.exceptionType}: ${trace.message}`,
        };
      }
      // An array callback (`orders.map((o) => cityOf(o))`): its element comes from the receiver, in the
      // function around it, which is the next frame out (past the engine's own Array.map frame).
      const cb = callbackReceiver(cur.fn, p.index);
      if (cb) {
        const outer = enclosingFn(cur.fn);
        const next = frames[at - 1];
        if (!outer || !next || next.repoPath !== cur.frame.repoPath) break;
        r = { root: cb.root, steps: [...cb.steps, { each: true }, ...p.steps], leaf: r.leaf };
        cur = { sf: cur.sf, fn: outer, pos: cur.pos, frame: next };
        at--;
        continue;
      }
      const caller = frames[at - 1];
      if (!caller) break;
      const csrc = view.read(caller.repoPath!);
      if (csrc === undefined) break;
      const csf = caller.repoPath === cur.frame.repoPath ? cur.sf : parseJs(csrc, caller.repoPath!);
      const cpos = positionOf(csf, caller.line!, caller.column);
      if (cpos === undefined) break;
      const cfn = functionAt(csf, cpos, caller.function);
      const name = cur.frame.function
        ?.replace(/^(async\s+)?(new\s+)?/, '')
        .split('.')
        .at(-1);
      if (!cfn || !name) break;
      r = jsThroughCall(csf, cfn, caller.line!, caller.column, name, p.index, p.steps, r.leaf);
      cur = { sf: csf, fn: cfn, pos: cpos, frame: caller };
      at--;
    }
  }
  return undefined;
}

/** The call a function-level test makes, or undefined when no callable function and input could be found. */
export function functionCall(trace: ParsedTrace | undefined, view: RepoView): FunctionCall | undefined {
  if (!trace) return undefined;
  return trace.language === 'python' ? pythonCall(trace, view) : nodeCall(trace, view);
}

/** The repo files function-level reconstruction reads: the trace's in-repo frames. */
export function framesFiles(trace: ParsedTrace | undefined): string[] {
  return trace ? [...new Set(repoFrames(trace).map((f) => f.repoPath!))] : [];
}
