/** Which changes alter test-runner configuration (shared by the sandbox verdict and the policy input). */
import { describe, expect, it } from 'vitest';
import { commandPaths, runnerConfigChange, runnerConfigKind } from '../../src/policy/runner-config.ts';

describe('runnerConfigKind', () => {
  it.each([
    'conftest.py',
    'tests/unit/conftest.py',
    'pytest.ini',
    'tox.ini',
    'sitecustomize.py',
    'src/usercustomize.py',
    'lib/evil.pth',
    '.coveragerc',
    'jest.config.js',
    'web/jest.config.ts',
    'vitest.config.mts',
    'vite.config.ts',
    'vitest.workspace.json',
    '.mocharc.yml',
    '.mocharc',
    'babel.config.cjs',
    '.babelrc',
    'tsconfig.json',
    'tsconfig.build.json',
    '.npmrc',
    'Makefile',
    'jest.setup.js',
    'src/setupTests.ts',
    'CONFTEST.PY',
  ])('%s is runner configuration as a whole', (path) => {
    expect(runnerConfigKind(path)).toBe('whole');
  });

  it.each(['pyproject.toml', 'setup.cfg', 'package.json', 'web/package.json'])('%s counts by its sections', (p) => {
    expect(runnerConfigKind(p)).toBe('sections');
  });

  it.each(['app/cart.py', 'tests/test_cart.py', 'src/config.ts', 'README.md', 'requirements.txt'])(
    '%s is not runner configuration',
    (p) => {
      expect(runnerConfigKind(p)).toBeNull();
    },
  );

  it('counts the scripts a test command names', () => {
    expect(commandPaths('bash scripts/test.sh && node -r ./test/setup.js --test')).toEqual([
      'scripts/test.sh',
      'test/setup.js',
    ]);
    expect(runnerConfigKind('scripts/test.sh', 'bash ./scripts/test.sh')).toBe('whole');
    expect(runnerConfigKind('scripts/test.sh', 'python3 -m pytest -q')).toBeNull();
    expect(commandPaths('python3 -m pytest -q ../outside /etc/passwd')).toEqual([]);
  });
});

describe('runnerConfigChange', () => {
  it('any edit, addition or deletion of a whole-file config is a change', () => {
    expect(runnerConfigChange('tests/conftest.py', null, 'def pytest_runtest_makereport(item, call): ...\n')).toMatch(
      /adds tests\/conftest\.py/,
    );
    expect(runnerConfigChange('pytest.ini', '[pytest]\n', '[pytest]\naddopts = --ignore=tests\n')).toMatch(
      /changes pytest\.ini/,
    );
    expect(runnerConfigChange('.mocharc.yml', 'spec: test\n', null)).toMatch(/deletes/);
    expect(runnerConfigChange('conftest.py', 'x = 1\n', 'x = 1\n')).toBeNull();
  });

  it('pyproject.toml: only the pytest/coverage sections count', () => {
    const before = '[project]\nname = "x"\nversion = "1"\n\n[tool.pytest.ini_options]\naddopts = "-q"\n';
    expect(runnerConfigChange('pyproject.toml', before, before.replace('"1"', '"2"'))).toBeNull();
    expect(
      runnerConfigChange('pyproject.toml', before, before.replace('"-q"', '"-q --ignore=tests/test_cart.py"')),
    ).toMatch(/tool\.pytest/);
    expect(runnerConfigChange('pyproject.toml', '[project]\nname = "x"\n', `${before}`)).toMatch(/tool\.pytest/);
    expect(runnerConfigChange('pyproject.toml', before, 'this is [not toml')).toMatch(/cannot be parsed/);
  });

  it('setup.cfg: [tool:pytest] and coverage sections count, flake8 does not', () => {
    const before = '[flake8]\nmax-line-length = 100\n\n[tool:pytest]\naddopts = -q\n';
    expect(runnerConfigChange('setup.cfg', before, before.replace('100', '120'))).toBeNull();
    expect(runnerConfigChange('setup.cfg', before, `${before}python_files = nothing_*.py\n`)).toMatch(/tool:pytest/);
    expect(runnerConfigChange('setup.cfg', before, `${before}\n[coverage:run]\nplugins = evil\n`)).toMatch(
      /coverage:run/,
    );
  });

  it('package.json: scripts and runner keys count, dependencies do not', () => {
    const before = JSON.stringify({ name: 'x', scripts: { test: 'node --test' }, dependencies: { a: '1' } });
    const deps = JSON.stringify({ name: 'x', scripts: { test: 'node --test' }, dependencies: { a: '2' } });
    const script = JSON.stringify({ name: 'x', scripts: { test: 'true' }, dependencies: { a: '1' } });
    const jest = JSON.stringify({ ...JSON.parse(before), jest: { testPathIgnorePatterns: ['.'] } });
    expect(runnerConfigChange('package.json', before, deps)).toBeNull();
    expect(runnerConfigChange('package.json', before, script)).toMatch(/scripts/);
    expect(runnerConfigChange('package.json', before, jest)).toMatch(/jest/);
    expect(runnerConfigChange('package.json', before, '{ broken')).toMatch(/cannot be parsed/);
  });
});
