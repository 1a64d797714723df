/**
 * Code that reaches into the test runner. Code under test runs inside the runner's process, so a line that
 * imports pytest internals, defines a pytest hook, or touches node:test / jest / vitest state can rewrite
 * results: the suite reports green whatever the tests found. Lines that take over the process itself
 * (exit codes, import machinery, exit hooks) have honest uses in services, so they only need a human.
 * Pure: reads the lines a change adds.
 */
import type { NumberedLine } from './lines.ts';
import type { LineFact } from './types.ts';

/** Anywhere outside test code: no reference to a runner at all (strings too: dynamic imports name it). */
const RUNNER_IN_SOURCE: Record<string, RegExp[]> = {
  python: [/pytest|pluggy|\bunittest\b/i],
  javascript: [
    /node:test|NODE_TEST_CONTEXT|\bJEST_\w+|\bVITEST\w*|__vitest\w*|import\.meta\.vitest/,
    /(['"`])(jest|vitest|mocha|jasmine|ava|tap|uvu|@jest\/[^'"`]*|@vitest\/[^'"`]*)\1/,
    // The globals jest and vitest inject into the process.
    /(?<![\w.$])(jest|vi)\s*\.\s*\w+/,
    /(?<![\w.$])(describe|it|test|expect|beforeAll|afterAll|beforeEach|afterEach)\s*(\.\s*\w+\s*)?\(/,
  ],
};
RUNNER_IN_SOURCE.typescript = RUNNER_IN_SOURCE.javascript!;

/** Inside test code: the runner's internals (its hooks, plugin manager, reporter channels). */
const RUNNER_INTERNALS: RegExp[] = [
  /\b_pytest\b|\bpluggy\b|\bhook(impl|wrapper|spec)\b|\bpluginmanager\b|\bconfig\s*\.\s*hook\b/i,
  /^\s*(async\s+)?def\s+pytest_\w+|\bpytest_plugins\b/,
  /NODE_TEST_CONTEXT|node:test\/reporters|__vitest\w*|vitest\/(node|runners|suite)\b|@jest\/(core|reporters|test-result)|jest-circus/,
];

/** Any code: taking over the process or its import machinery. */
const PROCESS_HOOKS: RegExp[] = [
  /\bsys\s*\.\s*(modules|meta_path|path_hooks|settrace|setprofile|addaudithook|excepthook|exit|_getframe)\b/,
  /\bos\s*\.\s*_exit\b|\batexit\b|\b__builtins__\b|\bbuiltins\s*\.|\b__import__\s*\(|\bimportlib\b|\bctypes\b/,
  /\bprocess\s*\.\s*(exit|exitCode|abort|reallyExit|binding|_linkedBinding|dlopen)\b/,
  /\bprocess\s*\.\s*kill\s*\(\s*process\s*\.\s*pid\b/,
  /\bprocess\s*\.\s*(on|once|addListener|prependListener)\s*\(\s*['"`](exit|beforeExit)['"`]/,
  /\brequire\s*\.\s*cache\b|\bModule\s*\.\s*_\w+|\b_resolveFilename\b/,
  // Code chosen at run time: what it imports or runs cannot be read here.
  /(?<![\w.$])(exec|eval|compile)\s*\(|\bnew\s+Function\s*\(|\b(require|import)\s*\(\s*(?![\s'"`)])/,
];

const CODE_LANGUAGES = new Set(['python', 'javascript', 'typescript']);

function clip(text: string): string {
  const t = text.trim();
  return t.length > 120 ? t.slice(0, 117) + '...' : t;
}

function matching(path: string, added: NumberedLine[], patterns: RegExp[]): LineFact[] {
  return added
    .filter((l) => patterns.some((re) => re.test(l.text)))
    .map((l) => ({ path, line: l.line, text: clip(l.text) }));
}

/** Added lines of PATH that reach into the test runner (deny). */
export function runnerAccess(
  path: string,
  language: string | null,
  isTest: boolean,
  added: NumberedLine[],
): LineFact[] {
  if (!CODE_LANGUAGES.has(language ?? '')) return [];
  return matching(path, added, isTest ? RUNNER_INTERNALS : (RUNNER_IN_SOURCE[language!] ?? []));
}

/** Added lines of PATH that take over the process or its imports (review). */
export function processHooks(path: string, language: string | null, added: NumberedLine[]): LineFact[] {
  if (!CODE_LANGUAGES.has(language ?? '')) return [];
  return matching(path, added, PROCESS_HOOKS);
}
