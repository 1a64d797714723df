/** Applying a model's search/replace edits and the path rules: pure, no server. */
import { describe, expect, it } from 'vitest';
import type { LlmCandidate } from '../../src/diagnose/strategies/llm/answer.ts';
import {
  applyCandidate,
  editRefusal,
  normalisePath,
  type RepoView,
  testRefusal,
} from '../../src/diagnose/strategies/llm/edits.ts';

const PY = 'def f(x):\n    return 1 / x\n\n\ndef g(x):\n    return 1 / x\n';
const files: Record<string, string> = {
  'calc.py': PY,
  'crlf.py': 'def f(x):\r\n    return 1 / x\r\n',
  'tests/test_calc.py': 'def test_f():\n    pass\n',
};
const view = (over: Partial<RepoView> = {}): RepoView => ({
  files: new Set([...Object.keys(files), 'Makefile', 'setup.cfg', 'scripts/run_tests.py', 'linked', 'lib/__init__.py']),
  testCommand: 'python3 scripts/run_tests.py',
  language: 'python',
  ...over,
});
const texts = new Map(Object.entries(files));
const TEST = { file: 'tests/test_suture_calc.py', content: 'def test_zero():\n    pass' };
const cand = (edits: LlmCandidate['edits'], test = TEST): LlmCandidate => ({
  summary: 's',
  confidence: 1,
  edits,
  test,
});

describe('normalisePath', () => {
  it.each([
    ['calc.py', 'calc.py'],
    ['./calc.py', 'calc.py'],
    ['././pkg/mod.py', 'pkg/mod.py'],
  ])('%s → %s', (raw, out) => expect(normalisePath(raw)).toEqual({ ok: true, value: out }));

  it.each([
    '../calc.py',
    'pkg/../../etc/passwd',
    '/etc/passwd',
    '~/.ssh/id_rsa',
    'C:/Windows/x.py',
    'pkg//mod.py',
    'pkg/./mod.py',
    'pkg\\mod.py',
    'calc.py\u0000.txt',
    'calc\n.py',
    '.git/config',
    'sub/.GIT/hooks/pre-commit',
    '.git./config',
  ])('refuses %j', (raw) => expect(normalisePath(raw).ok).toBe(false));
});

describe('what a candidate may edit', () => {
  it('source code of the service only', () => {
    const v = view();
    expect(editRefusal('calc.py', v)).toBeUndefined();
    expect(editRefusal('tests/test_calc.py', v)).toMatch(/is a test file/);
    expect(editRefusal('Makefile', v)).toMatch(/is a workflow file/);
    expect(editRefusal('setup.cfg', v)).toMatch(/is a dependency file/);
    expect(editRefusal('scripts/run_tests.py', v)).toMatch(/configures the test runner/);
    expect(editRefusal('README.md', { ...v, files: new Set(['README.md']) })).toMatch(/is not python code/);
    expect(editRefusal('.github/workflows/ci.py', { ...v, files: new Set(['.github/workflows/ci.py']) })).toMatch(
      /workflow/,
    );
    expect(editRefusal('policies/x.py', { ...v, files: new Set(['policies/x.py']) })).toMatch(/policy/);
    expect(editRefusal('Dockerfile', { ...v, files: new Set(['Dockerfile']) })).toMatch(/dockerfile/);
    expect(editRefusal('k8s/app.py', { ...v, files: new Set(['k8s/app.py']) })).toMatch(/manifest/);
    expect(editRefusal('nothere.py', v)).toMatch(/not a file of the repository/);
    expect(editRefusal('app.js', { ...v, language: 'node', files: new Set(['app.js']) })).toBeUndefined();
    expect(editRefusal('jest.config.js', { ...v, language: 'node', files: new Set(['jest.config.js']) })).toMatch(
      /configures the test runner/,
    );
  });

  it('as its test, one new file at a test path of its language, below no file or symlink', () => {
    const v = view();
    expect(testRefusal('tests/test_new.py', v)).toBeUndefined();
    expect(testRefusal('test_new.py', v)).toBeUndefined();
    expect(testRefusal('tests/test_calc.py', v)).toMatch(/already exists/);
    expect(testRefusal('tests/TEST_CALC.py', v)).toMatch(/already exists/); // one file on a case-insensitive checkout
    expect(testRefusal('linked/test_x.py', v)).toMatch(/lies below linked/);
    expect(testRefusal('tests/test_new.js', v)).toMatch(/not a python file/);
    expect(testRefusal('checks.py', v)).toMatch(/not at a test path/);
    expect(testRefusal('tests/conftest.py', v)).toMatch(/test-runner configuration/);
    expect(testRefusal('test/x.test.mjs', { ...v, language: 'node' })).toBeUndefined();
    expect(testRefusal('test/setup-tests.js', { ...v, language: 'node' })).toMatch(/test-runner configuration/);
  });
});

describe('applyCandidate', () => {
  it('applies edits located in the base text, several per file, and adds the test with a final newline', () => {
    const r = applyCandidate(
      cand([
        {
          file: 'calc.py',
          search: 'def f(x):\n    return 1 / x\n',
          replace: 'def f(x):\n    return 1 / x if x else 0\n',
        },
        { file: './calc.py', search: 'def g(x):', replace: 'def g(x):  # g' },
      ]),
      view(),
      texts,
    );
    expect(r).toEqual({
      ok: true,
      value: {
        edits: [
          {
            path: 'calc.py',
            before: PY,
            after: PY.replace('1 / x\n', '1 / x if x else 0\n').replace('def g(x):', 'def g(x):  # g'),
          },
        ],
        test: { path: 'tests/test_suture_calc.py', after: 'def test_zero():\n    pass\n' },
      },
    });
  });

  it('refuses a search text that is missing, ambiguous (even overlapping) or overlapping another edit', () => {
    const one = (search: string, replace = 'x') =>
      applyCandidate(cand([{ file: 'calc.py', search, replace }]), view(), texts);
    expect(one('return 2 / x')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/does not occur in calc\.py/),
    });
    expect(one('    return 1 / x\n')).toMatchObject({ ok: false, reason: expect.stringMatching(/occurs 2 times/) });
    const aaa = applyCandidate(
      cand([{ file: 'a.py', search: 'aa', replace: 'b' }]),
      view({ files: new Set(['a.py']) }),
      new Map([['a.py', 'aaa']]),
    );
    expect(aaa).toMatchObject({ ok: false, reason: expect.stringMatching(/occurs 2 times/) });
    const overlap = applyCandidate(
      cand([
        { file: 'calc.py', search: 'def f(x):\n    return', replace: 'a' },
        { file: 'calc.py', search: 'x):\n    return 1 / x\n\n', replace: 'b' },
      ]),
      view(),
      texts,
    );
    expect(overlap).toMatchObject({ ok: false, reason: 'two edits of calc.py overlap' });
  });

  it('refuses edits that change nothing, unreadable files, and a test that is also edited', () => {
    expect(applyCandidate(cand([{ file: 'calc.py', search: 'def g', replace: 'def g' }]), view(), texts)).toMatchObject(
      {
        ok: false,
        reason: 'the edits change nothing',
      },
    );
    expect(
      applyCandidate(
        cand([{ file: 'lib/__init__.py', search: 'x', replace: 'y' }]),
        view(),
        new Map([['lib/__init__.py', undefined]]),
      ),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/cannot be read at the base revision \(a symlink/) });
  });

  it('matches an LF search text in a CRLF file and keeps the file CRLF', () => {
    const r = applyCandidate(
      cand([
        {
          file: 'crlf.py',
          search: 'def f(x):\n    return 1 / x\n',
          replace: 'def f(x):\n    return 0 if not x else 1 / x\n',
        },
      ]),
      view(),
      texts,
    );
    expect(r.ok && r.value.edits[0]!.after).toBe('def f(x):\r\n    return 0 if not x else 1 / x\r\n');
  });

  it('refuses the whole candidate when any edit or its test is refused', () => {
    const good = { file: 'calc.py', search: 'def g(x):', replace: 'def g(x):  # g' };
    expect(applyCandidate(cand([good, { file: '../x.py', search: 'a', replace: 'b' }]), view(), texts).ok).toBe(false);
    expect(applyCandidate(cand([good], { file: 'tests/test_calc.py', content: 'x' }), view(), texts)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/already exists/),
    });
    expect(applyCandidate(cand([good], { file: '../test_x.py', content: 'x' }), view(), texts)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^regression test: .*outside the repository/),
    });
  });
});
