/**
 * Where node --test, jest, vitest and mocha collect test files, from the command and the runner's config
 * (package.json keys, jest.config.*, vitest.config.* / vite.config.*, .mocharc.*), read as data. Pure.
 */
import { posix } from 'node:path';
import { hasFlag, optionValues, parseArgs, positionals } from './args.ts';
import type { Collection } from './collection.ts';
import type { Invocation } from './command.ts';
import {
  jsConfigLiteral,
  type Literal,
  type LiteralObject,
  parseJsonc,
  parseJsonSafe,
  parseYamlSafe,
  stringList,
  UNKNOWN,
} from './config-files.ts';
import { globRegExp, hasGlob, shellGlobRegExp } from './glob.ts';
import { dirOf, isDir, joinRel, type RepoView, relTo, within } from './repo-view.ts';

/** Where the sandbox mounts the tree: jest matches testMatch/testRegex against absolute paths. */
const ABS_ROOT = '/workspace';

function readObject(view: RepoView, file: string): LiteralObject | undefined {
  const text = view.read(file);
  if (text === undefined) return undefined;
  if (file.endsWith('.json') || file.endsWith('.jsonc') || posix.basename(file) === '.mocharc') {
    const v = parseJsonc(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as LiteralObject) : undefined;
  }
  if (/\.ya?ml$/.test(file)) {
    const v = parseYamlSafe(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as LiteralObject) : undefined;
  }
  return jsConfigLiteral(text, file);
}

export function packageJson(view: RepoView, dir: string): Record<string, unknown> | undefined {
  const text = view.read(dir ? `${dir}/package.json` : 'package.json');
  const v = text === undefined ? undefined : parseJsonSafe(text);
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function firstExisting(view: RepoView, dir: string, names: string[]): string | undefined {
  for (const n of names) {
    const f = dir ? `${dir}/${n}` : n;
    if (view.files.includes(f)) return f;
  }
  return undefined;
}

const TS_EXT = /\.(ts|tsx|mts|cts)$/;
const TS_LOADER =
  /(^|[/=@])(tsx|ts-node|@swc-node|@swc\/register|esbuild-register|@esbuild-kit|jiti|sucrase)\b|--experimental-(strip|transform)-types/;

// ---------------------------------------------------------------------------------------------------- node --test

/** Node's own naming rule (18/20; ≥ 21 as globs): `test` directories, and test-named files. */
function nodeDefaultMatch(rel: string, extensions: string[], underTest: boolean): boolean {
  const parts = rel.split('/');
  if (parts.includes('node_modules')) return false;
  const base = parts.at(-1)!;
  const ext = posix.extname(base).slice(1);
  if (!extensions.includes(ext)) return false;
  const stem = base.slice(0, -(ext.length + 1));
  if (underTest || parts.slice(0, -1).includes('test')) return true;
  return stem === 'test' || /^test-.+/.test(stem) || /.+[.\-_]test$/.test(stem);
}

export function nodeTestCollection(inv: Invocation, view: RepoView): Collection {
  const launcher = inv.launcher.join(' ');
  const pos = inv.args.filter((w) => !w.text.startsWith('-'));
  const globTs = pos.some((w) => TS_EXT.test(w.text.replace(/[*?{}()[\]|]/g, '')) || /\bts\b/.test(w.text));
  const typescript = TS_LOADER.test(launcher) || globTs;
  const extensions = ['js', 'cjs', 'mjs', ...(typescript ? ['ts', 'mts', 'cts'] : [])];
  const rules: ((p: string) => boolean)[] = [];
  const roots: string[] = [];
  const explicit: string[] = [];
  if (pos.length === 0) {
    rules.push((p) => within(p, inv.cwd) && nodeDefaultMatch(relTo(p, inv.cwd), extensions, false));
    roots.push(inv.cwd);
  }
  for (const w of pos) {
    if (hasGlob(w.text)) {
      const pattern = joinRel(inv.cwd, w.text.replace(/\/+$/, ''));
      if (pattern === undefined) continue;
      // Unquoted: sh expands it (no `**`); quoted: node ≥ 21 globs it itself.
      const re = w.shellGlob ? shellGlobRegExp(pattern) : globRegExp(pattern);
      rules.push((p) => re.test(p) && !p.split('/').includes('node_modules'));
      roots.push(globBase(pattern));
      continue;
    }
    const rel = joinRel(inv.cwd, w.text);
    if (rel === undefined) continue;
    if (isDir(view, rel)) {
      rules.push((p) => within(p, rel) && nodeDefaultMatch(relTo(p, rel), extensions, posix.basename(rel) === 'test'));
      roots.push(rel);
    } else explicit.push(rel);
  }
  return {
    collects: (p) => rules.some((r) => r(p)),
    roots,
    explicit: rules.length ? [] : explicit,
    notes: [],
    typescript,
    extensions,
  };
}

/** The fixed directory part of a glob (`test/**\/*.js` → `test`). */
export function globBase(pattern: string): string {
  const parts = pattern.split('/');
  const fixed: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (hasGlob(p)) break;
    fixed.push(p);
  }
  return fixed.join('/');
}

// ---------------------------------------------------------------------------------------------------- jest

const JEST_OPTIONS = {
  value: new Set([
    '-c',
    '--config',
    '--rootDir',
    '--roots',
    '--testPathPattern',
    '--testPathPatterns',
    '--testPathIgnorePatterns',
    '-t',
    '--testNamePattern',
    '--testMatch',
    '--testRegex',
    '--testEnvironment',
    '--env',
    '--reporters',
    '-w',
    '--maxWorkers',
    '--shard',
    '--selectProjects',
    '--ignoreProjects',
    '--setupFiles',
    '--setupFilesAfterEnv',
    '--testTimeout',
    '--coverageDirectory',
    '--collectCoverageFrom',
    '--coverageProvider',
    '--coverageReporters',
    '--changedSince',
    '--outputFile',
    '--seed',
    '--testRunner',
    '--testSequencer',
    '--transform',
    '--moduleNameMapper',
    '--moduleDirectories',
    '--moduleFileExtensions',
    '--modulePaths',
    '--preset',
    '--projects',
    '--globalSetup',
    '--globalTeardown',
    '--cacheDirectory',
    '--filter',
    '--workerThreads',
  ]),
};

export { JEST_OPTIONS };

const JEST_DEFAULT_MATCH = ['**/__tests__/**/*.?([mc])[jt]s?(x)', '**/?(*.)+(spec|test).?([mc])[jt]s?(x)'];
const JEST_DEFAULT_EXTS = ['js', 'mjs', 'cjs', 'jsx', 'ts', 'mts', 'cts', 'tsx', 'json', 'node'];

/** jest's configuration: `--config`, else jest.config.*, else package.json's `jest` key. */
function jestConfig(
  inv: Invocation,
  view: RepoView,
  configArg?: string,
): { config?: LiteralObject; dir: string; from?: string } {
  if (configArg !== undefined) {
    if (configArg.trim().startsWith('{')) {
      const v = parseJsonSafe(configArg);
      return { ...(v && typeof v === 'object' ? { config: v as LiteralObject } : {}), dir: inv.cwd, from: '--config' };
    }
    const f = joinRel(inv.cwd, configArg);
    if (f === undefined) return { dir: inv.cwd };
    const config = f.endsWith('package.json')
      ? (packageJson(view, dirOf(f))?.jest as LiteralObject)
      : readObject(view, f);
    return { ...(config ? { config } : {}), dir: dirOf(f), from: f };
  }
  const file = firstExisting(view, inv.cwd, [
    'jest.config.js',
    'jest.config.ts',
    'jest.config.mjs',
    'jest.config.cjs',
    'jest.config.cts',
    'jest.config.json',
  ]);
  if (file) {
    const config = readObject(view, file);
    return { ...(config ? { config } : {}), dir: inv.cwd, from: file };
  }
  const pkg = packageJson(view, inv.cwd)?.jest;
  if (pkg && typeof pkg === 'object') return { config: pkg as LiteralObject, dir: inv.cwd, from: 'package.json' };
  return { dir: inv.cwd };
}

function rootDirPattern(p: string, rootAbs: string): string {
  return p.replace(/<rootDir>/g, rootAbs);
}

export function jestCollection(inv: Invocation, view: RepoView): Collection {
  const notes: string[] = [];
  const items = parseArgs(inv.args, JEST_OPTIONS);
  const { config = {}, dir, from } = jestConfig(inv, view, optionValues(items, '-c', '--config')[0]);
  if (from && Object.keys(config).length === 0 && view.read(from) !== undefined && from !== '--config') {
    notes.push(`${from} exports no literal configuration: jest's defaults are assumed`);
  }
  const get = (k: string): Literal | undefined => config[k];
  if (get('projects') !== undefined) notes.push('jest `projects` are not followed: the root configuration is read');
  const rootDirRel = typeof get('rootDir') === 'string' ? joinRel(dir, get('rootDir') as string) : dir;
  const cliRoot = optionValues(items, '--rootDir')[0];
  const rootRel = (cliRoot !== undefined ? joinRel(inv.cwd, cliRoot) : rootDirRel) ?? dir;
  const rootAbs = rootRel ? `${ABS_ROOT}/${rootRel}` : ABS_ROOT;
  const abs = (p: string) => `${ABS_ROOT}/${p}`;

  const list = (k: string, cli: string[]): string[] | typeof UNKNOWN | undefined =>
    cli.length ? cli : stringList(get(k));
  const roots = list('roots', optionValues(items, '--roots')) ?? ['<rootDir>'];
  const testMatch = list('testMatch', optionValues(items, '--testMatch'));
  const testRegex = list('testRegex', optionValues(items, '--testRegex'));
  const ignore = list('testPathIgnorePatterns', optionValues(items, '--testPathIgnorePatterns')) ?? ['/node_modules/'];
  const exts = stringList(get('moduleFileExtensions')) ?? JEST_DEFAULT_EXTS;
  for (const [name, v] of [
    ['roots', roots],
    ['testMatch', testMatch],
    ['testRegex', testRegex],
    ['testPathIgnorePatterns', ignore],
    ['moduleFileExtensions', exts],
  ] as const) {
    if (v === UNKNOWN) notes.push(`jest's ${name} is computed, not literal: its default is assumed`);
  }
  const rootList = roots === UNKNOWN ? ['<rootDir>'] : roots;
  const extList = exts === UNKNOWN ? JEST_DEFAULT_EXTS : exts;
  const regexes =
    testRegex && testRegex !== UNKNOWN && testRegex.length ? testRegex.map((r) => new RegExp(r)) : undefined;
  const globs = (testMatch && testMatch !== UNKNOWN && testMatch.length ? testMatch : JEST_DEFAULT_MATCH).map((g) => {
    const p = rootDirPattern(g, rootAbs);
    return p.startsWith('/') ? globRegExp(p.slice(1), { dot: true }) : globRegExp(p, { dot: true });
  });
  const ignoreRes = (ignore === UNKNOWN ? ['/node_modules/'] : ignore).map(
    (r) => new RegExp(rootDirPattern(r, rootAbs)),
  );
  const pathPatterns = [
    ...positionals(items).map((a) => a.value!),
    ...optionValues(items, '--testPathPattern', '--testPathPatterns'),
  ].map((r) => new RegExp(r, 'i'));
  const rootDirs = rootList
    .map((r) => rootDirPattern(r, rootAbs))
    .map((r) =>
      r.startsWith(`${ABS_ROOT}/`) ? r.slice(ABS_ROOT.length + 1) : r === ABS_ROOT ? '' : joinRel(rootRel, r),
    )
    .filter((r): r is string => r !== undefined);

  const collects = (p: string): boolean => {
    const a = abs(p);
    if (!rootDirs.some((r) => within(p, r))) return false;
    if (!extList.includes(posix.extname(p).slice(1))) return false;
    // Matched against the absolute path, as jest does: a relative testMatch glob matches nothing.
    const matched = regexes ? regexes.some((r) => r.test(a)) : globs.some((g) => g.test(a.slice(1)));
    if (!matched) return false;
    if (ignoreRes.some((r) => r.test(a))) return false;
    return pathPatterns.length === 0 || pathPatterns.some((r) => r.test(a));
  };
  return { collects, roots: rootDirs, explicit: [], notes, extensions: extList };
}

// ---------------------------------------------------------------------------------------------------- vitest

export const VITEST_OPTIONS = {
  value: new Set([
    '-c',
    '--config',
    '-r',
    '--root',
    '--dir',
    '-t',
    '--testNamePattern',
    '--environment',
    '--pool',
    '--project',
    '--reporter',
    '--outputFile',
    '--shard',
    '--exclude',
    '--include',
    '--mode',
    '--changed',
    '--testTimeout',
    '--maxWorkers',
    '--minWorkers',
    '--sequence.seed',
    '--coverage.provider',
    '--coverage.reporter',
  ]),
};

const VITEST_DEFAULT_INCLUDE = ['**/*.{test,spec}.?(c|m)[jt]s?(x)'];
const VITEST_DEFAULT_EXCLUDE = ['**/node_modules/**', '**/.git/**', '**/dist/**'];

export function vitestCollection(inv: Invocation, view: RepoView): Collection {
  const notes: string[] = [];
  const items = parseArgs(inv.args, VITEST_OPTIONS);
  const cliConfig = optionValues(items, '-c', '--config')[0];
  const cliRoot = optionValues(items, '-r', '--root')[0];
  const base = (cliRoot !== undefined ? joinRel(inv.cwd, cliRoot) : inv.cwd) ?? inv.cwd;
  const file =
    cliConfig !== undefined
      ? joinRel(inv.cwd, cliConfig)
      : firstExisting(
          view,
          base,
          ['vitest.config', 'vite.config'].flatMap((n) =>
            ['ts', 'mts', 'cts', 'js', 'mjs', 'cjs'].map((e) => `${n}.${e}`),
          ),
        );
  const config = file ? readObject(view, file) : undefined;
  if (file && !config) notes.push(`${file} exports no literal configuration: vitest's defaults are assumed`);
  const test = (
    config?.test && typeof config.test === 'object' && !Array.isArray(config.test) ? config.test : {}
  ) as LiteralObject;
  if (test.projects !== undefined || test.workspace !== undefined)
    notes.push('vitest projects are not followed: the root configuration is read');
  const root =
    typeof config?.root === 'string' && cliRoot === undefined
      ? (joinRel(file ? dirOf(file) : base, config.root) ?? base)
      : base;
  const dirOpt = optionValues(items, '--dir')[0] ?? (typeof test.dir === 'string' ? test.dir : undefined);
  const dir = dirOpt !== undefined ? (joinRel(root, dirOpt) ?? root) : root;
  const incl = stringList(test.include);
  const excl = stringList(test.exclude);
  if (incl === UNKNOWN || excl === UNKNOWN)
    notes.push("vitest's include/exclude is computed, not literal: defaults are assumed");
  const cliInclude = optionValues(items, '--include');
  const include = (cliInclude.length ? cliInclude : incl && incl !== UNKNOWN ? incl : VITEST_DEFAULT_INCLUDE).map((g) =>
    globRegExp(g, { dot: false }),
  );
  const exclude = [
    ...(excl && excl !== UNKNOWN ? excl : VITEST_DEFAULT_EXCLUDE),
    ...optionValues(items, '--exclude'),
  ].map((g) => globRegExp(g, { dot: true }));
  const filters = positionals(items).map((a) => a.value!);
  const collects = (p: string): boolean => {
    if (!within(p, dir)) return false;
    const rel = relTo(p, root);
    if (!include.some((g) => g.test(rel))) return false;
    if (exclude.some((g) => g.test(rel))) return false;
    // A positional filter keeps the files whose path contains it.
    return filters.length === 0 || filters.some((f) => p.includes(f.replace(/^\.\//, '')));
  };
  return { collects, roots: [dir], explicit: [], notes, typescript: true };
}

// ---------------------------------------------------------------------------------------------------- mocha

export const MOCHA_OPTIONS = {
  value: new Set([
    '--config',
    '--package',
    '-r',
    '--require',
    '-u',
    '--ui',
    '-t',
    '--timeout',
    '--timeouts',
    '-s',
    '--slow',
    '-R',
    '--reporter',
    '-O',
    '--reporter-option',
    '--reporter-options',
    '--extension',
    '--file',
    '--ignore',
    '--exclude',
    '--spec',
    '-g',
    '--grep',
    '-f',
    '--fgrep',
    '-n',
    '--node-option',
    '-j',
    '--jobs',
    '--retries',
    '--loader',
    '--import',
    '--watch-files',
    '--watch-ignore',
  ]),
};

function mochaConfig(inv: Invocation, view: RepoView, items: ReturnType<typeof parseArgs>): LiteralObject {
  if (hasFlag(items, '--no-config')) return {};
  const explicit = optionValues(items, '--config')[0];
  const file =
    explicit !== undefined
      ? joinRel(inv.cwd, explicit)
      : firstExisting(view, inv.cwd, [
          '.mocharc.js',
          '.mocharc.cjs',
          '.mocharc.yaml',
          '.mocharc.yml',
          '.mocharc.jsonc',
          '.mocharc.json',
        ]);
  const fromFile = file ? readObject(view, file) : undefined;
  const pkg = hasFlag(items, '--no-package')
    ? undefined
    : (packageJson(view, inv.cwd)?.mocha as LiteralObject | undefined);
  return { ...(pkg ?? {}), ...(fromFile ?? {}) };
}

export function mochaCollection(inv: Invocation, view: RepoView): Collection {
  const notes: string[] = [];
  const items = parseArgs(inv.args, MOCHA_OPTIONS);
  const config = mochaConfig(inv, view, items);
  const configSpec = stringList(config.spec);
  const cliSpec = [...positionals(items), ...items.filter((a) => a.opt === '--spec' && a.value !== undefined)];
  if (configSpec === UNKNOWN) notes.push("mocha's spec is computed, not literal");
  const extConfig = stringList(config.extension);
  const extensions = [
    ...(extConfig && extConfig !== UNKNOWN ? extConfig : ['js', 'cjs', 'mjs']),
    ...optionValues(items, '--extension'),
  ].map((e) => e.replace(/^\./, ''));
  const recursive = hasFlag(items, '--recursive') || config.recursive === true;
  const ignoreConfig = stringList(config.ignore);
  const ignore = [
    ...(ignoreConfig && ignoreConfig !== UNKNOWN ? ignoreConfig : []),
    ...optionValues(items, '--ignore', '--exclude'),
  ].map((g) => globRegExp(joinRel(inv.cwd, g) ?? g));
  // Config and command-line specs add up; with neither, mocha runs ./test.
  const specs: { text: string; shellGlob?: boolean }[] = [
    ...(configSpec && configSpec !== UNKNOWN ? configSpec.map((text) => ({ text })) : []),
    ...cliSpec.map((a) => ({ text: a.value!, ...(a.shellGlob ? { shellGlob: true } : {}) })),
  ];
  if (specs.length === 0) specs.push({ text: './test' });
  const rules: ((p: string) => boolean)[] = [];
  const roots: string[] = [];
  const explicit: string[] = [];
  for (const s of specs) {
    const rel = joinRel(inv.cwd, s.text.replace(/\/+$/, ''));
    if (rel === undefined) continue;
    if (hasGlob(s.text)) {
      const re = s.shellGlob ? shellGlobRegExp(rel) : globRegExp(rel);
      rules.push((p) => re.test(p));
      roots.push(globBase(rel));
    } else if (isDir(view, rel) || s.text === './test' || s.text === 'test') {
      rules.push((p) => {
        if (!within(p, rel)) return false;
        const inner = relTo(p, rel);
        return (recursive || !inner.includes('/')) && extensions.includes(posix.extname(p).slice(1));
      });
      roots.push(rel);
    } else explicit.push(rel);
  }
  const typescript =
    extensions.includes('ts') ||
    JSON.stringify(config.require ?? '').match(TS_LOADER) !== null ||
    optionValues(items, '-r', '--require', '--loader', '--import').some((r) => TS_LOADER.test(r));
  return {
    collects: (p) => rules.some((r) => r(p)) && !ignore.some((g) => g.test(p)),
    roots,
    explicit: rules.length ? [] : explicit,
    notes,
    typescript,
    extensions,
  };
}

export { readObject, TS_LOADER };
