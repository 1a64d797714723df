/**
 * Regression tests in the repo's own framework, end to end through `suture heal` and the sandbox:
 *   stock-api   `npm test` runs `node --test test/unit/*.test.js` (CommonJS): the test lands in test/unit,
 *                   requires what it needs, and the integration tests (which need a database) stay out
 *   quotes-wsgi     the repo's tests call the WSGI app through a `client` fixture: the test uses that fixture
 *                   instead of starting the service
 *   reports-worker  a crash in a background job, no HTTP and no `start`: a function-level test (calling the
 *                   job with the input rebuilt from the traceback) is what makes it healable
 * On each branch, the repo's own test command then runs the new test, and it fails once the fix is reverted.
 */
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, git, heal, ROOT, repoFromService, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

const env = { PATH: `${ROOT}/node_modules/.bin:${process.env.PATH}`, PYTHONDONTWRITEBYTECODE: '1' };

async function run(dir: string, command: string) {
  const r = await execa('sh', ['-c', command], { cwd: dir, reject: false, env, all: true, timeout: 120_000 });
  return { code: r.exitCode, out: r.all ?? '' };
}

interface Case {
  service: string;
  file: RegExp;
  /** What the committed test must contain (its style), and must not. */
  has: RegExp[];
  hasNot: RegExp[];
  /** The repo's own test command, and how its output counts the tests it ran. */
  suite: string;
  count: (out: string) => number;
  tests: number;
  reproduced: boolean;
}

const nodeCount = (out: string) => Number(/^(?:# |ℹ )tests (\d+)/m.exec(out)?.[1] ?? -1);
const pytestCount = (out: string) =>
  Number(/(\d+) passed/.exec(out)?.[1] ?? -1) + Number(/(\d+) failed/.exec(out)?.[1] ?? 0);

const CASES: Case[] = [
  {
    service: 'stock-api',
    file: /^test\/unit\/suture-[0-9a-f]{12}\.test\.js$/,
    has: [/require\('node:test'\)/, /require\('node:assert\/strict'\)/],
    hasNot: [/^import /m, /\?\?|\?\./],
    suite: 'npm test --silent',
    count: nodeCount,
    tests: 3,
    reproduced: true,
  },
  {
    service: 'quotes-wsgi',
    file: /^tests\/test_suture_[0-9a-f]{12}\.py$/,
    has: [/request\.getfixturevalue\(FIXTURE\)/, /FIXTURE = json\.loads\("\\"client\\""\)/],
    hasNot: [/subprocess|Popen|START/],
    suite: 'python3 -m pytest -q -p no:cacheprovider',
    count: pytestCount,
    tests: 3,
    reproduced: true,
  },
  {
    service: 'reports-worker',
    file: /^tests\/test_suture_[0-9a-f]{12}\.py$/,
    has: [/import reports as subject/, /ARGS = json\.loads\(".*\\"orders\\":\[\]/, /_function_no_longer_raises\(\)/],
    hasNot: [/subprocess|Popen|START/],
    suite: 'python3 -m pytest -q -p no:cacheprovider',
    count: pytestCount,
    tests: 2,
    reproduced: false,
  },
];

describe.each(CASES.map((c) => [c.service, c] as const))('suture heal %s', (_name, c) => {
  it("writes its regression test in the repo's framework, where its test command runs it", async () => {
    const repo = await repoFromService(c.service);
    const state = tempDir('suture-state-');
    made.push(repo, state);
    const base = await git(repo, 'rev-parse', 'HEAD');
    const r = await heal(c.service, repo, state, '--no-push');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status, JSON.stringify(out.candidates, null, 2)).toBe('proposed');
    const chosen = out.candidates.find((x: { id: string }) => x.id === out.chosen);
    expect(chosen.verdict).toMatchObject({ verdict: 'pass', reproduced: c.reproduced, testsPassed: true });
    expect(chosen.verdict.regressionTest).toMatchObject({ failsBefore: true, passesAfter: true });
    const file: string = chosen.verdict.regressionTest.file;
    expect(file).toMatch(c.file);

    const text = await git(repo, 'show', `${out.branch}:${file}`);
    for (const re of c.has) expect(text).toMatch(re);
    for (const re of c.hasNot) expect(text).not.toMatch(re);

    // The repo's own command, on the branch, runs the new test with the others (and only the unit tests).
    const wt = tempDir('suture-wt-');
    made.push(wt);
    await git(repo, 'worktree', 'add', '-q', '--detach', wt, out.branch);
    const green = await run(wt, c.suite);
    expect(green.code, green.out).toBe(0);
    expect(c.count(green.out), green.out).toBe(c.tests);
    // Without the fix, the same command fails on the new test.
    const changed = (await git(repo, 'diff', '--name-only', base, out.branch)).split('\n').filter((f) => f !== file);
    await git(wt, 'checkout', base, '--', ...changed);
    const red = await run(wt, c.suite);
    expect(red.code, red.out).not.toBe(0);
    expect(red.out).toContain(
      file
        .split('/')
        .pop()!
        .replace(/\.(py|js)$/, ''),
    );
  });
});
