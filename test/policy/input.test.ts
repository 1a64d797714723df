/** The input builder on real git repositories, and the parsers behind each fact. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPolicyConfig, parsePolicyConfig } from '../../src/policy/config.ts';
import { dependencyFact } from '../../src/policy/dependencies.ts';
import { parseDockerfile } from '../../src/policy/dockerfile.ts';
import { parseNumstat, parseRaw } from '../../src/policy/git.ts';
import { globToRegExp } from '../../src/policy/glob.ts';
import { buildPolicyInput } from '../../src/policy/input.ts';
import { parseManifest, registryOf } from '../../src/policy/kubernetes.ts';
import { findSecrets } from '../../src/policy/secrets.ts';
import type { PolicyInput } from '../../src/policy/types.ts';
import { cleanup, git } from '../helpers/repo.ts';
import { type AppRepo, BASE_FILES, commitChange, createAppRepo, edited, GOOD_FIX } from './app.ts';

describe('buildPolicyInput on a real repository', () => {
  let repo: AppRepo;
  let input: PolicyInput;

  beforeAll(async () => {
    repo = await createAppRepo();
    const head = await commitChange(repo, 'mixed', {
      write: {
        ...GOOD_FIX,
        'deploy/deployment.yaml': edited(
          'deploy/deployment.yaml',
          'image: registry.example.com/shop/cart-api:1.4.2',
          'image: ghcr.io/x/cart-api:2.0\n          securityContext:\n            privileged: true\n            capabilities: {add: ["cap_sys_admin"]}\n          ports:\n            - containerPort: 9090\n              hostPort: 9090',
        ).replace(
          / {10}ports:\n {12}- containerPort: 8080\n {10}securityContext:\n {12}allowPrivilegeEscalation: false\n {12}runAsNonRoot: true\n/,
          '',
        ),
        'deploy/service.yaml': edited(
          'deploy/service.yaml',
          'selector: {app: cart-api}',
          'type: NodePort\n  selector: {app: cart-api}',
        ),
        'deploy/rbac.yaml': edited('deploy/rbac.yaml', 'role/cart-api', 'role/admin'),
        Dockerfile: edited('Dockerfile', 'USER app', 'USER root'),
        'requirements.txt': 'flask==3.1.0\nrequests>=2.31\npyyaml==6.0.1\n',
        'tests/test_pricing.py': BASE_FILES['tests/test_pricing.py']!.replace(
          '    assert price(10, "member") == 9.0\n',
          '    pass\n',
        ),
        'app/keys.py': 'TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"\n',
        'README.md': '# cart-api\n\nOps notes.\n',
      },
      remove: ['deploy/networkpolicy.yaml'],
      move: [['app/settings.py', 'app/config.py']],
      symlinks: { 'app/passwd': '../../etc/passwd', 'app/current.py': 'cart.py' },
    });
    writeFileSync(join(repo.dir, 'logo.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    input = await buildPolicyInput({ repoDir: repo.dir, base: repo.base, head, config: defaultPolicyConfig() });
  });
  afterAll(() => cleanup(repo.dir));

  const file = (path: string) => {
    const f = input.files.find((x) => x.path === path);
    if (!f) throw new Error(`no ${path} in ${input.files.map((x) => x.path).join(', ')}`);
    return f;
  };

  it('lists every changed file with status, counts, kind, language and test flag', () => {
    expect(file('app/cart.py')).toMatchObject({
      status: 'modified',
      additions: 1,
      deletions: 1,
      kind: 'source',
      language: 'python',
      isTest: false,
    });
    expect(file('tests/test_cart.py')).toMatchObject({ kind: 'test', isTest: true, additions: 4, deletions: 0 });
    expect(file('app/config.py')).toMatchObject({ status: 'renamed', oldPath: 'app/settings.py', kind: 'source' });
    expect(file('deploy/networkpolicy.yaml')).toMatchObject({ status: 'deleted', kind: 'manifest' });
    expect(file('Dockerfile')).toMatchObject({ kind: 'dockerfile', language: 'dockerfile' });
    expect(file('requirements.txt').kind).toBe('dependency');
    expect(file('README.md')).toMatchObject({ kind: 'source', language: 'markdown' });
    expect(input.stats.files).toBe(input.files.length);
    expect(input.stats.sourceLines).toBe(
      input.files.filter((f) => f.kind === 'source').reduce((n, f) => n + f.additions + f.deletions, 0),
    );
  });

  it('resolves symlink targets and whether they leave the repository', () => {
    expect(file('app/passwd').symlink).toEqual({
      target: '../../etc/passwd',
      resolved: null,
      escapesRepo: true,
      error: null,
    });
    expect(file('app/current.py').symlink).toEqual({
      target: 'cart.py',
      resolved: 'app/cart.py',
      escapesRepo: false,
      error: null,
    });
    expect(input.symlinks).toEqual([
      { path: 'app/passwd', target: '../../etc/passwd', resolved: null, escapesRepo: true, error: null },
    ]);
    expect(file('app/cart.py').symlink).toBeNull();
  });

  it('parses Kubernetes resources before and after', () => {
    const deployment = input.kubernetes.find((m) => m.path === 'deploy/deployment.yaml')!;
    const [before] = deployment.before;
    const [after] = deployment.after;
    expect(before!.id).toBe('Deployment/shop/cart-api');
    expect(before!.pod!.containers[0]).toMatchObject({
      name: 'app',
      registry: 'registry.example.com',
      ports: [{ port: 8080, hostPort: null, protocol: 'TCP' }],
      securityContext: { privileged: false, allowPrivilegeEscalation: false, runAsNonRoot: true, capabilitiesAdd: [] },
    });
    expect(after!.pod!.containers[0]).toMatchObject({
      image: 'ghcr.io/x/cart-api:2.0',
      registry: 'ghcr.io',
      ports: [{ port: 9090, hostPort: 9090, protocol: 'TCP' }],
      securityContext: { privileged: true, capabilitiesAdd: ['SYS_ADMIN'] },
    });
    const service = input.kubernetes.find((m) => m.path === 'deploy/service.yaml')!;
    expect(service.before[0]!.service).toEqual({
      type: 'ClusterIP',
      ports: [{ port: 80, protocol: 'TCP', nodePort: null }],
    });
    expect(service.after[0]!.service!.type).toBe('NodePort');
    const rbac = input.kubernetes.find((m) => m.path === 'deploy/rbac.yaml')!;
    expect(rbac.after.map((r) => r.id)).toEqual(['ServiceAccount/shop/cart-api', 'Role/shop/cart-api']);
    expect(rbac.after[0]!.identity).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/admin' });
    expect(rbac.after[1]!.rbac!.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'], nonResourceURLs: [] },
    ]);
    const netpol = input.kubernetes.find((m) => m.path === 'deploy/networkpolicy.yaml')!;
    expect(netpol.before.map((r) => r.kind)).toEqual(['NetworkPolicy']);
    expect(netpol.before[0]!.networkPolicy).toEqual({
      podSelector: { app: 'cart-api' },
      policyTypes: [],
      ingressRules: 1,
      egressRules: 0,
      allowsAllIngress: false,
      allowsAllEgress: false,
    });
    expect(deployment.before[0]!.networkPolicy).toBeNull();
    expect(netpol.after).toEqual([]);
  });

  it('reads Dockerfile, dependency, test and secret facts', () => {
    expect(input.dockerfiles).toEqual([
      {
        path: 'Dockerfile',
        status: 'modified',
        before: {
          stages: [
            { image: 'registry.example.com/python:3.12-slim', registry: 'registry.example.com', name: 'build' },
            { image: 'build', registry: null, name: null },
          ],
          user: 'app',
        },
        after: expect.objectContaining({ user: 'root' }),
      },
    ]);
    expect(input.dependencies).toEqual([
      {
        path: 'requirements.txt',
        ecosystem: 'python',
        file: 'manifest',
        added: [{ name: 'pyyaml', version: '==6.0.1' }],
        removed: [],
        changed: [{ name: 'flask', from: '==3.0.3', to: '==3.1.0' }],
      },
    ]);
    expect(input.tests.removedAssertions).toEqual([
      { path: 'tests/test_pricing.py', line: 5, text: 'assert price(10, "member") == 9.0' },
    ]);
    expect(input.secrets).toEqual([
      { path: 'app/keys.py', line: 1, kind: 'GitHub token', redacted: 'ghp_... (40 chars)' },
    ]);
  });

  it('fills the context as if verification passed when no verdict is given', () => {
    expect(input.schema).toBe(3);
    expect(input.context).toEqual({
      candidate: { strategy: null, confidence: null },
      verdict: {
        verdict: 'pass',
        reproduced: true,
        fixed: true,
        fixedStatusClass: null,
        testsPassed: true,
        regressionTest: { failsBefore: true, passesAfter: true },
        differential: null,
        installNetwork: null,
      },
      verdictAssumed: true,
      incident: { service: null, environment: null, severity: null },
      mode: 'propose',
    });
    expect(input.config).toEqual({
      thresholds: { maxSourceLines: 40, minConfidence: 0.5 },
      images: { allowedRegistries: [] },
      sandbox: { installHostNetwork: 'review' },
    });
  });

  it('marks binary files and reports no lines for them', async () => {
    await git(repo.dir, 'checkout', '-q', '-b', 'binary', repo.base);
    await git(repo.dir, 'add', 'logo.bin');
    await git(repo.dir, 'commit', '-q', '-m', 'binary');
    const head = await git(repo.dir, 'rev-parse', 'HEAD');
    await git(repo.dir, 'checkout', '-q', 'main');
    const bin = await buildPolicyInput({ repoDir: repo.dir, base: repo.base, head, config: defaultPolicyConfig() });
    expect(bin.files).toEqual([
      expect.objectContaining({ path: 'logo.bin', binary: true, additions: 0, kind: 'source' }),
    ]);
  });
});

describe('git output parsing', () => {
  it('reads renames from --raw -z and --numstat -z', () => {
    const raw = ':100644 100644 aaaa bbbb R090\0old name.py\0new name.py\0:000000 120000 0000 cccc A\0link\0';
    expect(parseRaw(raw)).toEqual([
      expect.objectContaining({ status: 'renamed', oldPath: 'old name.py', path: 'new name.py', oldBlob: 'aaaa' }),
      expect.objectContaining({ status: 'added', path: 'link', oldBlob: null, newMode: '120000' }),
    ]);
    const numstat = parseNumstat('3\t1\t\0old name.py\0new name.py\0-\t-\tlogo.png\0');
    expect(numstat.get('new name.py')).toEqual({ additions: 3, deletions: 1, binary: false });
    expect(numstat.get('logo.png')).toEqual({ additions: 0, deletions: 0, binary: true });
    expect(() => parseRaw(':100644 100644 aaaa bbbb X\0p\0')).toThrow(/unexpected git diff --raw record/);
  });
});

describe('Kubernetes parsing', () => {
  it('handles Lists, CronJobs, init containers and Docker Hub images', () => {
    const { resources, errors } = parseManifest(`apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly}
    spec:
      jobTemplate:
        spec:
          template:
            metadata:
              annotations: {iam.gke.io/gcp-service-account: job@p.iam.gserviceaccount.com, other: x}
            spec:
              hostPID: true
              securityContext: {runAsUser: 0}
              initContainers: [{name: init, image: busybox}]
              containers: [{name: job, image: "localhost:5000/job:1"}]
---
# a comment-only document
---
not: kubernetes
`);
    expect(errors).toEqual([]);
    expect(resources).toHaveLength(1);
    const job = resources[0]!;
    expect(job.id).toBe('CronJob//nightly');
    expect(job.identity).toEqual({ 'iam.gke.io/gcp-service-account': 'job@p.iam.gserviceaccount.com' });
    expect(job.pod).toMatchObject({ hostPID: true, runAsUser: 0 });
    expect(job.pod!.containers.map((c) => [c.name, c.init, c.registry])).toEqual([
      ['job', false, 'localhost:5000'],
      ['init', true, 'docker.io'],
    ]);
  });

  it('reports YAML errors, and parses templated YAML with its actions stubbed out', () => {
    expect(parseManifest('apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n').errors).toHaveLength(1);
    const service = parseManifest('apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n');
    expect(service).toMatchObject({ errors: [], templated: true });
    expect(service.resources.map((r) => r.id)).toEqual(['Service//TEMPLATE']);
  });

  it('finds the registry of an image reference', () => {
    expect(registryOf('nginx:1.25')).toBe('docker.io');
    expect(registryOf('library/nginx')).toBe('docker.io');
    expect(registryOf('ghcr.io/org/app@sha256:abc')).toBe('ghcr.io');
    expect(registryOf('123.dkr.ecr.eu-west-1.amazonaws.com/app:1')).toBe('123.dkr.ecr.eu-west-1.amazonaws.com');
    expect(registryOf('localhost/app')).toBe('localhost');
  });
});

describe('Dockerfile parsing', () => {
  it('follows ARGs, continuation lines, stage references and the final USER', () => {
    const facts = parseDockerfile(`# syntax=docker/dockerfile:1
ARG BASE=registry.example.com/node
FROM --platform=$BUILDPLATFORM \${BASE}:20 AS deps
USER node
FROM deps AS test
RUN npm test \\
    && echo ok
FROM scratch
COPY --from=deps /app /app
`);
    expect(facts.stages).toEqual([
      { image: 'registry.example.com/node:20', registry: 'registry.example.com', name: 'deps' },
      { image: 'deps', registry: null, name: 'test' },
      { image: 'scratch', registry: null, name: null },
    ]);
    expect(facts.user).toBeNull();
    expect(parseDockerfile('FROM python:3.12\nUSER 1000:1000\n').user).toBe('1000:1000');
    expect(parseDockerfile('FROM a AS base\nUSER app\nFROM base\n').user).toBe('app');
    expect(parseDockerfile('')).toEqual({ stages: [], user: null });
  });
});

describe('dependency parsing', () => {
  it('diffs package.json, package-lock.json, pyproject.toml and go.mod', () => {
    const pkg = dependencyFact(
      'web/package.json',
      '{"dependencies":{"a":"1","b":"2"},"devDependencies":{"c":"3"}}',
      '{"dependencies":{"a":"1","b":"3"},"devDependencies":{"d":"1"}}',
    );
    expect(pkg).toMatchObject({
      ecosystem: 'npm',
      file: 'manifest',
      added: [{ name: 'd', version: '1' }],
      removed: [{ name: 'c', version: '3' }],
      changed: [{ name: 'b', from: '2', to: '3' }],
    });
    const lock = dependencyFact(
      'package-lock.json',
      '{"packages":{"":{},"node_modules/a":{"version":"1.0.0"}}}',
      '{"packages":{"":{},"node_modules/a":{"version":"1.0.1"},"node_modules/a/node_modules/b":{"version":"2.0.0"}}}',
    );
    expect(lock).toMatchObject({
      file: 'lockfile',
      added: [{ name: 'a/node_modules/b', version: '2.0.0' }],
      changed: [{ name: 'a' }],
    });
    const py = dependencyFact(
      'pyproject.toml',
      '[project]\nname = "x"\ndependencies = [\n  "Flask>=3",\n  "requests[socks]==2.31 ; python_version>\'3\'",\n]\n',
      '[project]\nname = "x"\ndependencies = ["flask>=3.1", "requests[socks]==2.31 ; python_version>\'3\'"]\n[tool.poetry.dependencies]\npython = "^3.12"\nrich = "^13"\n',
    );
    expect(py).toMatchObject({
      ecosystem: 'python',
      added: [{ name: 'rich', version: '^13' }],
      changed: [{ name: 'flask', from: '>=3', to: '>=3.1' }],
      removed: [],
    });
    const gomod = dependencyFact(
      'go.mod',
      'module x\n\nrequire github.com/a/b v1.0.0\n',
      'module x\n\nrequire (\n\tgithub.com/a/b v1.1.0 // indirect\n\tgolang.org/x/net v0.1.0\n)\n',
    );
    expect(gomod).toMatchObject({
      ecosystem: 'go',
      added: [{ name: 'golang.org/x/net' }],
      changed: [{ name: 'github.com/a/b', to: 'v1.1.0' }],
    });
    expect(dependencyFact('yarn.lock', 'a', 'b')).toMatchObject({
      file: 'lockfile',
      added: [],
      removed: [],
      changed: [],
    });
    expect(dependencyFact('package.json', 'not json', '{}')).toMatchObject({ added: [], removed: [] });
  });
});

describe('secret detection', () => {
  const scan = (text: string, entropyCheck = true) =>
    findSecrets(
      'f.py',
      text.split('\n').map((t, i) => ({ line: i + 1, text: t })),
      { entropyThreshold: 4, entropyCheck },
    );

  it('finds known formats, credential assignments and high-entropy strings', () => {
    expect(scan('-----BEGIN OPENSSH PRIVATE KEY-----')[0]!.kind).toBe('private key');
    expect(scan('key = "AKIAIOSFODNN7EXAMPLE"')[0]!.kind).toBe('AWS access key id');
    expect(scan('url = "postgres://app:s3cr3tpass@db:5432/app"')[0]!.kind).toBe('credential in URL');
    expect(scan('db_password = "Tr0ub4dor&3xyz"')[0]!.kind).toBe('credential assignment');
    expect(scan('blob = "q8Zr4XvN2pLw9TbK7mYc3HdF6sJ1"')[0]).toMatchObject({
      kind: 'high-entropy string',
      redacted: 'q8Zr... (28 chars)',
    });
  });

  it('leaves ordinary code, placeholders and lockfile hashes alone', () => {
    expect(scan('password = os.environ["DB_PASSWORD"]')).toEqual([]);
    expect(scan('api_key = "<your-api-key-here>"')).toEqual([]);
    expect(scan('token = "$' + '{TOKEN_FROM_VAULT_AT_RUNTIME}"')).toEqual([]);
    expect(scan('def calculate_member_discount_for_cart(cart):')).toEqual([]);
    expect(scan('commit = "3f786850e387550fdab836ed7e6dc881de23001b"')).toEqual([]);
    expect(scan('"integrity": "sha512-q8Zr4XvN2pLw9TbK7mYc3HdF6sJ1q8Zr4XvN2pLw"', false)).toEqual([]);
  });
});

describe('policy config', () => {
  it('applies defaults and reads a policy: section', () => {
    expect(defaultPolicyConfig().thresholds).toEqual({ maxSourceLines: 40, minConfidence: 0.5 });
    const c = parsePolicyConfig(
      'service: cart\npolicy:\n  thresholds: {maxSourceLines: 10}\n  paths: {protected: ["app/billing/**"]}\n',
      'suture.yaml',
    );
    expect(c.thresholds).toEqual({ maxSourceLines: 10, minConfidence: 0.5 });
    expect(c.paths.protected).toEqual(['app/billing/**']);
    expect(c.paths.source).toEqual(['**']);
    expect(parsePolicyConfig('', 'empty.yaml')).toEqual(defaultPolicyConfig());
  });

  it('rejects unknown keys, wrong types and broken YAML with the offending path', () => {
    expect(() => parsePolicyConfig('thresholds: {maxLines: 3}', 'p.yaml')).toThrow(/p.yaml: thresholds/);
    expect(() => parsePolicyConfig('thresholds: {minConfidence: 2}', 'p.yaml')).toThrow(/thresholds.minConfidence/);
    expect(() => parsePolicyConfig('paths: {source: []}', 'p.yaml')).toThrow(/paths.source/);
    expect(() => parsePolicyConfig('thresholds: [1', 'p.yaml')).toThrow(/not valid YAML/);
  });
});

describe('paths', () => {
  it('matches globs like .gitignore, dotfiles included', () => {
    expect(globToRegExp('**').test('.github/workflows/ci.yml')).toBe(true);
    expect(globToRegExp('app/**').test('app/a/b.py')).toBe(true);
    expect(globToRegExp('app/**').test('lib/app/b.py')).toBe(false);
    expect(globToRegExp('*.rego').test('x/y/z.rego')).toBe(true);
    expect(globToRegExp('src/*.{ts,js}').test('src/a.js')).toBe(true);
    expect(globToRegExp('src/*.{ts,js}').test('src/a/b.ts')).toBe(false);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
  });
});
