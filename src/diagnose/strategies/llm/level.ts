/**
 * What the repo says about the syntax its toolchain accepts, as short facts for the prompt (e.g.
 * `package.json engines.node: >=6`, `babel-core ^6.26.0 (Babel 6 parses neither ?. nor ??)`). Pure: the
 * caller reads the files. Facts, not a verdict: the prompt tells the model to stay within them and, when
 * unsure, to avoid `?.`, `??` and `:=`.
 */
import { parse as parseToml } from 'smol-toml';
import type { Language } from '../../../incident/types.ts';

export const LEVEL_FILES: Record<Language, string[]> = {
  node: [
    'package.json',
    '.nvmrc',
    '.node-version',
    'tsconfig.json',
    '.babelrc',
    'babel.config.json',
    'babel.config.js',
  ],
  python: ['pyproject.toml', 'setup.py', 'setup.cfg', '.python-version', 'runtime.txt', 'Pipfile'],
};

const clip = (t: string) => t.replace(/\s+/g, ' ').trim().slice(0, 80);

function json(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    // tsconfig and .babelrc allow comments and trailing commas.
    const v = JSON.parse(text.replace(/^\s*\/\/.*$/gm, '').replace(/,(\s*[}\]])/g, '$1'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown) => (typeof v === 'string' ? clip(v) : undefined);
const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function languageLevelFacts(language: Language, files: ReadonlyMap<string, string | undefined>): string[] {
  const facts: string[] = [];
  const f = (name: string) => files.get(name);
  if (language === 'node') {
    const pkg = json(f('package.json'));
    if (pkg) {
      const engines = str(obj(pkg.engines).node);
      if (engines) facts.push(`package.json engines.node: ${engines}`);
      if (pkg.type === 'module') facts.push('package.json type: module (ES modules)');
      else facts.push('package.json type: commonjs (require/module.exports)');
      const deps = { ...obj(pkg.dependencies), ...obj(pkg.devDependencies) };
      const babel6 = str(deps['babel-core']);
      if (babel6) facts.push(`babel-core ${babel6} (Babel 6 parses neither ?. nor ??)`);
      const babel7 = str(deps['@babel/core']);
      if (babel7) facts.push(`@babel/core ${babel7}`);
      const ts = str(deps.typescript);
      if (ts) facts.push(`typescript ${ts}`);
    }
    for (const name of ['.nvmrc', '.node-version']) {
      const v = f(name);
      if (v?.trim()) facts.push(`${name}: ${clip(v)}`);
    }
    const target = str(obj(json(f('tsconfig.json'))?.compilerOptions).target);
    if (target) facts.push(`tsconfig.json target: ${target}`);
    for (const name of ['.babelrc', 'babel.config.json', 'babel.config.js']) {
      if (f(name) !== undefined) facts.push(`${name} present: the code is compiled by Babel`);
    }
  } else {
    const pyproject = f('pyproject.toml');
    if (pyproject !== undefined) {
      try {
        const doc = parseToml(pyproject) as Record<string, unknown>;
        const req = str(obj(doc.project)['requires-python']);
        if (req) facts.push(`pyproject.toml requires-python: ${req}`);
        const poetry = str(obj(obj(obj(doc.tool).poetry).dependencies).python);
        if (poetry) facts.push(`pyproject.toml tool.poetry python: ${poetry}`);
      } catch {
        // unparseable: no fact
      }
    }
    for (const name of ['setup.py', 'setup.cfg']) {
      const m = /python_requires\s*=\s*['"]?([^'",\n]+)/.exec(f(name) ?? '');
      if (m) facts.push(`${name} python_requires: ${clip(m[1]!)}`);
    }
    const pv = f('.python-version');
    if (pv?.trim()) facts.push(`.python-version: ${clip(pv)}`);
    const rt = f('runtime.txt');
    if (rt?.trim()) facts.push(`runtime.txt: ${clip(rt)}`);
    const m = /python_version\s*=\s*['"]([^'"]+)/.exec(f('Pipfile') ?? '');
    if (m) facts.push(`Pipfile python_version: ${clip(m[1]!)}`);
  }
  if (facts.length === 0) facts.push('no language level declared: use syntax every supported version accepts');
  return facts;
}
