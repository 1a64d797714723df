/**
 * How the repo's tests are written, read from the tests near where the new one goes: pytest functions or
 * unittest.TestCase; ESM or CommonJS; TypeScript; node:assert, expect or chai; mocha's interface; and
 * the test client their tests already use (a pytest fixture such as Flask's `app.test_client()` or
 * Starlette's `TestClient`, an app imported for supertest). Pure.
 */
import { posix } from 'node:path';
import { packageJson } from './collect-node.ts';
import { dirOf, joinRel, type RepoView, within } from './repo-view.ts';
import type { TestSetup } from './setup.ts';

export type ClientApi = 'werkzeug' | 'httpx' | 'verbs';

export type PythonClient =
  /** A pytest fixture the repo's tests take as a parameter. */
  | { via: 'fixture'; fixture: string; api: ClientApi }
  /** An app object (or factory) the repo's tests import and wrap in the framework's client. */
  | { via: 'import'; sysPath: string; module: string; attr: string; factory: boolean; api: 'werkzeug' | 'httpx' };

export interface PythonStyle {
  kind: 'function' | 'testcase';
  /** pytest python_functions prefix (`test` unless configured). */
  functionPrefix: string;
  markers: string[];
  client?: PythonClient;
}

export interface AppRef {
  /** Relative import specifier from the new test file. */
  spec: string;
  /** 'default', '*' (the whole CommonJS module) or a named export. */
  binding: string;
  /** The binding is a factory the tests call without arguments (`createApp()`). */
  factory: boolean;
}

export interface NodeStyle {
  syntax: 'esm' | 'cjs';
  /**
   * How the test file runs, which can differ from how it is written: TypeScript or jest-transformed `import`
   * syntax in a CommonJS package runs as CommonJS (Babel's register hook, ts-node, jest), where
   * `import.meta` is a syntax error.
   */
  runtime: 'esm' | 'cjs';
  typescript: boolean;
  assertion: 'node-assert' | 'expect' | 'chai';
  /** How the tests load chai / @jest/globals: by import or by require. */
  jestGlobals: boolean;
  mochaUi: 'bdd' | 'tdd';
  /** Relative imports of TypeScript sources: with `.ts`, with `.js`, or without an extension. */
  tsImportExt: '.ts' | '.js' | '';
  supertest?: AppRef;
}

/** The existing tests nearest the new file, the closest directory first (a bounded sample). */
function nearbyTests(setup: TestSetup, near: string, limit = 12): string[] {
  const dir = dirOf(near);
  const score = (t: string) => {
    let d = dir;
    let n = 0;
    while (!within(t, d)) {
      d = dirOf(d);
      n++;
      if (d === '' && !within(t, d)) break;
    }
    return n;
  };
  return [...setup.existingTests]
    .filter((t) => t !== near)
    .sort((a, b) => score(a) - score(b) || (a < b ? -1 : 1))
    .slice(0, limit);
}

// ------------------------------------------------------------------------------------------------ Python

const FIXTURE =
  /@pytest\.fixture\b[^\n]*\n(?:\s*@[^\n]*\n)*\s*(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(([^)]*)\)[^:]*:([\s\S]*?)(?=\n(?:@|def |async def |class |[A-Za-z_])|$)/g;

function apiOfText(text: string): 'werkzeug' | 'httpx' | undefined {
  if (/\.test_client\s*\(/.test(text)) return 'werkzeug';
  if (/\bTestClient\s*\(/.test(text)) return 'httpx';
  return undefined;
}

/** How the existing tests call a client object: `.open(` (werkzeug), `.request(` (httpx), or verb methods. */
function apiOfUse(texts: string[], name: string): ClientApi | undefined {
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const t of texts) {
    if (new RegExp(`\\b${n}\\.open\\(`).test(t)) return 'werkzeug';
    if (new RegExp(`\\b${n}\\.request\\(`).test(t)) return 'httpx';
  }
  for (const t of texts) if (new RegExp(`\\b${n}\\.(get|post|put|patch|delete)\\(`).test(t)) return 'verbs';
  return undefined;
}

/** conftest.py files pytest loads for a test in `dir`: that directory's and each parent's. */
function conftests(view: RepoView, dir: string): string[] {
  const out: string[] = [];
  for (let d: string | undefined = dir; d !== undefined; d = d === '' ? undefined : dirOf(d)) {
    const f = d ? `${d}/conftest.py` : 'conftest.py';
    if (view.files.includes(f)) out.push(f);
  }
  return out;
}

function fixtureClient(view: RepoView, testPath: string, tests: string[]): PythonClient | undefined {
  const testTexts = tests.map((t) => view.read(t) ?? '');
  const usedAsParam = (name: string) =>
    testTexts.some((t) => new RegExp(`def\\s+test\\w*\\s*\\([^)]*\\b${name}\\b`).test(t));
  const found: { name: string; api?: ClientApi; used: boolean }[] = [];
  for (const file of conftests(view, dirOf(testPath))) {
    const text = view.read(file) ?? '';
    for (const m of text.matchAll(FIXTURE)) {
      const [, name, , body] = m;
      const api = apiOfText(body ?? '') ?? (name && /client/i.test(name) ? apiOfUse(testTexts, name) : undefined);
      if (name && api) found.push({ name, api, used: usedAsParam(name) });
    }
  }
  // pytest-flask gives a `client` fixture for the repo's `app` fixture.
  const reqs = ['requirements.txt', 'requirements-dev.txt', 'pyproject.toml', 'setup.cfg']
    .map((f) => view.read(f) ?? '')
    .join('\n');
  if (/pytest-flask/i.test(reqs) && usedAsParam('client') && !found.some((f) => f.name === 'client')) {
    found.push({ name: 'client', api: 'werkzeug', used: true });
  }
  const best = found.sort((a, b) => Number(b.used) - Number(a.used))[0];
  return best ? { via: 'fixture', fixture: best.name, api: best.api! } : undefined;
}

/** Where `module` resolves from: the repo root, src/, or the test's own directory. */
function moduleRoot(view: RepoView, module: string, testDir: string): string | undefined {
  const rel = module.split('.').join('/');
  for (const root of ['', 'src', testDir, dirOf(testDir)]) {
    const base = root ? `${root}/${rel}` : rel;
    if (view.files.includes(`${base}.py`) || view.files.includes(`${base}/__init__.py`)) return root;
  }
  return undefined;
}

/** `from M import app` + `app.test_client()` / `TestClient(app)` / `create_app().test_client()` in the tests. */
function importedClient(view: RepoView, testPath: string, tests: string[]): PythonClient | undefined {
  for (const t of tests) {
    const text = view.read(t) ?? '';
    const api = apiOfText(text);
    if (!api) continue;
    const target =
      api === 'werkzeug'
        ? /\b([A-Za-z_]\w*)(\(\))?\.test_client\s*\(/.exec(text)
        : /\bTestClient\s*\(\s*([A-Za-z_]\w*)(\(\))?/.exec(text);
    if (!target) continue;
    let name = target[1]!;
    let factory = Boolean(target[2]);
    // `app = create_app()` then `app.test_client()`
    const assigned = new RegExp(`^\\s*${name}\\s*=\\s*([A-Za-z_]\\w*)\\(\\s*\\)`, 'm').exec(text);
    if (!factory && assigned) {
      name = assigned[1]!;
      factory = true;
    }
    const imp = new RegExp(`^\\s*from\\s+([\\w.]+)\\s+import\\s+(?:\\(?[^\\n]*\\b)${name}\\b`, 'm').exec(text);
    if (!imp || imp[1]!.startsWith('.')) continue;
    const root = moduleRoot(view, imp[1]!, dirOf(testPath));
    if (root === undefined) continue;
    return { via: 'import', sysPath: root, module: imp[1]!, attr: name, factory, api };
  }
  return undefined;
}

export function pythonStyle(setup: TestSetup, view: RepoView, testPath: string): PythonStyle {
  const tests = nearbyTests(setup, testPath);
  const texts = tests.map((t) => view.read(t) ?? '');
  const testcase = texts.filter((t) => /\bunittest\.TestCase\b|\(\s*TestCase\s*\)/.test(t)).length;
  const plain = texts.filter((t) => /^(async\s+)?def\s+test/m.test(t)).length;
  const kind = setup.framework === 'unittest' || (testcase > 0 && testcase > plain) ? 'testcase' : 'function';
  const client =
    (kind === 'function' ? fixtureClient(view, testPath, tests) : undefined) ?? importedClient(view, testPath, tests);
  return {
    kind,
    functionPrefix: setup.collection.functionPrefix ?? 'test',
    markers: setup.collection.markers ?? [],
    ...(client ? { client } : {}),
  };
}

// ------------------------------------------------------------------------------------------------ Node

/** The nearest package.json's `type` decides what `.js` means. */
export function moduleKindOf(view: RepoView, path: string): 'esm' | 'cjs' {
  if (/\.m[jt]s$/.test(path)) return 'esm';
  if (/\.c[jt]s$/.test(path)) return 'cjs';
  for (let d: string | undefined = dirOf(path); d !== undefined; d = d === '' ? undefined : dirOf(d)) {
    const pkg = packageJson(view, d);
    if (pkg) return pkg.type === 'module' ? 'esm' : 'cjs';
  }
  return 'cjs';
}

const IMPORT_SYNTAX = /^\s*import\s+(?:[\w*{}\s,]+\s+from\s+)?['"]/m;

/** Resolves a relative specifier from `fromFile` to a repo file, trying the extensions a resolver would. */
export function resolveSpecifier(view: RepoView, fromFile: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = joinRel(dirOf(fromFile), spec);
  if (base === undefined) return undefined;
  const stripped = base.replace(/\.(c|m)?js$/, '');
  const tries = [
    base,
    ...['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.tsx', '.jsx'].map((e) => `${stripped}${e}`),
    `${base}/index.js`,
    `${base}/index.ts`,
  ];
  return tries.find((t) => view.files.includes(t));
}

/** A relative specifier from `fromFile` to `target`, with the extension style given. */
export function specifierTo(fromFile: string, target: string, ext: 'keep' | '.ts' | '.js' | ''): string {
  let rel = posix.relative(dirOf(fromFile) || '.', target);
  if (!rel.startsWith('.')) rel = `./${rel}`;
  if (ext === 'keep' || ext === '.ts') return rel;
  const withoutExt = rel.replace(/\.(c|m)?[jt]sx?$/, '');
  if (ext === '') return withoutExt;
  const m = /\.(c|m)?[jt]sx?$/.exec(rel);
  return `${withoutExt}.${m?.[1] ?? ''}js`;
}

/** `request(app)` in a supertest test, with where `app` comes from. */
function supertestApp(
  view: RepoView,
  tests: string[],
  testPath: string,
  tsExt: NodeStyle['tsImportExt'],
): AppRef | undefined {
  for (const t of tests) {
    const text = view.read(t) ?? '';
    const req =
      /\bimport\s+(\w+)\s+from\s+['"]supertest['"]/.exec(text) ??
      /\b(?:const|let|var)\s+(\w+)\s*=\s*require\(\s*['"]supertest['"]\s*\)/.exec(text);
    if (!req) continue;
    const call = new RegExp(`\\b${req[1]}\\(\\s*([A-Za-z_$][\\w$]*)(\\(\\s*\\))?`).exec(text);
    if (!call) continue;
    let name = call[1]!;
    let factory = Boolean(call[2]);
    const assigned = new RegExp(
      `\\b(?:const|let|var)\\s+${name}\\s*=\\s*(?:await\\s+)?([A-Za-z_$][\\w$]*)\\(\\s*\\)`,
    ).exec(text);
    if (!factory && assigned) {
      name = assigned[1]!;
      factory = true;
    }
    const n = name.replace(/\$/g, '\\$');
    const patterns: [RegExp, (m: RegExpExecArray) => string][] = [
      [new RegExp(`\\bimport\\s+${n}\\s*(?:,\\s*\\{[^}]*\\})?\\s+from\\s+['"]([^'"]+)['"]`), () => 'default'],
      [
        new RegExp(
          `\\bimport\\s+(?:\\w+\\s*,\\s*)?\\{[^}]*\\b(\\w+)\\s+as\\s+${n}\\b[^}]*\\}\\s+from\\s+['"]([^'"]+)['"]`,
        ),
        (m) => m[1]!,
      ],
      [new RegExp(`\\bimport\\s+(?:\\w+\\s*,\\s*)?\\{[^}]*\\b${n}\\b[^}]*\\}\\s+from\\s+['"]([^'"]+)['"]`), () => name],
      [
        new RegExp(`\\b(?:const|let|var)\\s+${n}\\s*=\\s*require\\(\\s*['"]([^'"]+)['"]\\s*\\)\\s*\\.\\s*(\\w+)`),
        (m) => m[2]!,
      ],
      [new RegExp(`\\b(?:const|let|var)\\s+${n}\\s*=\\s*require\\(\\s*['"]([^'"]+)['"]\\s*\\)`), () => '*'],
      [
        new RegExp(`\\b(?:const|let|var)\\s+\\{[^}]*\\b${n}\\b[^}]*\\}\\s*=\\s*require\\(\\s*['"]([^'"]+)['"]\\s*\\)`),
        () => name,
      ],
    ];
    for (const [re, binding] of patterns) {
      const m = re.exec(text);
      if (!m) continue;
      const spec = m.length > 2 && re.source.includes('\\s+as\\s+') ? m[2]! : m[1]!;
      const target = resolveSpecifier(view, t, spec);
      if (!target) continue;
      const hasExt = /\.[cm]?[jt]sx?$/.test(spec);
      const ext = /\.[cm]?tsx?$/.test(target) ? tsExt : hasExt ? 'keep' : '';
      return { spec: specifierTo(testPath, target, ext), binding: binding(m), factory };
    }
  }
  return undefined;
}

export function nodeStyle(setup: TestSetup, view: RepoView, testPath: string): NodeStyle {
  const tests = nearbyTests(setup, testPath);
  const texts = tests.map((t) => view.read(t) ?? '');
  const typescript = /\.[cm]?tsx?$/.test(testPath);
  const kind = moduleKindOf(view, testPath);
  // jest and vitest transform test files: their syntax follows the existing tests, not the package type.
  const transformed =
    setup.framework === 'vitest' || (setup.framework === 'jest' && texts.some((t) => IMPORT_SYNTAX.test(t)));
  const syntax: NodeStyle['syntax'] = typescript || setup.framework === 'vitest' ? 'esm' : transformed ? 'esm' : kind;
  const usesChai = texts.some((t) => /['"]chai['"]/.test(t));
  const assertion: NodeStyle['assertion'] =
    setup.framework === 'jest' || setup.framework === 'vitest'
      ? 'expect'
      : usesChai && setup.framework === 'mocha'
        ? 'chai'
        : 'node-assert';
  const jestGlobals = setup.framework === 'jest' && texts.some((t) => /['"]@jest\/globals['"]/.test(t));
  const mochaUi =
    texts.some((t) => /^\s*suite\s*\(/m.test(t)) && !texts.some((t) => /^\s*describe\s*\(/m.test(t)) ? 'tdd' : 'bdd';
  const tsSpecs = texts.flatMap((t) => [...t.matchAll(/from\s+['"](\.[^'"]+)['"]/g)].map((m) => m[1]!));
  const tsImportExt: NodeStyle['tsImportExt'] = tsSpecs.some((s) => s.endsWith('.ts'))
    ? '.ts'
    : tsSpecs.some((s) => /\.js$/.test(s)) && typescript
      ? '.js'
      : setup.framework === 'node-test'
        ? '.ts'
        : '';
  const d = {
    ...((packageJson(view, '')?.devDependencies as object) ?? {}),
    ...((packageJson(view, '')?.dependencies as object) ?? {}),
  };
  const supertest = 'supertest' in d ? supertestApp(view, tests, testPath, tsImportExt) : undefined;
  const runtime: NodeStyle['runtime'] =
    setup.framework === 'vitest' ? 'esm' : setup.framework === 'jest' ? 'cjs' : kind;
  return {
    syntax,
    runtime,
    typescript,
    assertion,
    jestGlobals,
    mochaUi,
    tsImportExt,
    ...(supertest ? { supertest } : {}),
  };
}
