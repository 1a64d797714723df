/**
 * Where pytest and `python -m unittest` collect test files, from the command and the repo's pytest
 * configuration (pytest.ini, .pytest.ini, pyproject.toml, tox.ini, setup.cfg: the first that configures
 * pytest, as pytest picks its inifile). Pure.
 */
import { posix } from 'node:path';
import { type ArgItem, optionValues, parseArgs, positionals } from './args.ts';
import type { Collection } from './collection.ts';
import type { Invocation } from './command.ts';
import { parseIni, parseTomlSafe } from './config-files.ts';
import { fnmatch, globRegExp, hasGlob } from './glob.ts';
import { dirOf, isDir, joinRel, type RepoView, relTo, within } from './repo-view.ts';
import { splitCommand } from './shell.ts';

export const PYTEST_OPTIONS = {
  value: new Set([
    '-k',
    '-m',
    '-p',
    '-c',
    '-o',
    '-W',
    '-n',
    '-r',
    '--config-file',
    '--override-ini',
    '--rootdir',
    '--confcutdir',
    '--basetemp',
    '--ignore',
    '--ignore-glob',
    '--deselect',
    '--junitxml',
    '--junit-xml',
    '--junit-prefix',
    '--log-level',
    '--log-file',
    '--log-file-level',
    '--log-cli-level',
    '--log-format',
    '--log-date-format',
    '--cov-report',
    '--cov-config',
    '--cov-fail-under',
    '--cov-context',
    '--durations',
    '--durations-min',
    '--maxfail',
    '--tb',
    '--capture',
    '--import-mode',
    '--dist',
    '--numprocesses',
    '--maxprocesses',
    '--reruns',
    '--reruns-delay',
    '--timeout',
    '--html',
    '--alluredir',
    '--pyargs-root',
    '--color',
    '--code-highlight',
    '--show-capture',
    '--assert',
    '--rootdir',
    '--ds',
    '--dc',
    '--randomly-seed',
    '-x-seed',
  ]),
  optional: new Set(['--cov']),
};

const DEFAULT_PYTHON_FILES = ['test_*.py', '*_test.py'];
const DEFAULT_NORECURSE = ['*.egg', '.*', '_darcs', 'build', 'CVS', 'dist', 'node_modules', 'venv', '{arch}'];

export interface PytestIni {
  /** Repo-relative directory of the inifile ('' for the root). */
  rootdir: string;
  file?: string;
  get(key: string): string[] | undefined;
}

function words(value: string): string[] {
  return splitCommand(value.replace(/\n/g, ' '))
    .flat()
    .map((w) => w.text);
}

function iniFrom(view: RepoView, file: string): PytestIni | undefined {
  const text = view.read(file);
  if (text === undefined) return undefined;
  const base = posix.basename(file);
  const rootdir = dirOf(file);
  if (base === 'pyproject.toml') {
    const toml = parseTomlSafe(text);
    const tool = (toml?.tool ?? {}) as Record<string, unknown>;
    const pytest = tool.pytest as Record<string, unknown> | undefined;
    if (!pytest) return undefined;
    // pytest ≥ 9 reads native TOML under [tool.pytest]; older ones [tool.pytest.ini_options].
    const opts = (pytest.ini_options as Record<string, unknown> | undefined) ?? pytest;
    return {
      rootdir,
      file,
      get(key) {
        const v = opts[key];
        if (v === undefined) return undefined;
        if (Array.isArray(v)) return v.map(String);
        return key === 'addopts' ? words(String(v)) : String(v).split(/\s+/).filter(Boolean);
      },
    };
  }
  const ini = parseIni(text);
  const section =
    base === 'setup.cfg'
      ? ini.get('tool:pytest')
      : base === 'tox.ini'
        ? ini.get('pytest')
        : (ini.get('pytest') ?? new Map());
  if (!section) return undefined;
  return {
    rootdir,
    file,
    get(key) {
      const v = section.get(key);
      if (v === undefined) return undefined;
      return key === 'addopts' ? words(v) : v.split(/\s+/).filter(Boolean);
    },
  };
}

/** pytest's inifile: `-c FILE`, else the first configuring file in the start directory or above it. */
export function findPytestIni(view: RepoView, start: string, explicit?: string): PytestIni | undefined {
  if (explicit !== undefined) {
    const f = joinRel(start, explicit);
    return f === undefined ? undefined : (iniFrom(view, f) ?? { rootdir: dirOf(f), get: () => undefined });
  }
  for (let dir: string | undefined = start; dir !== undefined; dir = dir === '' ? undefined : dirOf(dir)) {
    for (const name of ['pytest.ini', '.pytest.ini', 'pyproject.toml', 'tox.ini', 'setup.cfg']) {
      const f = dir === '' ? name : `${dir}/${name}`;
      if (!view.files.includes(f)) continue;
      const ini = iniFrom(view, f);
      if (ini) return ini;
    }
  }
  return undefined;
}

/** A pytest `-m`/`-k` expression evaluated for a set of names (`-k` matches substrings, case-insensitively). */
export function evalExpr(expr: string, matches: (ident: string) => boolean): boolean | undefined {
  const toks = expr.match(/\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const primary = (): boolean | undefined => {
    const t = toks[i++];
    if (t === undefined) return undefined;
    if (t === 'not') {
      const v = primary();
      return v === undefined ? undefined : !v;
    }
    if (t === '(') {
      const v = or();
      if (toks[i++] !== ')') return undefined;
      return v;
    }
    if (t === ')' || t === 'and' || t === 'or') return undefined;
    return matches(t.replace(/\(.*$/, ''));
  };
  const and = (): boolean | undefined => {
    let v = primary();
    while (toks[i] === 'and') {
      i++;
      const r = primary();
      v = v === undefined || r === undefined ? undefined : v && r;
    }
    return v;
  };
  const or = (): boolean | undefined => {
    let v = and();
    while (toks[i] === 'or') {
      i++;
      const r = and();
      v = v === undefined || r === undefined ? undefined : v || r;
    }
    return v;
  };
  const v = or();
  return i === toks.length ? v : undefined;
}

/** The fewest markers that make `-m expr` select a test: none, one of its names, or all of them. */
export function markersFor(expr: string): string[] | undefined {
  const idents = [...new Set((expr.match(/[A-Za-z_][\w]*/g) ?? []).filter((t) => !['and', 'or', 'not'].includes(t)))];
  const tries = [[], ...idents.map((m) => [m]), idents];
  for (const set of tries) if (evalExpr(expr, (m) => set.includes(m))) return set;
  return undefined;
}

/** Names a test in `path` answers to for `-k`: its directories, module, class and function. */
export const SUTURE_TEST_NAMES = ['test_suture_regression', 'TestSutureRegression'];

export function pytestCollection(inv: Invocation, view: RepoView): Collection {
  const notes: string[] = [];
  const cmdItems = parseArgs(inv.args, PYTEST_OPTIONS);
  const explicitIni = optionValues(cmdItems, '-c', '--config-file')[0];
  const cmdPos = positionals(cmdItems).map((a) => a.value!);
  // rootdir: from the common ancestor of the path arguments, else the invocation directory.
  const firstArgDir = cmdPos.length ? joinRel(inv.cwd, cmdPos[0]!.split('::')[0]!) : undefined;
  const start = firstArgDir !== undefined && !isDir(view, firstArgDir) ? dirOf(firstArgDir) : (firstArgDir ?? inv.cwd);
  const ini = findPytestIni(view, start, explicitIni);
  const overrides = new Map<string, string[]>();
  for (const o of optionValues(cmdItems, '-o', '--override-ini')) {
    const eq = o.indexOf('=');
    if (eq > 0) overrides.set(o.slice(0, eq).trim(), words(o.slice(eq + 1)));
  }
  const opt = (key: string) => overrides.get(key) ?? ini?.get(key);
  const items: ArgItem[] = [
    ...parseArgs(
      (opt('addopts') ?? []).map((text) => ({ text })),
      PYTEST_OPTIONS,
    ),
    ...cmdItems,
  ];
  const pythonFiles = opt('python_files') ?? DEFAULT_PYTHON_FILES;
  const norecurse = opt('norecursedirs') ?? DEFAULT_NORECURSE;
  const ignores = optionValues(items, '--ignore')
    .map((p) => joinRel(inv.cwd, p))
    .filter((p) => p !== undefined);
  const ignoreGlobs = optionValues(items, '--ignore-glob');
  const pos = positionals(items).map((a) => a.value!);
  const rootdir = ini?.rootdir ?? inv.cwd;

  let roots: string[];
  const explicit: string[] = [];
  if (pos.length) {
    roots = [];
    for (const p of pos) {
      const rel = joinRel(inv.cwd, p.split('::')[0]!);
      if (rel === undefined) continue;
      if (isDir(view, rel)) roots.push(rel);
      else explicit.push(rel);
    }
  } else {
    const testpaths = opt('testpaths');
    if (testpaths?.length && inv.cwd === rootdir) {
      roots = [];
      const dirs = allDirs(view);
      for (const t of testpaths) {
        const rel = joinRel(rootdir, t);
        if (rel === undefined) continue;
        if (hasGlob(t)) {
          const re = globRegExp(rel, { dot: true });
          roots.push(...dirs.filter((d) => re.test(d)), ...view.files.filter((f) => re.test(f)));
        } else roots.push(rel);
      }
    } else roots = [inv.cwd];
  }
  const rootFiles = new Set(explicit);
  const dirRoots = roots.filter((r) => !rootFiles.has(r));

  const mExpr = optionValues(items, '-m').at(-1);
  const markers = mExpr ? markersFor(mExpr) : [];
  if (mExpr && !markers)
    notes.push(
      `the test command selects tests by the marker expression \`${mExpr}\`, which a new test cannot be made to satisfy`,
    );
  const kExpr = optionValues(items, '-k').at(-1);

  const venvs = view.files.filter((f) => posix.basename(f) === 'pyvenv.cfg').map(dirOf);
  const collects = (path: string): boolean => {
    if (!path.endsWith('.py')) return false;
    if (ignores.some((i) => within(path, i))) return false;
    if (ignoreGlobs.some((g) => fnmatch(path, g) || fnmatch(posix.basename(path), g))) return false;
    if (venvs.some((v) => within(path, v))) return false;
    const root = dirRoots.find((r) => within(path, r));
    if (root === undefined) return false;
    const dirs = relTo(dirOf(path), root).split('/').filter(Boolean);
    if (dirs.some((d) => norecurse.some((n) => fnmatch(d, n)))) return false;
    const base = posix.basename(path);
    if (!pythonFiles.some((p) => (p.includes('/') ? fnmatch(path, p) : fnmatch(base, p)))) return false;
    if (mExpr && !markers) return false;
    if (kExpr) {
      const names = [...dirOf(path).split('/'), base, base.replace(/\.py$/, ''), ...SUTURE_TEST_NAMES].map((n) =>
        n.toLowerCase(),
      );
      if (!evalExpr(kExpr, (id) => names.some((n) => n.includes(id.toLowerCase())))) return false;
    }
    return true;
  };
  // A test function must match python_functions: the first plain prefix pattern (`check_*`, `test`) names it.
  const functionPrefix = (opt('python_functions') ?? ['test'])
    .map((p) => p.replace(/\*$/, ''))
    .find((p) => /^[A-Za-z_]\w*$/.test(p));
  if (!functionPrefix) notes.push('python_functions has no plain prefix pattern a test function can be named by');
  return {
    collects: (path) => functionPrefix !== undefined && collects(path),
    roots: dirRoots,
    explicit: dirRoots.length ? [] : explicit,
    notes,
    ...(markers?.length ? { markers } : {}),
    ...(functionPrefix && functionPrefix !== 'test' ? { functionPrefix } : {}),
  };
}

function allDirs(view: RepoView): string[] {
  const dirs = new Set<string>();
  for (const f of view.files) for (let d = dirOf(f); d !== ''; d = dirOf(d)) dirs.add(d);
  return [...dirs];
}

const UNITTEST_OPTIONS = {
  value: new Set(['-k', '-s', '-p', '-t', '--start-directory', '--pattern', '--top-level-directory']),
};

export interface UnittestDiscovery {
  start: string;
  pattern: string;
  top?: string;
}

/** `python -m unittest [discover …]`: discovery's start, pattern and top, or the names it runs. */
export function unittestArgs(inv: Invocation): { discovery?: UnittestDiscovery; names: string[]; k: string[] } {
  const args = inv.args.map((w) => w.text);
  const discover = args[0] === 'discover';
  const items = parseArgs(
    (discover ? args.slice(1) : args).map((text) => ({ text })),
    UNITTEST_OPTIONS,
  );
  const pos = positionals(items).map((a) => a.value!);
  const k = optionValues(items, '-k');
  if (!discover && pos.length) return { names: pos, k };
  const start = optionValues(items, '-s', '--start-directory')[0] ?? (discover ? pos[0] : undefined) ?? '.';
  const pattern = optionValues(items, '-p', '--pattern')[0] ?? (discover ? pos[1] : undefined) ?? 'test*.py';
  const top = optionValues(items, '-t', '--top-level-directory')[0] ?? (discover ? pos[2] : undefined);
  return { discovery: { start, pattern, ...(top ? { top } : {}) }, names: [], k };
}

/** unittest discovery descends only into packages (directories with `__init__.py`) below its start. */
export function unittestCollection(inv: Invocation, view: RepoView): Collection {
  const { discovery, names, k } = unittestArgs(inv);
  if (!discovery) {
    const explicit = names
      .map((n) => (n.endsWith('.py') || n.includes('/') ? n : `${n.split('.').join('/')}.py`))
      .map((n) => joinRel(inv.cwd, n))
      .filter((p): p is string => p !== undefined && view.files.includes(p));
    return { collects: () => false, roots: [], explicit, notes: [] };
  }
  const start = joinRel(inv.cwd, discovery.start);
  if (start === undefined)
    return { collects: () => false, roots: [], explicit: [], notes: ['unittest discovery starts outside the repo'] };
  const files = new Set(view.files);
  const collects = (path: string): boolean => {
    if (!within(path, start) || path === start) return false;
    const base = posix.basename(path);
    if (!fnmatch(base, discovery.pattern) || !/^[A-Za-z_]\w*\.py$/.test(base)) return false;
    const dirs = relTo(dirOf(path), start).split('/').filter(Boolean);
    let d = start;
    for (const part of dirs) {
      d = d === '' ? part : `${d}/${part}`;
      if (!files.has(`${d}/__init__.py`)) return false;
    }
    if (k.length) {
      const full = `${relTo(path, start).replace(/\.py$/, '').split('/').join('.')}.${SUTURE_TEST_NAMES[1]}.${SUTURE_TEST_NAMES[0]}`;
      if (!k.some((p) => (p.includes('*') ? fnmatch(full, p) : full.includes(p)))) return false;
    }
    return true;
  };
  return { collects, roots: [start], explicit: [], notes: [] };
}
