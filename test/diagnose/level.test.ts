/** The language level the repo's toolchain accepts: where `?.` / `??` may be emitted, which Python grammar. */
import { describe, expect, it } from 'vitest';
import { featureVersion, jsLevel, lowestVersion, pythonLevel } from '../../src/diagnose/strategies/template/level.ts';

const pkg = (o: object) => ({ 'package.json': JSON.stringify(o) });

describe('JavaScript level', () => {
  it.each([
    ['nothing says otherwise', {}, true],
    ['engines.node >= 14', pkg({ engines: { node: '>=14' } }), true],
    ['engines.node admits Node 12', pkg({ engines: { node: '>=12.0.0' } }), false],
    ['engines.node ^10 || ^12', pkg({ engines: { node: '^10 || ^12' } }), false],
    ['Babel 6', pkg({ devDependencies: { 'babel-core': '^6.26.3', 'babel-preset-es2015': '^6.24.1' } }), false],
    ['Babel 7 current', pkg({ devDependencies: { '@babel/core': '^7.24.0' } }), true],
    ['Babel 7 pinned before 7.8', pkg({ devDependencies: { '@babel/core': '~7.4.0' } }), false],
    ['TypeScript 3.5', pkg({ devDependencies: { typescript: '~3.5.3' } }), false],
    ['TypeScript 5', pkg({ devDependencies: { typescript: '^5.4.0' } }), true],
    ['webpack 4 without a loader', pkg({ devDependencies: { webpack: '^4.46.0' } }), false],
    [
      'webpack 4 through babel-loader 8',
      pkg({ devDependencies: { webpack: '^4.46.0', 'babel-loader': '^8.0.0' } }),
      true,
    ],
    ['.babelrc with es2015', { '.babelrc': '{"presets": ["es2015"]}' }, false],
    ['ESLint ecmaVersion 2018', { '.eslintrc.json': '{"parserOptions": {"ecmaVersion": 2018}}' }, false],
    ['ESLint ecmaVersion 2022', { '.eslintrc.json': '{"parserOptions": {"ecmaVersion": 2022}}' }, true],
    ['a broken package.json', { 'package.json': '{oops' }, true],
  ])('%s → modern %s', (_name, files, modern) => {
    expect(jsLevel(files, false).modern).toBe(modern);
  });

  it('a file that already uses ?. proves the toolchain reads it', () => {
    expect(jsLevel(pkg({ engines: { node: '>=10' } }), true)).toMatchObject({ modern: true });
  });

  it('reads the lowest version a range admits', () => {
    expect(lowestVersion('>=12.22 <17')).toEqual([12, 22]);
    expect(lowestVersion('^14.17.0 || >=16')).toEqual([14, 17]);
    expect(lowestVersion('18.x')).toEqual([18, 0]);
  });
});

describe('Python level', () => {
  it.each([
    ['pyproject requires-python', { 'pyproject.toml': '[project]\nname = "x"\nrequires-python = ">=3.8"\n' }, 8],
    ['poetry', { 'pyproject.toml': '[tool.poetry.dependencies]\npython = "^3.9"\n' }, 9],
    ['setup.py', { 'setup.py': 'setup(name="x", python_requires=">=3.7, <4")' }, 7],
    ['setup.cfg', { 'setup.cfg': '[options]\npython_requires = >=3.10\n' }, 10],
    ['.python-version', { '.python-version': '3.11.4\n' }, 11],
    ['runtime.txt', { 'runtime.txt': 'python-3.9.18\n' }, 9],
    ['Dockerfile', { Dockerfile: 'FROM python:3.8-slim\nRUN pip install x\n' }, 8],
    ['an upper bound first', { 'pyproject.toml': '[project]\nrequires-python = "<3.13,>=3.9"\n' }, 9],
  ])('%s → 3.%s', (_name, files, minor) => {
    expect(pythonLevel(files).minMinor).toBe(minor);
  });

  it('checks emitted code at the oldest grammar the repo supports, within what the host parses', () => {
    expect(featureVersion({ minMinor: 8, why: '' }, 11)).toEqual([3, 8]);
    expect(featureVersion({ minMinor: 12, why: '' }, 11)).toEqual([3, 11]);
    expect(featureVersion({ why: '' }, 11)).toBeUndefined();
  });
});
