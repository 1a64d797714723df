/**
 * Which test runner the repo's test command starts, and with what: through npm/yarn/pnpm scripts,
 * `npx`, `cross-env`, coverage wrappers and `python -m`, to the runner's own arguments. Pure: package.json
 * scripts come in as data.
 */
import { posix } from 'node:path';
import { isAssignment, type Segment, splitCommand, type Word } from './shell.ts';

export type Runner = 'pytest' | 'unittest' | 'node-test' | 'jest' | 'vitest' | 'mocha';

export function runnerLanguage(r: Runner): 'python' | 'node' {
  return r === 'pytest' || r === 'unittest' ? 'python' : 'node';
}

export interface Invocation {
  runner: Runner;
  /**
   * The words that start the runner, runnable from a plain shell in the repo (a bin reached through an
   * npm script is prefixed with `npx`): `python3 -m pytest`, `npx jest`, `node --import tsx --test`.
   */
  launcher: string[];
  /** The runner's arguments, as the command gives them (an npm script's extra `-- args` appended). */
  args: Word[];
  /** `NAME=value` words in front of the runner (kept for the single-test command). */
  env: string[];
  /** The directory it runs in, repo-relative ('' for the root): a leading `cd dir &&` or a script's package. */
  cwd: string;
}

/** Wrappers that run the command after their own options: stripped to reach the runner. */
const WRAPPERS = new Set(['npx', 'bunx', 'cross-env', 'env', 'nyc', 'c8', 'time', 'exec', 'dotenv', 'nohup']);
const WRAPPER_VALUE_OPTIONS = new Set([
  '-e',
  '--reporter',
  '-r',
  '--report-dir',
  '--temp-directory',
  '-p',
  '--package',
]);

const PYTHON = /^(.*\/)?python(\d+(\.\d+)?)?$/;
const SCRIPT_RUNNERS = new Set(['npm', 'yarn', 'pnpm', 'bun']);

export interface ScriptSource {
  /** package.json `scripts` of the package at `dir` (repo-relative), if it has one. */
  scripts(dir: string): Record<string, string> | undefined;
}

/**
 * The first simple command of `command` that starts a known runner. `depth` bounds npm script recursion
 * (a script naming itself is not followed forever).
 */
export function findInvocation(command: string, source: ScriptSource, cwd = '', depth = 0): Invocation | undefined {
  if (depth > 6) return undefined;
  let dir = cwd;
  for (const seg of splitCommand(command)) {
    const words = seg.map((w) => w.text);
    if (words[0] === 'cd' && words.length === 2) {
      const next = posix.normalize(posix.join(dir, words[1]!));
      if (next.startsWith('..') || posix.isAbsolute(next)) return undefined;
      dir = next === '.' ? '' : next;
      continue;
    }
    const inv = fromSegment(seg, source, dir, depth);
    if (inv) return inv;
  }
  return undefined;
}

function fromSegment(seg: Segment, source: ScriptSource, cwd: string, depth: number): Invocation | undefined {
  const env: string[] = [];
  let i = 0;
  let viaPackageBin = false;
  // Leading assignments and wrappers (with their options) in any order.
  for (;;) {
    const w = seg[i]?.text;
    if (w === undefined) return undefined;
    if (isAssignment(w)) {
      env.push(w);
      i++;
      continue;
    }
    const name = posix.basename(w);
    if (WRAPPERS.has(name)) {
      if (name === 'npx' || name === 'bunx') viaPackageBin = true;
      i++;
      while (seg[i] && (seg[i]!.text.startsWith('-') || isAssignment(seg[i]!.text))) {
        const opt = seg[i]!.text;
        if (isAssignment(opt)) env.push(opt);
        i++;
        if (opt === '--') break;
        if (WRAPPER_VALUE_OPTIONS.has(opt) && name !== 'npx') i++;
      }
      continue;
    }
    if ((name === 'pnpm' || name === 'yarn') && (seg[i + 1]?.text === 'exec' || seg[i + 1]?.text === 'dlx')) {
      viaPackageBin = true;
      i += 2;
      continue;
    }
    if ((name === 'poetry' || name === 'pipenv' || name === 'uv' || name === 'hatch') && seg[i + 1]?.text === 'run') {
      i += 2;
      continue;
    }
    break;
  }
  const head = seg[i]!.text;
  const rest = seg.slice(i + 1);
  const name = posix.basename(head);

  if (SCRIPT_RUNNERS.has(name)) return fromScript(name, rest, source, cwd, env, depth);

  if (PYTHON.test(name)) return fromPython(seg.slice(i), cwd, env);
  if (name === 'pytest' || name === 'py.test') {
    return { runner: 'pytest', launcher: [head], args: rest, env, cwd };
  }
  if (name === 'coverage' && rest[0]?.text === 'run') {
    const m = rest.findIndex((w) => w.text === '-m');
    if (m !== -1) return fromModule(['python3', '-m'], rest.slice(m + 1), cwd, env);
    return undefined;
  }
  if (name === 'node' || name === 'nodejs') return fromNode(head, rest, cwd, env);

  const bin = (b: string) => (viaPackageBin || !head.includes('/') ? ['npx', b] : [head]);
  if (name === 'jest') return { runner: 'jest', launcher: bin('jest'), args: rest, env, cwd };
  if (name === 'mocha' || name === '_mocha' || name === 'ts-mocha') {
    return { runner: 'mocha', launcher: bin(name), args: rest, env, cwd };
  }
  if (name === 'vitest') return fromVitest(bin('vitest'), rest, cwd, env);
  return undefined;
}

/** `python3 [-X dev] [-W error] -m pytest|unittest|coverage run -m …` */
function fromPython(words: Word[], cwd: string, env: string[]): Invocation | undefined {
  const launcher = [words[0]!.text];
  let i = 1;
  while (words[i] && words[i]!.text !== '-m') {
    const w = words[i]!.text;
    if (!w.startsWith('-')) return undefined; // python3 some_script.py
    launcher.push(w);
    if ((w === '-W' || w === '-X') && words[i + 1]) launcher.push(words[++i]!.text);
    i++;
  }
  if (words[i]?.text !== '-m') return undefined;
  return fromModule([...launcher, '-m'], words.slice(i + 1), cwd, env);
}

function fromModule(launcher: string[], words: Word[], cwd: string, env: string[]): Invocation | undefined {
  const mod = words[0]?.text;
  const rest = words.slice(1);
  if (mod === 'pytest' || mod === 'py.test')
    return { runner: 'pytest', launcher: [...launcher, mod], args: rest, env, cwd };
  if (mod === 'unittest') return { runner: 'unittest', launcher: [...launcher, mod], args: rest, env, cwd };
  if (mod === 'coverage' && rest[0]?.text === 'run') {
    const m = rest.findIndex((w) => w.text === '-m');
    if (m !== -1) return fromModule(launcher, rest.slice(m + 1), cwd, env);
  }
  return undefined;
}

/** Node flags that take a separate value word. */
const NODE_VALUE_FLAGS = new Set([
  '-r',
  '--require',
  '--import',
  '--loader',
  '--experimental-loader',
  '--test-reporter',
  '--test-reporter-destination',
  '--test-name-pattern',
  '--test-skip-pattern',
  '--test-concurrency',
  '--test-timeout',
  '--test-shard',
  '--conditions',
  '-C',
  '--env-file',
  '--input-type',
  '--stack-trace-limit',
  '--max-old-space-size',
  '--title',
  '--test-coverage-include',
  '--test-coverage-exclude',
  '--test-coverage-lines',
  '--test-coverage-branches',
  '--test-coverage-functions',
]);

/** `node [flags] --test [files|globs|dirs]` or `node [flags] node_modules/.bin/jest …`. */
function fromNode(head: string, rest: Word[], cwd: string, env: string[]): Invocation | undefined {
  const flags: string[] = [];
  let test = false;
  let i = 0;
  for (; i < rest.length; i++) {
    const w = rest[i]!.text;
    if (!w.startsWith('-') || w === '-') break;
    if (w === '--') {
      i++;
      break;
    }
    if (w === '--test') {
      test = true;
      continue;
    }
    flags.push(w);
    if (NODE_VALUE_FLAGS.has(w) && rest[i + 1]) flags.push(rest[++i]!.text);
  }
  if (test) return { runner: 'node-test', launcher: [head, ...flags, '--test'], args: rest.slice(i), env, cwd };
  const script = rest[i]?.text;
  if (!script) return undefined;
  const args = rest.slice(i + 1);
  const launcher = [head, ...flags, script];
  if (/(^|\/)(jest(-cli)?\/bin\/jest(\.js)?|\.bin\/jest)$/.test(script))
    return { runner: 'jest', launcher, args, env, cwd };
  if (/(^|\/)(mocha\/bin\/(_?mocha|mocha\.js)|\.bin\/_?mocha)$/.test(script))
    return { runner: 'mocha', launcher, args, env, cwd };
  if (/(^|\/)(vitest\/vitest\.mjs|\.bin\/vitest)$/.test(script)) return fromVitest(launcher, args, cwd, env);
  return undefined;
}

function fromVitest(launcher: string[], rest: Word[], cwd: string, env: string[]): Invocation {
  const sub = rest[0]?.text;
  const args = sub === 'run' || sub === 'watch' || sub === 'dev' || sub === 'related' ? rest.slice(1) : rest;
  return { runner: 'vitest', launcher, args, env, cwd };
}

/** `npm test`, `npm run x -- args`, `yarn x args`, `pnpm run x`: the script's own command, args appended. */
function fromScript(
  tool: string,
  rest: Word[],
  source: ScriptSource,
  cwd: string,
  env: string[],
  depth: number,
): Invocation | undefined {
  let i = 0;
  let dir = cwd;
  // Options before the script name: only a directory switch changes anything placement cares about.
  while (rest[i]?.text.startsWith('-')) {
    const o = rest[i]!.text;
    if ((o === '--prefix' || o === '-C' || o === '--dir' || o === '--cwd') && rest[i + 1]) {
      const next = posix.normalize(posix.join(dir, rest[i + 1]!.text));
      if (next.startsWith('..') || posix.isAbsolute(next)) return undefined;
      dir = next === '.' ? '' : next;
      i += 2;
      continue;
    }
    if (/^(--workspace|-w|--filter|--recursive|-r|--workspaces|-ws)$/.test(o)) return undefined;
    i++;
  }
  const first = rest[i]?.text;
  i++;
  let cmd: string | undefined;
  if (first === 'run' || first === 'run-script') {
    cmd = rest[i]?.text;
    i++;
  } else if (first === 'test' || first === 't' || first === 'tst') {
    cmd = 'test';
  } else if (tool === 'npm') {
    return undefined; // npm ci, npm install, npm exec…: not a script
  } else {
    cmd = first; // `yarn test:unit`, `pnpm lint`
  }
  if (!cmd) return undefined;
  let extra = rest.slice(i);
  if (tool === 'npm' || tool === 'bun') {
    const dd = extra.findIndex((w) => w.text === '--');
    extra = dd === -1 ? [] : extra.slice(dd + 1);
  } else if (extra[0]?.text === '--') {
    extra = extra.slice(1);
  }
  const scripts = source.scripts(dir);
  const script = scripts?.[cmd];
  if (script === undefined) {
    // yarn/pnpm run a package bin of that name when there is no script.
    if (tool !== 'npm' && ['jest', 'mocha', 'vitest'].includes(cmd)) {
      return fromSegment(
        [{ text: 'npx', shellGlob: false }, { text: cmd, shellGlob: false }, ...extra],
        source,
        dir,
        depth,
      );
    }
    return undefined;
  }
  const joined = extra.length ? `${script} ${extra.map((w) => quoteForReparse(w)).join(' ')}` : script;
  const inv = findInvocation(joined, source, dir, depth + 1);
  if (!inv) return undefined;
  // Inside a script, package bins are on PATH; outside it they need npx.
  const nodeBin = inv.runner === 'jest' || inv.runner === 'mocha' || inv.runner === 'vitest';
  const launcher = nodeBin && isBareBin(inv.launcher[0]!) ? ['npx', ...inv.launcher] : inv.launcher;
  return { ...inv, launcher, env: [...env, ...inv.env] };
}

function isBareBin(word: string): boolean {
  return !word.includes('/') && !/^(npx|bunx|node|nodejs)$/.test(word);
}

/** An extra argument re-joined to a script for re-parsing, keeping whether it was a shell glob. */
function quoteForReparse(w: Word): string {
  return w.shellGlob ? w.text : `'${w.text.replace(/'/g, `'\\''`)}'`;
}
