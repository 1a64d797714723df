/**
 * Test-runner configuration is test code: conftest.py hooks, pytest/jest/mocha/vitest config, Babel and
 * TypeScript config the runner loads, `sitecustomize.py`, `.npmrc`'s node-options, the scripts the test
 * command names. A candidate that edits any of it can make a broken suite report green, so a candidate may
 * not change it (verification fails, the policy denies) and the base revision's versions are what run.
 * Shared by the sandbox verdict and the policy input; pure.
 */
import { posix } from 'node:path';
import { parse as parseToml } from 'smol-toml';

/** Files that are runner configuration as a whole, wherever they sit (matched on the lower-cased name). */
const WHOLE_FILE: RegExp[] = [
  // Python: pytest and its plugins, interpreter start-up hooks, coverage, nox/tox.
  /^conftest\.py$/,
  /^\.?pytest\.ini$/,
  /^tox\.ini$/,
  /^(site|user)customize\.py$/,
  /\.pth$/,
  /^\.coveragerc$/,
  /^noxfile\.py$/,
  // JavaScript/TypeScript runners, their setup files, and the transpilers they load.
  /^(jest|vitest|vite|karma|ava|playwright|cypress|wdio|jasmine)\.(config|conf|workspace|setup)(\.[\w-]+)*\.([cm]?[jt]s|json)$/,
  /^(jest|vitest|test)[.-]setup\.[cm]?[jt]sx?$/,
  /^setup-?tests\.[cm]?[jt]sx?$/,
  /^jasmine\.json$/,
  /^\.mocharc(\.(js|cjs|mjs|json|jsonc|ya?ml))?$/,
  /^mocha\.opts$/,
  /^\.taprc$/,
  /^babel\.config\.([cm]?js|json)$/,
  /^\.babelrc(\.([cm]?js|json))?$/,
  /^tsconfig(\.[\w-]+)*\.json$/,
  /^jsconfig(\.[\w-]+)*\.json$/,
  /^\.swcrc$/,
  /^\.nycrc(\.(json|ya?ml))?$/,
  /^\.c8rc(\.json)?$/,
  /^\.npmrc$/,
  // Generic task runners a test command often goes through.
  /^(gnu)?makefile$/,
  /^justfile$/,
  /^taskfile\.ya?ml$/,
];

/** Files that mix runner configuration with other things: only these parts count. */
const SECTIONS: Record<string, { format: 'toml' | 'ini' | 'json'; keys: string[] }> = {
  'pyproject.toml': {
    format: 'toml',
    keys: ['tool.pytest', 'tool.coverage', 'tool.tox', 'project.entry-points.pytest11'],
  },
  'setup.cfg': { format: 'ini', keys: ['tool:pytest', 'coverage:*', 'options.entry_points'] },
  'package.json': {
    format: 'json',
    keys: ['scripts', 'jest', 'mocha', 'ava', 'c8', 'nyc', 'babel', 'tap', 'jasmine', 'vitest', 'type', 'imports'],
  },
};

function baseName(path: string): string {
  return posix.basename(path).toLowerCase();
}

/**
 * Repo paths the test command names (`bash scripts/test.sh`, `node -r ./test/setup.js --test`,
 * `python3 -m pytest -c ci/pytest.ini`): a candidate must not rewrite what the command runs.
 */
export function commandPaths(testCommand: string | undefined): string[] {
  if (!testCommand) return [];
  return testCommand
    .split(/[\s;&|()<>=]+/)
    .map((t) => t.replace(/^['"]|['"]$/g, ''))
    .filter((t) => /[/.]/.test(t) && !t.startsWith('-') && !/^[.]+$/.test(t))
    .map((t) => posix.normalize(t.replace(/^\.\//, '')))
    .filter((t) => !t.startsWith('../') && !t.startsWith('/'));
}

/**
 * Whether PATH is runner configuration: `whole` (any change counts), `sections` (only the runner's parts of
 * a mixed file count) or null.
 */
export function runnerConfigKind(path: string, testCommand?: string): 'whole' | 'sections' | null {
  const name = baseName(path);
  if (WHOLE_FILE.some((re) => re.test(name))) return 'whole';
  const normalised = posix.normalize(path).toLowerCase();
  if (commandPaths(testCommand).some((p) => p.toLowerCase() === normalised)) return 'whole';
  return SECTIONS[name] ? 'sections' : null;
}

type Parsed = { ok: true; parts: Map<string, string> } | { ok: false; error: string };

function get(doc: unknown, dotted: string): unknown {
  let cur = doc;
  for (const key of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Lower-cased INI section name → its meaningful lines (comments and blank lines dropped). */
function iniSections(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) {
      current = header[1]!.trim().toLowerCase();
      if (!sections.has(current)) sections.set(current, []);
      continue;
    }
    sections.get(current)?.push(line) ?? sections.set(current, [line]);
  }
  return sections;
}

function sectionParts(name: string, text: string): Parsed {
  const spec = SECTIONS[name]!;
  const parts = new Map<string, string>();
  try {
    if (spec.format === 'ini') {
      const sections = iniSections(text);
      for (const key of spec.keys) {
        const prefix = key.endsWith('*') ? key.slice(0, -1) : null;
        for (const [section, lines] of sections) {
          if (prefix ? section.startsWith(prefix) : section === key) parts.set(section, lines.join('\n'));
        }
      }
      return { ok: true, parts };
    }
    const doc = spec.format === 'toml' ? parseToml(text) : JSON.parse(text);
    for (const key of spec.keys) {
      const value = get(doc, key);
      if (value !== undefined) parts.set(key, JSON.stringify(value));
    }
    return { ok: true, parts };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0] ?? 'unparseable' };
  }
}

/**
 * Why the change of PATH from BEFORE to AFTER (null: absent) alters test-runner configuration, or null when
 * it does not. What cannot be parsed counts as a change (fail closed).
 */
export function runnerConfigChange(
  path: string,
  before: string | null,
  after: string | null,
  testCommand?: string,
): string | null {
  if (before === after) return null;
  const kind = runnerConfigKind(path, testCommand);
  if (kind === null) return null;
  const verb = before === null ? 'adds' : after === null ? 'deletes' : 'changes';
  if (kind === 'whole') return `the change ${verb} ${path}, which configures the test runner`;
  const name = baseName(path);
  const [b, a] = [before, after].map((t) =>
    t === null ? ({ ok: true, parts: new Map() } as Parsed) : sectionParts(name, t),
  );
  if (!b!.ok || !a!.ok) {
    const error = !a!.ok ? a!.error : !b!.ok ? b!.error : '';
    return `${path} cannot be parsed (${error}), so its test-runner settings cannot be compared`;
  }
  const keys = new Set([...b!.parts.keys(), ...a!.parts.keys()]);
  const changed = [...keys].filter((k) => b!.parts.get(k) !== a!.parts.get(k)).sort();
  if (changed.length === 0) return null;
  return `the change ${verb === 'adds' ? 'adds' : 'edits'} the test-runner settings of ${path} (${changed.join(', ')})`;
}
