/**
 * Test-setup detection on many repository layouts, pure: which runner the test command starts (through
 * npm/yarn/pnpm scripts, npx, cross-env, coverage wrappers, `python -m`), where it collects a new test file
 * (pytest testpaths/python_files/markers, unittest discovery, node --test globs and directories, jest
 * testMatch/testRegex/roots/testPathPattern, vitest include/dir/filters, mocha spec/extension/recursive),
 * when it only runs named files (append), and the single-test command.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoViewOfTree, singleTestCommand } from '../../src/diagnose/regression-test.ts';
import { findInvocation } from '../../src/diagnose/tests/command.ts';
import { globMatch, shellGlobRegExp } from '../../src/diagnose/tests/glob.ts';
import { viewOf } from '../../src/diagnose/tests/repo-view.ts';
import { detectTestSetup, placeTest } from '../../src/diagnose/tests/setup.ts';
import { splitCommand } from '../../src/diagnose/tests/shell.ts';
import { singleCommand } from '../../src/diagnose/tests/single.ts';
import { py } from './configs.ts';
import { writeTree } from './regression-layouts.ts';

const FP = '0123456789ab';

interface Case {
  name: string;
  language: 'python' | 'node';
  test: string;
  files: Record<string, string>;
  crash?: string;
  framework: string;
  path: string;
  append?: boolean;
  collected?: boolean;
  command: string;
  markers?: string[];
}

const pkg = (o: object) => JSON.stringify(o);

const CASES: Case[] = [
  // ----------------------------------------------------------------------------------------------- Python
  {
    name: 'pytest, no configuration, tests/ beside the code',
    language: 'python',
    test: 'python3 -m pytest -q',
    files: { 'app/pricing.py': '', 'tests/test_pricing.py': '' },
    crash: 'app/pricing.py',
    framework: 'pytest',
    path: 'tests/test_suture_0123456789ab.py',
    command: `python3 -m pytest -q 'tests/test_suture_${FP}.py'`,
  },
  {
    name: 'pytest on a subdirectory: the unit tests, never the integration ones',
    language: 'python',
    test: 'pytest tests/unit -x --cov=app --cov-fail-under=90',
    files: {
      'app/a.py': '',
      'tests/unit/test_a.py': '',
      'tests/integration/test_db.py': '',
      'tests/integration/test_a.py': '',
    },
    crash: 'app/a.py',
    framework: 'pytest',
    path: `tests/unit/test_suture_${FP}.py`,
    // coverage thresholds judge a whole run, not one test
    command: `pytest -q 'tests/unit/test_suture_${FP}.py'`,
  },
  {
    name: 'pytest.ini testpaths and python_files',
    language: 'python',
    test: 'python -m pytest',
    files: {
      'pytest.ini': '[pytest]\ntestpaths = src/checks\npython_files = check_*.py\n',
      'src/svc.py': '',
      'src/checks/check_svc.py': '',
      'tests/test_old.py': '',
    },
    framework: 'pytest',
    path: `src/checks/check_suture_${FP}.py`,
    command: `python -m pytest -q 'src/checks/check_suture_${FP}.py'`,
  },
  {
    name: 'pyproject [tool.pytest.ini_options] with *_test.py names',
    language: 'python',
    test: 'poetry run pytest',
    files: {
      'pyproject.toml':
        '[tool.poetry]\nname = "x"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\npython_files = ["*_test.py"]\n',
      'tests/api/orders_test.py': '',
      'svc/orders.py': '',
    },
    crash: 'svc/orders.py',
    framework: 'pytest',
    path: `tests/api/suture_${FP}_test.py`,
    command: `pytest -q 'tests/api/suture_${FP}_test.py'`,
  },
  {
    name: 'setup.cfg [tool:pytest] wins over a pyproject without a pytest section',
    language: 'python',
    test: 'tox -e py',
    files: {
      'setup.cfg': '[metadata]\nname = x\n\n[tool:pytest]\ntestpaths = t\n',
      'pyproject.toml': '[build-system]\nrequires = ["setuptools"]\n',
      't/test_x.py': '',
      'tests/test_y.py': '',
    },
    framework: 'pytest',
    path: `t/test_suture_${FP}.py`,
    command: `python3 -m pytest -q 't/test_suture_${FP}.py'`,
  },
  {
    name: 'pytest -m selects by marker: the test carries it',
    language: 'python',
    test: 'pytest -m "unit and not slow" tests',
    files: { 'tests/test_a.py': '' },
    framework: 'pytest',
    path: `tests/test_suture_${FP}.py`,
    markers: ['unit'],
    command: `pytest -q 'tests/test_suture_${FP}.py'`,
  },
  {
    name: 'pytest on named files: the test is appended to the related one',
    language: 'python',
    test: 'pytest tests/test_orders.py tests/test_users.py',
    files: { 'orders.py': '', 'tests/test_orders.py': 'def test_a():\n    pass\n', 'tests/test_users.py': '' },
    crash: 'orders.py',
    framework: 'pytest',
    path: 'tests/test_orders.py',
    append: true,
    command: `pytest -q 'tests/test_orders.py::test_suture_${FP}_function_no_longer_raises'`,
  },
  {
    name: 'pytest norecursedirs and --ignore keep a directory out',
    language: 'python',
    test: 'pytest --ignore=tests/e2e',
    files: { 'tests/e2e/test_flow.py': '', 'tests/e2e/test_more.py': '', 'tests/test_unit.py': '' },
    framework: 'pytest',
    path: `tests/test_suture_${FP}.py`,
    command: `pytest -q 'tests/test_suture_${FP}.py'`,
  },
  {
    name: 'unittest discovery only descends into packages',
    language: 'python',
    test: 'python3 -m unittest discover -s tests -t .',
    files: {
      'tests/__init__.py': '',
      'tests/unit/test_x.py': '',
      'tests/api/__init__.py': '',
      'tests/api/test_y.py': '',
    },
    framework: 'unittest',
    path: `tests/api/test_suture_${FP}.py`,
    command: `python3 -m unittest discover -s tests -t . -p 'test_suture_${FP}.py'`,
  },
  {
    name: 'unittest with the default pattern from the root',
    language: 'python',
    test: 'python -m unittest',
    files: { 'test_app.py': '', 'app.py': '' },
    framework: 'unittest',
    path: `test_suture_${FP}.py`,
    command: `python -m unittest discover -s . -p 'test_suture_${FP}.py'`,
  },
  {
    name: 'unittest on named modules: appended',
    language: 'python',
    test: 'python3 -m unittest tests.test_app',
    files: { 'tests/__init__.py': '', 'tests/test_app.py': 'import unittest\n' },
    framework: 'unittest',
    path: 'tests/test_app.py',
    append: true,
    command: `python3 -m unittest 'tests.test_app.TestSuture${FP}'`,
  },
  {
    name: 'an opaque command (make): pytest by its conftest, conventional place',
    language: 'python',
    test: 'make check',
    files: { Makefile: 'check:\n\tpytest\n', 'conftest.py': '', 'tests/test_a.py': '' },
    framework: 'pytest',
    path: `tests/test_suture_${FP}.py`,
    command: `python3 -m pytest -q 'tests/test_suture_${FP}.py'`,
  },
  // ----------------------------------------------------------------------------------------------- node --test
  {
    name: 'node --test with no arguments (ESM package)',
    language: 'node',
    test: 'node --test',
    files: { 'package.json': pkg({ type: 'module' }), 'src/a.js': '', 'test/a.test.js': '' },
    framework: 'node-test',
    path: `test/suture-${FP}.test.js`,
    command: `node --test 'test/suture-${FP}.test.js'`,
  },
  {
    name: 'npm test → node --test with a shell glob, tests beside the code',
    language: 'node',
    test: 'npm test',
    files: {
      'package.json': pkg({ scripts: { test: 'node --test lib/**/*.spec.js' } }),
      'lib/a.js': '',
      'lib/a.spec.js': '',
      'lib/deep/b.js': '',
      'lib/deep/b.spec.js': '',
    },
    crash: 'lib/deep/b.js',
    framework: 'node-test',
    // sh has no globstar: `lib/**/*.spec.js` is `lib/*/*.spec.js`
    path: `lib/deep/suture-${FP}.spec.js`,
    command: `node --test 'lib/deep/suture-${FP}.spec.js'`,
  },
  {
    name: 'node --test on a directory (Node 18/20 rules: test-named files below it)',
    language: 'node',
    test: 'node --test test/unit/',
    files: { 'package.json': pkg({}), 'test/unit/a.test.js': '', 'test/unit/helpers.js': '', 'test/e2e/b.test.js': '' },
    framework: 'node-test',
    path: `test/unit/suture-${FP}.test.js`,
    command: `node --test 'test/unit/suture-${FP}.test.js'`,
  },
  {
    name: 'node --test with quoted globs and a TypeScript loader',
    language: 'node',
    test: "c8 --check-coverage node --import tsx --test 'src/**/*.test.ts'",
    files: { 'package.json': pkg({ type: 'module' }), 'src/a/x.ts': '', 'src/a/x.test.ts': '' },
    crash: 'src/a/x.ts',
    framework: 'node-test',
    path: `src/a/suture-${FP}.test.ts`,
    command: `node --import tsx --test 'src/a/suture-${FP}.test.ts'`,
  },
  {
    name: 'node --test on named files: appended',
    language: 'node',
    test: 'node --test test/orders.test.mjs',
    files: { 'package.json': pkg({}), 'test/orders.test.mjs': "import { test } from 'node:test';\n" },
    framework: 'node-test',
    path: 'test/orders.test.mjs',
    append: true,
    command: `node --test '--test-name-pattern=suture ${FP}' 'test/orders.test.mjs'`,
  },
  {
    name: 'a script running a script: yarn test → test:unit → cross-env … node --test',
    language: 'node',
    test: 'yarn test',
    files: {
      'package.json': pkg({
        scripts: {
          test: 'yarn lint && yarn test:unit',
          lint: 'eslint .',
          'test:unit': 'cross-env NODE_ENV=test node --test test/unit',
        },
      }),
      'test/unit/a.test.js': '',
    },
    framework: 'node-test',
    path: `test/unit/suture-${FP}.test.js`,
    command: `NODE_ENV=test node --test 'test/unit/suture-${FP}.test.js'`,
  },
  // ----------------------------------------------------------------------------------------------- jest
  {
    name: 'jest --testPathPattern=spec',
    language: 'node',
    test: 'npm test',
    files: {
      'package.json': pkg({ scripts: { test: 'jest --testPathPattern=spec' }, devDependencies: { jest: '^29' } }),
      'src/a.js': '',
      'src/__tests__/a.test.js': '',
      'test/a.spec.js': '',
    },
    crash: 'src/a.js',
    framework: 'jest',
    path: `test/suture-${FP}.spec.js`,
    command: `npx jest --runTestsByPath 'test/suture-${FP}.spec.js'`,
  },
  {
    name: 'jest.config.js testMatch under <rootDir>/src with TypeScript',
    language: 'node',
    test: 'npx jest --ci --coverage',
    files: {
      'package.json': pkg({ devDependencies: { jest: '^29', 'ts-jest': '^29' } }),
      'jest.config.js': "module.exports = {\n  preset: 'ts-jest',\n  testMatch: ['<rootDir>/src/**/*.test.ts'],\n};\n",
      'src/orders/orders.ts': '',
      'src/orders/orders.test.ts': '',
      'test/old.test.ts': '',
    },
    crash: 'src/orders/orders.ts',
    framework: 'jest',
    path: `src/orders/suture-${FP}.test.ts`,
    command: `npx jest --ci --runTestsByPath 'src/orders/suture-${FP}.test.ts'`,
  },
  {
    name: 'jest in package.json: roots and testRegex',
    language: 'node',
    test: 'npm run test:ci',
    files: {
      'package.json': pkg({
        scripts: { 'test:ci': 'jest' },
        jest: { roots: ['<rootDir>/spec'], testRegex: '\\.check\\.js$' },
      }),
      'spec/a.check.js': '',
      'src/b.check.js': '',
    },
    framework: 'jest',
    path: `spec/suture-${FP}.check.js`,
    command: `npx jest --runTestsByPath 'spec/suture-${FP}.check.js'`,
  },
  {
    name: 'jest with native ESM: node --experimental-vm-modules node_modules/jest/bin/jest.js',
    language: 'node',
    test: 'npm test',
    files: {
      'package.json': pkg({
        type: 'module',
        scripts: { test: 'NODE_OPTIONS=--experimental-vm-modules npx jest' },
      }),
      '__tests__/a.js': '',
    },
    framework: 'jest',
    path: `__tests__/suture-${FP}.js`,
    command: `NODE_OPTIONS=--experimental-vm-modules npx jest --runTestsByPath '__tests__/suture-${FP}.js'`,
  },
  // ----------------------------------------------------------------------------------------------- vitest
  {
    name: 'vitest with include and a positional filter',
    language: 'node',
    test: 'pnpm test',
    files: {
      'package.json': pkg({ scripts: { test: 'vitest run unit' }, devDependencies: { vitest: '^3' } }),
      'vitest.config.ts':
        "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { include: ['tests/**/*.spec.ts'] } });\n",
      'tests/unit/a.spec.ts': '',
      'tests/e2e/b.spec.ts': '',
    },
    framework: 'vitest',
    path: `tests/unit/suture-${FP}.spec.ts`,
    command: `npx vitest run 'tests/unit/suture-${FP}.spec.ts'`,
  },
  {
    name: 'vite.config with test.dir',
    language: 'node',
    test: 'npx vitest --run',
    files: {
      'package.json': pkg({ type: 'module', devDependencies: { vitest: '^3' } }),
      'vite.config.mjs': "export default { plugins: [], test: { dir: 'packages/api' } };\n",
      'packages/api/src/x.js': '',
      'packages/api/src/x.test.js': '',
      'packages/web/y.test.js': '',
    },
    crash: 'packages/api/src/x.js',
    framework: 'vitest',
    path: `packages/api/src/suture-${FP}.test.js`,
    command: `npx vitest run 'packages/api/src/suture-${FP}.test.js'`,
  },
  // ----------------------------------------------------------------------------------------------- mocha
  {
    name: 'mocha with a .mocharc spec glob',
    language: 'node',
    test: 'npm test',
    files: {
      'package.json': pkg({ scripts: { test: 'mocha' }, devDependencies: { mocha: '^10', chai: '^4' } }),
      '.mocharc.yml': "spec: 'test/**/*.spec.js'\nrequire: test/setup.js\ntimeout: 5000\n",
      'test/setup.js': '',
      'test/api/a.spec.js': '',
    },
    framework: 'mocha',
    path: `test/api/suture-${FP}.spec.js`,
    command: `npx mocha --grep 'suture ${FP}' 'test/api/suture-${FP}.spec.js'`,
  },
  {
    name: 'mocha default ./test, not recursive, TypeScript through ts-node',
    language: 'node',
    test: 'mocha -r ts-node/register --extension ts',
    files: {
      'package.json': pkg({ devDependencies: { mocha: '^10', 'ts-node': '^10' } }),
      'test/a.test.ts': '',
      'test/fixtures/b.test.ts': '',
    },
    framework: 'mocha',
    path: `test/suture-${FP}.test.ts`,
    command: `npx mocha -r ts-node/register --extension ts --grep 'suture ${FP}' 'test/suture-${FP}.test.ts'`,
  },
  {
    name: 'mocha --recursive on a directory, from a package subdirectory',
    language: 'node',
    test: 'cd services/api && npm test',
    files: {
      'services/api/package.json': pkg({ scripts: { test: 'mocha --recursive spec' } }),
      'services/api/spec/unit/a.js': '',
    },
    framework: 'mocha',
    // the repo's tests carry no suffix: neither does the new one
    path: `services/api/spec/unit/suture-${FP}.js`,
    command: `cd services/api && npx mocha --recursive --grep 'suture ${FP}' 'spec/unit/suture-${FP}.js'`,
  },
];

describe('detection and placement by layout', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const view = viewOf(Object.keys(c.files), c.files);
    const setup = detectTestSetup({ language: c.language, test: c.test }, view);
    expect(setup.framework).toBe(c.framework);
    const place = placeTest(setup, view, FP, c.crash);
    expect(place).toEqual({ path: c.path, append: c.append ?? false, collected: c.collected ?? true });
    expect(setup.collection.markers ?? []).toEqual(c.markers ?? []);
    const pythonName =
      c.append && c.language === 'python' && c.framework === 'pytest'
        ? `test_suture_${FP}_function_no_longer_raises`
        : undefined;
    const command = singleCommand(
      setup.invocation ?? {
        runner: setup.framework,
        launcher: ['python3', '-m', 'pytest'],
        args: [],
        env: [],
        cwd: '',
      },
      {
        file: place.path,
        ...(c.append
          ? {
              append: {
                fp: FP,
                ...(pythonName ? { pythonName } : {}),
                ...(c.framework === 'unittest' ? { pythonClass: `TestSuture${FP}` } : {}),
              },
            }
          : {}),
      },
    );
    expect(command).toBe(c.command);
  });
});

describe('the test command, read like sh and npm do', () => {
  const scripts = (s: Record<string, Record<string, string>>) => ({ scripts: (dir: string) => s[dir] });
  it.each([
    ['python3 -m pytest -q', 'pytest', ['python3', '-m', 'pytest'], ['-q']],
    [
      'PYTHONPATH=src python -X dev -m coverage run -m pytest tests',
      'pytest',
      ['python', '-X', 'dev', '-m', 'pytest'],
      ['tests'],
    ],
    ['pipenv run pytest', 'pytest', ['pytest'], []],
    ['npx --yes jest --ci', 'jest', ['npx', 'jest'], ['--ci']],
    ['./node_modules/.bin/mocha', 'mocha', ['./node_modules/.bin/mocha'], []],
    ['nyc --reporter=lcov mocha test', 'mocha', ['npx', 'mocha'], ['test']],
    ['vitest run --coverage', 'vitest', ['npx', 'vitest'], ['--coverage']],
    [
      'node --require ./setup.js --test 2>&1 | tee out.txt',
      'node-test',
      ['node', '--require', './setup.js', '--test'],
      [],
    ],
    ['echo start; pytest tests # the suite', 'pytest', ['pytest'], ['tests']],
  ])('%s', (command, runner, launcher, args) => {
    const inv = findInvocation(command, scripts({}))!;
    expect({ runner: inv.runner, launcher: inv.launcher, args: inv.args.map((w) => w.text) }).toEqual({
      runner,
      launcher,
      args,
    });
  });

  it('follows npm scripts with extra arguments after --, and stops at a script that names itself', () => {
    const inv = findInvocation(
      'npm run test:unit -- --testPathPattern api',
      scripts({ '': { 'test:unit': 'jest --ci' } }),
    )!;
    expect(inv.args.map((w) => w.text)).toEqual(['--ci', '--testPathPattern', 'api']);
    expect(findInvocation('npm test', scripts({ '': { test: 'npm test' } }))).toBeUndefined();
    expect(findInvocation('npm ci && npm test', scripts({ '': { test: 'node --test' } }))!.runner).toBe('node-test');
  });

  it('knows what the shell expands: unquoted globs, quotes, escapes, redirections', () => {
    const [seg] = splitCommand(`node --test "a b" 'c*' d* e\\ f 2>/dev/null > out.log`);
    expect(seg!.map((w) => [w.text, w.shellGlob])).toEqual([
      ['node', false],
      ['--test', false],
      ['a b', false],
      ['c*', false],
      ['d*', true],
      ['e f', false],
    ]);
  });

  it('compiles globs the way each runner reads them', () => {
    expect(globMatch('**/?(*.)+(spec|test).[jt]s?(x)', 'src/a/b.spec.tsx')).toBe(true);
    expect(globMatch('**/?(*.)+(spec|test).[jt]s?(x)', 'src/a/spec.ts')).toBe(true);
    expect(globMatch('**/*.{test,spec}.?(c|m)[jt]s?(x)', 'x/y.test.mjs')).toBe(true);
    expect(globMatch('test/**/*.js', 'test/a.js')).toBe(true);
    expect(globMatch('test/**/*.js', 'test/.hidden/a.js')).toBe(false);
    expect(shellGlobRegExp('test/**/*.js').test('test/a/b.js')).toBe(true);
    expect(shellGlobRegExp('test/**/*.js').test('test/a/b/c.js')).toBe(false);
  });
});

describe('what cannot be read is said, not guessed silently', () => {
  it('a computed jest testMatch falls back to the defaults with a note', () => {
    const files = {
      'package.json': pkg({ scripts: { test: 'jest' } }),
      'jest.config.js': "const base = require('./base');\nmodule.exports = { ...base, testMatch: base.match };\n",
      'src/a.test.js': '',
    };
    const setup = detectTestSetup({ language: 'node', test: 'npm test' }, viewOf(Object.keys(files), files));
    expect(setup.notes.join('\n')).toMatch(/testMatch is computed/);
    expect(placeTest(setup, viewOf(Object.keys(files), files), FP).path).toBe(`src/suture-${FP}.test.js`);
  });

  it('a command that collects nothing new: a conventional place, not collected, said so', () => {
    const files = { 'package.json': pkg({}), 'test/a.test.js': '' };
    const setup = detectTestSetup(
      { language: 'node', test: 'node --test --test-name-pattern=x test/a.test.js' },
      viewOf(Object.keys(files), files),
    );
    const view = viewOf(Object.keys(files), files);
    expect(placeTest(setup, view, FP)).toEqual({ path: 'test/a.test.js', append: true, collected: true });
    const none = detectTestSetup(
      { language: 'python', test: 'pytest -m "smoke and not smoke"' },
      viewOf(['tests/test_a.py'], {}),
    );
    expect(placeTest(none, viewOf(['tests/test_a.py'], {}), FP)).toEqual({
      path: `tests/test_suture_${FP}.py`,
      append: false,
      collected: false,
    });
    expect(none.notes.join('\n')).toMatch(/marker expression/);
  });
});

describe('from a checked-out tree, as verification has it', () => {
  it('reads the same setup through confined reads, and gives the single-test command for any added test', () => {
    const dir = mkdtempSync(join(tmpdir(), 'suture-tree-'));
    try {
      const files = {
        'package.json': pkg({ scripts: { test: 'jest --testPathPattern=spec' } }),
        'test/a.spec.js': '',
      };
      writeTree(dir, files);
      symlinkSync('/etc/passwd', join(dir, 'jest.config.js'));
      const config = { ...py, language: 'node' as const, test: 'npm test' };
      const setup = detectTestSetup(config, repoViewOfTree(dir));
      expect(setup.framework).toBe('jest');
      expect(singleTestCommand(config, 'test/llm-written.spec.js', setup)).toBe(
        "npx jest --runTestsByPath 'test/llm-written.spec.js'",
      );
      // without the tree, only suture.yaml's command is known: `npm test` says nothing, node --test is assumed
      expect(singleTestCommand(config, 'test/llm-written.spec.js')).toBe("node --test 'test/llm-written.spec.js'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
