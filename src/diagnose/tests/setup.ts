/**
 * The repo's test setup, detected: which framework its test command runs (from the command, package.json
 * scripts and devDependencies, config files and the existing tests), where that command collects a new
 * file, and the style its tests are written in (module syntax, TypeScript, assertion library, test client
 * fixtures). Pure: the repo comes in as a `RepoView`.
 */
import { posix } from 'node:path';
import type { ServiceConfig } from '../../config/service.ts';
import {
  jestCollection,
  mochaCollection,
  nodeTestCollection,
  packageJson,
  TS_LOADER,
  vitestCollection,
} from './collect-node.ts';
import { pytestCollection, unittestCollection } from './collect-python.ts';
import type { Collection } from './collection.ts';
import { findInvocation, type Invocation, type Runner, runnerLanguage } from './command.ts';
import { dirOf, joinRel, type RepoView } from './repo-view.ts';
import { moduleKindOf } from './style.ts';

export type Framework = Runner;

export interface TestSetup {
  language: 'python' | 'node';
  framework: Framework;
  /** How the repo's command starts the runner; undefined when the command could not be read. */
  invocation?: Invocation;
  collection: Collection;
  /** Existing test files the command collects (or, when it cannot be read, that look like tests). */
  existingTests: string[];
  notes: string[];
}

const PY_TEST_FILE = /(^|\/)(test_[^/]*|[^/]*_test)\.py$/;
const JS_TEST_FILE = /(^|\/)(__tests__\/|tests?\/)[^/]*\.[cm]?[jt]sx?$|[.\-_](test|spec)\.[cm]?[jt]sx?$/;

function deps(view: RepoView, dir: string): Record<string, string> {
  const pkg = packageJson(view, dir) ?? (dir ? packageJson(view, '') : undefined);
  return {
    ...((pkg?.dependencies as Record<string, string>) ?? {}),
    ...((pkg?.devDependencies as Record<string, string>) ?? {}),
  };
}

/** The runner when the command cannot say: the repo's configs, dependencies and tests. */
function guessRunner(language: 'python' | 'node', view: RepoView): Runner {
  if (language === 'python') {
    const tests = view.files.filter((f) => PY_TEST_FILE.test(f));
    const pytestish =
      view.files.some((f) => /(^|\/)(conftest\.py|pytest\.ini|\.pytest\.ini)$/.test(f)) ||
      /\[tool\.pytest|pytest/.test(view.read('pyproject.toml') ?? '') ||
      tests.some((t) => /^\s*(import pytest|from pytest|def test_)/m.test(view.read(t) ?? ''));
    if (pytestish) return 'pytest';
    return tests.length && tests.every((t) => /unittest/.test(view.read(t) ?? '')) ? 'unittest' : 'pytest';
  }
  const d = deps(view, '');
  if (d.vitest) return 'vitest';
  if (d.jest || d['ts-jest'] || d['babel-jest']) return 'jest';
  if (d.mocha) return 'mocha';
  return 'node-test';
}

/** A synthetic invocation for a runner run without arguments (when the command is opaque). */
export function defaultInvocation(runner: Runner): Invocation {
  const launcher: Record<Runner, string[]> = {
    pytest: ['python3', '-m', 'pytest'],
    unittest: ['python3', '-m', 'unittest'],
    'node-test': ['node', '--test'],
    jest: ['npx', 'jest'],
    vitest: ['npx', 'vitest'],
    mocha: ['npx', 'mocha'],
  };
  return { runner, launcher: launcher[runner], args: [], env: [], cwd: '' };
}

function collectionFor(inv: Invocation, view: RepoView): Collection {
  switch (inv.runner) {
    case 'pytest':
      return pytestCollection(inv, view);
    case 'unittest':
      return unittestCollection(inv, view);
    case 'node-test':
      return nodeTestCollection(inv, view);
    case 'jest':
      return jestCollection(inv, view);
    case 'vitest':
      return vitestCollection(inv, view);
    case 'mocha':
      return mochaCollection(inv, view);
  }
}

export function detectTestSetup(config: Pick<ServiceConfig, 'language' | 'test'>, view: RepoView): TestSetup {
  const notes: string[] = [];
  const scripts = {
    scripts: (dir: string) => {
      const s = packageJson(view, dir)?.scripts;
      return s && typeof s === 'object' ? (s as Record<string, string>) : undefined;
    },
  };
  let invocation = findInvocation(config.test, scripts);
  if (invocation && runnerLanguage(invocation.runner) !== config.language) {
    notes.push(`the test command runs ${invocation.runner}, not a ${config.language} runner`);
    invocation = undefined;
  }
  const runner = invocation?.runner ?? guessRunner(config.language, view);
  if (!invocation) {
    notes.push(
      `the test command \`${config.test}\` does not name a runner suture reads (pytest, unittest, node --test, jest, vitest, mocha): ${runner}'s defaults are assumed`,
    );
  }
  const collection = collectionFor(invocation ?? defaultInvocation(runner), view);
  notes.push(...collection.notes);
  const collected = view.files.filter((f) => collection.collects(f));
  const pattern = config.language === 'python' ? PY_TEST_FILE : JS_TEST_FILE;
  const existingTests = collected.length
    ? collected
    : view.files.filter((f) => pattern.test(f) && !f.includes('node_modules/'));
  return {
    language: config.language,
    framework: runner,
    ...(invocation ? { invocation } : {}),
    collection,
    existingTests,
    notes,
  };
}

// ------------------------------------------------------------------------------------------------ placement

export interface Placement {
  /** The new test file, or the existing one the test is appended to. */
  path: string;
  append: boolean;
  /** Whether the repo's own test command collects it. */
  collected: boolean;
}

/** Path components shared from the front: how close a test directory sits to the crashing file. */
function closeness(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return n;
}

function stem(p: string): string {
  return posix
    .basename(p)
    .replace(/\.[^.]+$/, '')
    .replace(/^test_|_test$|[.\-_](test|spec)$/g, '');
}

/** Directories to try for a new test, best first: next to the repo's related tests, then the command's roots. */
function candidateDirs(setup: TestSetup, crashFile: string | undefined, conventional: string[]): string[] {
  const byDir = new Map<string, { count: number; related: number }>();
  const crashStem = crashFile ? stem(crashFile) : undefined;
  for (const t of setup.existingTests) {
    const d = dirOf(t);
    const e = byDir.get(d) ?? { count: 0, related: 0 };
    e.count++;
    if (crashStem && stem(t) === crashStem) e.related++;
    byDir.set(d, e);
  }
  const ranked = [...byDir.entries()].sort(
    ([a, x], [b, y]) =>
      y.related - x.related ||
      (crashFile ? closeness(b, dirOf(crashFile)) - closeness(a, dirOf(crashFile)) : 0) ||
      y.count - x.count ||
      a.split('/').length - b.split('/').length ||
      (a < b ? -1 : 1),
  );
  const roots = setup.collection.roots;
  const cwd = setup.invocation?.cwd ?? '';
  const extra = [
    ...roots.flatMap((r) => [r, ...conventional.map((c) => joinRel(r, c))]),
    ...conventional.map((c) => joinRel(cwd, c)),
    cwd,
  ];
  return [...new Set([...ranked.map(([d]) => d), ...extra.filter((d): d is string => d !== undefined)])];
}

/** Counts of a property over the existing tests, most common first. */
function tally<T>(items: T[]): T[] {
  const m = new Map<T, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
}

function pythonNames(setup: TestSetup, view: RepoView, fp: string): string[] {
  const inv = setup.invocation;
  const patterns: string[] = [];
  if (setup.framework === 'unittest' && inv) {
    const p = /(?:^|\s)(?:-p|--pattern)(?:\s+|=)(\S+)/.exec(inv.args.map((w) => w.text).join(' '));
    if (p) patterns.push(p[1]!);
  }
  const existing = tally(
    setup.existingTests.map((t) =>
      /^test_/.test(posix.basename(t)) ? 'test_*.py' : /_test\.py$/.test(t) ? '*_test.py' : '',
    ),
  ).filter(Boolean);
  const names = [...existing, 'test_*.py', '*_test.py', ...patterns, ...pythonFilePatterns(view, setup)]
    .filter((p) => (p.match(/\*/g) ?? []).length === 1 && !/[?[\]/]/.test(p) && p.endsWith('.py'))
    .map((p) => p.replace('*', `suture_${fp}`))
    .filter((n) => /^[A-Za-z_]\w*\.py$/.test(n));
  return [...new Set(names)];
}

/** python_files patterns, for names a custom configuration allows (`check_*.py`). */
function pythonFilePatterns(view: RepoView, setup: TestSetup): string[] {
  const texts = ['pytest.ini', '.pytest.ini', 'tox.ini', 'setup.cfg', 'pyproject.toml'].map((f) => view.read(f) ?? '');
  const out: string[] = [];
  for (const t of texts) {
    const m = /python_files\s*=\s*(\[[^\]]*\]|[^\n]+)/.exec(t);
    if (m) out.push(...(m[1]!.match(/[\w*.-]+\.py/g) ?? []));
  }
  return setup.framework === 'pytest' ? out : [];
}

interface JsNaming {
  suffixes: string[];
  extensions: string[];
}

const JS_EXT = /\.([cm]?[jt]sx?)$/;

function jsNaming(setup: TestSetup): JsNaming {
  const tests = setup.existingTests;
  // `a.test.js` → `.test`, `a.check.js` → `.check`, `a_spec.js` → `_spec`, `test-a.js` → `test-`
  const suffixOf = (t: string) => {
    const base = posix.basename(t).replace(JS_EXT, '');
    const m = /(\.[A-Za-z][\w-]*|[-_](test|spec))$/.exec(base);
    return m && m.index > 0 ? m[1]! : /^test-/.test(base) ? 'test-' : '';
  };
  const typescriptOk =
    setup.collection.typescript === true ||
    setup.framework === 'vitest' ||
    tests.some((t) => /\.[cm]?tsx?$/.test(t)) ||
    (setup.framework === 'jest' && TS_LOADER.test(setup.invocation?.launcher.join(' ') ?? ''));
  const exts = tally(tests.map((t) => JS_EXT.exec(t)?.[1] ?? '').filter((e) => e && !e.endsWith('x')));
  const defaults = ['js', 'mjs', 'cjs', ...(typescriptOk ? ['ts', 'mts', 'cts'] : [])];
  const extensions = [...new Set([...exts.filter((e) => typescriptOk || !e.includes('t')), ...defaults])].filter(
    (e) => !setup.collection.extensions || setup.collection.extensions.includes(e),
  );
  const suffixes = [...new Set([...tally(tests.map(suffixOf)), '.test', '.spec', '-test', '_test', 'test-', ''])];
  return { suffixes, extensions };
}

const ESM_SYNTAX = /^\s*(import\s[^(]|export\s)/m;
const CJS_SYNTAX = /\brequire\s*\(|\bmodule\.exports\b|\bexports\.\w+\s*=/;

/**
 * The module syntax the new test should be written in when Node runs it as is (node --test, mocha): the
 * existing tests', else the crashing module's, else what the package says `.js` is.
 */
function preferredSyntax(setup: TestSetup, view: RepoView, crashFile: string | undefined): 'esm' | 'cjs' | undefined {
  if (setup.framework !== 'node-test' && setup.framework !== 'mocha') return undefined;
  const texts = setup.existingTests.slice(0, 12).map((t) => view.read(t) ?? '');
  const esm = texts.filter((t) => ESM_SYNTAX.test(t)).length;
  const cjs = texts.filter((t) => !ESM_SYNTAX.test(t) && CJS_SYNTAX.test(t)).length;
  if (esm || cjs) return esm >= cjs ? 'esm' : 'cjs';
  const src = crashFile ? view.read(crashFile) : undefined;
  if (src && ESM_SYNTAX.test(src)) return 'esm';
  if (src && CJS_SYNTAX.test(src)) return 'cjs';
  return undefined;
}

function jsNames(
  setup: TestSetup,
  view: RepoView,
  fp: string,
  dir: string,
  syntax: 'esm' | 'cjs' | undefined,
): string[] {
  const { suffixes, extensions } = jsNaming(setup);
  // An extension that makes the file the other kind of module (`.js` in a CommonJS package for an ESM
  // test) goes after the ones that fit: `.mjs` then, when the command collects it.
  const fits = (ext: string) =>
    !syntax || !/^[cm]?js$/.test(ext) || moduleKindOf(view, dir ? `${dir}/x.${ext}` : `x.${ext}`) === syntax;
  const ordered = [...extensions.filter(fits), ...extensions.filter((e) => !fits(e))];
  const out: string[] = [];
  for (const ext of ordered) {
    for (const s of suffixes) out.push(s === 'test-' ? `test-suture-${fp}.${ext}` : `suture-${fp}${s}.${ext}`);
  }
  return out;
}

/** A place for the new test: a new file the command collects, else a named file to extend, else a convention. */
export function placeTest(setup: TestSetup, view: RepoView, fp: string, crashFile?: string): Placement {
  const python = setup.language === 'python';
  const conventional = python ? ['tests', 'test'] : ['test', 'tests', '__tests__', 'spec'];
  const syntax = python ? undefined : preferredSyntax(setup, view, crashFile);
  const namesIn = (d: string) => (python ? pythonNames(setup, view, fp) : jsNames(setup, view, fp, d, syntax));
  const names = namesIn('');
  const dirs = candidateDirs(setup, crashFile, conventional);
  const taken = new Set(view.files);
  for (const d of dirs) {
    for (const n of namesIn(d)) {
      const p = d ? `${d}/${n}` : n;
      if (!taken.has(p) && setup.collection.collects(p)) return { path: p, append: false, collected: true };
    }
  }
  const explicit = setup.collection.explicit.filter((f) => taken.has(f));
  if (explicit.length) {
    const crashStem = crashFile ? stem(crashFile) : '';
    const best = [...explicit].sort(
      (a, b) =>
        Number(stem(b) === crashStem) - Number(stem(a) === crashStem) ||
        (crashFile ? closeness(b, crashFile) - closeness(a, crashFile) : 0),
    )[0]!;
    return { path: best, append: true, collected: true };
  }
  // Nothing the command collects: a conventional place, verified on its own, and said so.
  const dir = conventional.find((c) => view.files.some((f) => f.startsWith(`${c}/`))) ?? conventional[0]!;
  const name = names[0] ?? (python ? `test_suture_${fp}.py` : `suture-${fp}.test.mjs`);
  return { path: `${dir}/${name}`, append: false, collected: false };
}
