/**
 * The language level the repo's own toolchain accepts, so emitted code parses where it runs: optional
 * chaining and `??` (ES2020) only where Node, Babel, TypeScript, webpack and ESLint all read them; Python's
 * oldest supported version for the parse check of emitted code (templates never emit the walrus). Pure:
 * the adapter reads the few config files named in LEVEL_FILES.
 */
import { parse as parseToml } from 'smol-toml';

export const LEVEL_FILES = [
  'package.json',
  '.babelrc',
  '.babelrc.json',
  'babel.config.json',
  '.eslintrc',
  '.eslintrc.json',
  'pyproject.toml',
  'setup.py',
  'setup.cfg',
  '.python-version',
  'runtime.txt',
  'Dockerfile',
] as const;

export interface JsLevel {
  /** `?.` and `??` may be emitted. */
  modern: boolean;
  why: string;
}

export interface PyLevel {
  /** Oldest Python 3 minor version the repo supports, when it says. */
  minMinor?: number;
  why: string;
}

type Files = Partial<Record<(typeof LEVEL_FILES)[number], string>>;

function json(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The lowest major.minor a semver range admits (`^6.26.0` → [6,26], `>=12` → [12,0], `~3.6` → [3,6]). */
export function lowestVersion(range: string): [number, number] | undefined {
  let best: [number, number] | undefined;
  for (const part of range.split('||')) {
    const m = /(?:^|[\s>=^~v])(\d+)(?:\.(\d+|x|\*))?/.exec(part.trim().replace(/^[<]=?.*$/, ''));
    if (!m) continue;
    const v: [number, number] = [Number(m[1]), /^\d+$/.test(m[2] ?? '') ? Number(m[2]) : 0];
    if (!best || v[0] < best[0] || (v[0] === best[0] && v[1] < best[1])) best = v;
  }
  return best;
}

/** The highest major.minor a range can resolve to (`^6.26.0` → [6,∞), `~3.6.2` → [3,6], `3.5.1` → [3,5]). */
function highestVersion(range: string): [number, number] | undefined {
  const r = range.trim();
  if (/^(\*|latest|x|)$/.test(r) || />(?!.*<)/.test(r)) return undefined; // unbounded above
  let best: [number, number] | undefined;
  for (const part of r.split('||')) {
    const m = /^\s*([~^]?)v?(\d+)(?:\.(\d+|x|\*))?/.exec(part);
    if (!m) return undefined;
    const major = Number(m[2]);
    const minor = m[1] === '^' || !/^\d+$/.test(m[3] ?? '') ? Number.POSITIVE_INFINITY : Number(m[3]);
    const v: [number, number] = [major, minor];
    if (!best || v[0] > best[0] || (v[0] === best[0] && v[1] > best[1])) best = v;
  }
  return best;
}

const below = (v: [number, number] | undefined, major: number, minor: number) =>
  v !== undefined && (v[0] < major || (v[0] === major && v[1] < minor));

export function jsLevel(files: Files, fileUsesModernSyntax: boolean): JsLevel {
  if (fileUsesModernSyntax) return { modern: true, why: 'the file already uses ?. or ??' };
  const pkg = json(files['package.json']);
  const deps: Record<string, string> = {};
  for (const k of ['dependencies', 'devDependencies', 'peerDependencies']) {
    const d = pkg?.[k];
    if (d && typeof d === 'object') Object.assign(deps, d);
  }
  const engines = pkg?.engines as Record<string, unknown> | undefined;
  if (typeof engines?.node === 'string') {
    const low = lowestVersion(engines.node);
    if (below(low, 14, 0)) return { modern: false, why: `package.json engines.node admits Node ${low![0]}` };
  }
  const babel6 = ['babel-core', 'babel-cli', 'babel-register', 'babel-preset-es2015', 'babel-preset-env'].find(
    (d) => deps[d] !== undefined && below(highestVersion(deps[d]!), 7, 0),
  );
  if (babel6 && !deps['@babel/core']) return { modern: false, why: `Babel 6 (${babel6}) cannot parse ?. or ??` };
  const babel7 = deps['@babel/core'];
  if (babel7 && below(highestVersion(babel7), 7, 8)) return { modern: false, why: '@babel/core before 7.8' };
  const ts = deps.typescript;
  if (ts && below(highestVersion(ts), 3, 7)) return { modern: false, why: 'TypeScript before 3.7' };
  const webpack = deps.webpack;
  if (webpack && below(highestVersion(webpack), 5, 0) && !deps['babel-loader'] && !deps['ts-loader']) {
    return { modern: false, why: 'webpack 4 parses sources with an acorn that predates ?.' };
  }
  for (const f of ['.babelrc', '.babelrc.json', 'babel.config.json'] as const) {
    const presets = JSON.stringify(json(files[f])?.presets ?? '');
    if (/\bes201[5-7]\b|"latest"/.test(presets)) return { modern: false, why: `${f} uses a pre-ES2020 preset` };
  }
  for (const f of ['.eslintrc', '.eslintrc.json'] as const) {
    const cfg = json(files[f]);
    const opts = cfg?.parserOptions as Record<string, unknown> | undefined;
    const ecma = Number(opts?.ecmaVersion);
    if (!cfg?.parser && Number.isFinite(ecma) && ecma > 0 && (ecma < 11 || (ecma > 2000 && ecma < 2020))) {
      return { modern: false, why: `${f} lints with ecmaVersion ${ecma}` };
    }
  }
  return { modern: true, why: 'no part of the toolchain predates ES2020' };
}

function pyMinorOf(spec: string): number | undefined {
  let best: number | undefined;
  for (const m of spec.matchAll(/(>=|~=|==|>|\^)?\s*(\d+)\.(\d+)/g)) {
    if (m[1] === undefined && !/^\s*\d/.test(spec)) continue;
    const [major, minor] = [Number(m[2]), Number(m[3])];
    if (major !== 3) {
      if (major < 3) return 0; // Python 2 admitted: check against the oldest 3.x grammar
      continue;
    }
    const v = m[1] === '>' ? minor + 1 : minor;
    if (best === undefined || v < best) best = v;
  }
  return best;
}

export function pythonLevel(files: Files): PyLevel {
  const sources: [string, string | undefined][] = [];
  const pyproject = files['pyproject.toml'];
  if (pyproject) {
    try {
      const t = parseToml(pyproject) as Record<string, Record<string, unknown>>;
      const project = t.project as Record<string, unknown> | undefined;
      const poetry = (t.tool as Record<string, Record<string, Record<string, unknown>>> | undefined)?.poetry;
      sources.push(['pyproject.toml requires-python', project?.['requires-python'] as string | undefined]);
      sources.push(['pyproject.toml poetry python', poetry?.dependencies?.python as string | undefined]);
    } catch {
      // an unreadable pyproject says nothing about the level
    }
  }
  sources.push([
    'setup.py python_requires',
    /python_requires\s*=\s*['"]([^'"]+)['"]/.exec(files['setup.py'] ?? '')?.[1],
  ]);
  sources.push(['setup.cfg python_requires', /python_requires\s*=\s*(.+)/.exec(files['setup.cfg'] ?? '')?.[1]]);
  sources.push(['.python-version', files['.python-version']?.trim().split(/\s+/)[0]]);
  sources.push(['runtime.txt', /python-(\d+\.\d+)/.exec(files['runtime.txt'] ?? '')?.[1]]);
  sources.push(['Dockerfile', /^\s*FROM\s+(?:\S+\/)?python:(\d+\.\d+)/im.exec(files.Dockerfile ?? '')?.[1]]);
  for (const [why, spec] of sources) {
    if (!spec) continue;
    const minor = pyMinorOf(spec);
    if (minor !== undefined) return { minMinor: minor, why };
  }
  return { why: 'the repo does not say' };
}

/** The `feature_version` for checking emitted Python: the repo's oldest 3.x, within what `ast` supports. */
export function featureVersion(level: PyLevel, hostMinor: number): [number, number] | undefined {
  if (level.minMinor === undefined) return undefined;
  return [3, Math.min(Math.max(level.minMinor, 7), hostMinor)];
}
