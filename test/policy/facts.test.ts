/**
 * The pure readers behind the input facts that close issue 8's policy bypasses: symlink resolution (checked
 * against the real file system), path classification by every spelling, Kubernetes YAML as Kubernetes reads
 * it, Dockerfile instructions as BuildKit splits them, skip markers and test-runner access.
 */
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { regressionTest } from '../../src/diagnose/regression-test.ts';
import { addedSkips, removedAssertions } from '../../src/policy/assertions.ts';
import { kindOf } from '../../src/policy/classify.ts';
import { defaultPolicyConfig } from '../../src/policy/config.ts';
import { instructions, parseDockerfile } from '../../src/policy/dockerfile.ts';
import { canonicalPath, matchesGuarded } from '../../src/policy/glob.ts';
import { parseManifest, stubTemplate } from '../../src/policy/kubernetes.ts';
import { processHooks, runnerAccess } from '../../src/policy/runner-access.ts';
import { runnerConfigChange } from '../../src/policy/runner-config.ts';
import { aliasIndex, MAX_LINK_HOPS, resolvePath, type TreeLinks } from '../../src/policy/symlinks.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';

const numbered = (text: string) => text.split('\n').map((t, i) => ({ line: i + 1, text: t }));
const tree = (links: Record<string, string>, submodules: string[] = []): TreeLinks => ({
  links: new Map(Object.entries(links)),
  submodules: new Set(submodules),
});

describe('symlink resolution', () => {
  it('follows links inside targets and climbs from where a link points', () => {
    const t = tree({ 'sub/d': '..', x: 'sub/d/..', ok: 'sub/d/app', abs: '/etc/passwd', win: 'C:\\x' });
    expect(resolvePath(t, 'x')).toEqual({ resolved: null, escapesRepo: true, error: null });
    expect(resolvePath(t, 'ok')).toEqual({ resolved: 'app', escapesRepo: false, error: null });
    expect(resolvePath(t, 'abs').escapesRepo).toBe(true);
    expect(resolvePath(t, 'win').escapesRepo).toBe(true);
    expect(resolvePath(t, 'sub/d', false)).toEqual({ resolved: 'sub/d', escapesRepo: false, error: null });
  });

  it('bounds loops, and does not see into submodules or through unreadable targets', () => {
    expect(resolvePath(tree({ a: 'b', b: 'a' }), 'a').error).toContain(`more than ${MAX_LINK_HOPS} links`);
    expect(resolvePath(tree({ a: 'a/x' }), 'a').error).toContain('a loop');
    expect(resolvePath(tree({ l: 'vendor/lib/x' }, ['vendor/lib']), 'l').error).toContain('submodule vendor/lib');
    const unreadable: TreeLinks = { links: new Map([['l', null]]), submodules: new Set() };
    expect(resolvePath(unreadable, 'l').error).toContain('cannot be read');
  });

  it('treats the work tree .git as outside the repository', () => {
    expect(resolvePath(tree({ cfg: '.git/config' }), 'cfg').escapesRepo).toBe(true);
    expect(resolvePath(tree({ cfg: 'sub/../.GIT/hooks' }), 'cfg').escapesRepo).toBe(true);
  });

  it('names a file by every link that leads to it', () => {
    const aliases = aliasIndex(
      tree({ '.github': 'ci', 'ci/workflows': '../wf', 'tests/conftest.py': '../app/hooks.py' }),
    );
    expect(aliases('wf/deploy.yml')).toEqual(['.github/workflows/deploy.yml', 'ci/workflows/deploy.yml']);
    expect(aliases('app/hooks.py')).toEqual(['tests/conftest.py']);
    expect(aliases('app/cart.py')).toEqual([]);
    // A link to the root names everything again below it: bounded, not endless.
    expect(aliasIndex(tree({ 'sub/d': '..' }), 8)('a.py').length).toBeLessThanOrEqual(8);
  });

  describe('agrees with the kernel', () => {
    const root = tempDir('suture-links-');
    afterAll(() => cleanup(root));
    let n = 0;
    const names = ['a', 'b', 'a/c', 'b/c'];
    const targets = ['.', '..', '../..', '../../..', 'a', 'b', 'a/c', '../a', 'l0', 'l1', 'a/l2', 'l0/..', 'l1/../..'];
    const linkPaths = ['l0', 'l1', 'a/l2', 'b/l3'];

    it('escapes exactly when realpath leaves the repository', () => {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...targets), { minLength: 4, maxLength: 4 }), (chosen) => {
          // The repository sits two levels deep, so climbing out of it still resolves on disk.
          const repo = join(root, `case${n++}`, 'x', 'repo');
          for (const d of names) mkdirSync(join(repo, d), { recursive: true });
          const links: Record<string, string> = {};
          linkPaths.forEach((p, i) => {
            links[p] = chosen[i]!;
            symlinkSync(chosen[i]!, join(repo, p));
          });
          const t = tree(links);
          const real = realpathSync.native(repo);
          for (const p of linkPaths) {
            let onDisk: string;
            try {
              onDisk = realpathSync.native(join(repo, p));
            } catch {
              // A loop (ELOOP) or a dangling target: the resolver must not call it resolved inside.
              const r = resolvePath(t, p);
              expect(r.error !== null || r.escapesRepo || r.resolved !== null).toBe(true);
              continue;
            }
            const rel = relative(real, onDisk);
            const outside = rel === '..' || rel.startsWith(`..${sep}`);
            const r = resolvePath(t, p);
            expect({ p, escapes: r.escapesRepo }).toEqual({ p, escapes: outside });
            if (!outside) expect(r.resolved).toBe(rel.split(sep).join('/'));
          }
        }),
        { numRuns: 150 },
      );
    });
  });
});

describe('path classification', () => {
  const config = defaultPolicyConfig();

  it('compares guarded paths case-insensitively and as Windows and macOS would', () => {
    expect(canonicalPath('.GitHub. /Workflows/ci.yml')).toBe('.GitHub/Workflows/ci.yml');
    expect(matchesGuarded('.GITHUB/workflows/x.yml', ['.github/**'])).toBe(true);
    expect(matchesGuarded('.github./workflows/x.yml', ['.github/**'])).toBe(true);
    expect(kindOf('.GitHub/workflows/x.yml', config, false)).toBe('workflow');
    expect(kindOf('services/api/DOCKERFILE', config, false)).toBe('dockerfile');
    expect(kindOf('Suture.YAML', config, false)).toBe('policy');
    expect(kindOf('TESTS/test_cart.py', config, false)).toBe('test');
  });

  it('keeps paths.source exact: another spelling of a source path is not source', () => {
    const narrow = { ...config, paths: { ...config.paths, source: ['app/**'] } };
    expect(kindOf('app/cart.py', narrow, false)).toBe('source');
    expect(kindOf('App/cart.py', narrow, false)).toBe('other');
  });

  it.each([
    ['.github', 'workflow'],
    ['sub/.husky/pre-push', 'workflow'],
    ['Jenkinsfile.release', 'workflow'],
    ['.gitlab/CODEOWNERS', 'workflow'],
    ['.tool-versions', 'dependency'],
    ['.nvmrc', 'dependency'],
    ['Procfile', 'manifest'],
    ['.gitignore', 'other'],
    ['tools/lint/action.yml', 'workflow'],
    ['.yarnrc.yml', 'workflow'],
    ['.yarn/plugins/evil.cjs', 'workflow'],
    ['.pnpmfile.cjs', 'workflow'],
    ['.dockerignore', 'other'],
    ['app/Makefile.py', 'source'],
    ['docs/justfile.md', 'source'],
  ])('%s is %s', (path, kind) => {
    expect(kindOf(path, config, false)).toBe(kind);
  });
});

describe('Kubernetes YAML as Kubernetes reads it', () => {
  const pod = (securityContext: string, extra = '') =>
    `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n${extra}  containers:\n    - name: c\n      image: x\n      securityContext:\n${securityContext}`;
  const sc = (text: string) => parseManifest(pod(text)).resources[0]!.pod!.containers[0]!.securityContext;

  it('reads YAML 1.1 booleans and numbers', () => {
    for (const yes of ['yes', 'Yes', 'YES', 'on', 'ON', 'y', 'Y', 'True']) {
      expect(sc(`        privileged: ${yes}\n`).privileged).toBe(true);
    }
    expect(sc('        allowPrivilegeEscalation: off\n').allowPrivilegeEscalation).toBe(false);
    for (const zero of ['00', '0x0', '0b0', '+0', '0_0']) expect(sc(`        runAsUser: ${zero}\n`).runAsUser).toBe(0);
    expect(
      parseManifest(pod('        privileged: false\n', '  hostNetwork: on\n')).resources[0]!.pod!.hostNetwork,
    ).toBe(true);
  });

  it('applies merge keys and anchors, and fails closed on duplicate or ambiguous keys', () => {
    expect(sc('        <<: {privileged: true}\n').privileged).toBe(true);
    const anchored = `x-sc: &sc {privileged: true}\n${pod('        <<: *sc\n')}`;
    expect(parseManifest(anchored).resources[0]!.pod!.containers[0]!.securityContext.privileged).toBe(true);
    expect(parseManifest(pod('        privileged: false\n        privileged: true\n')).errors[0]).toMatch(/unique/);
    expect(parseManifest(pod('        privileged: false\n        Privileged: true\n')).errors[0]).toMatch(
      /ambiguous keys "privileged" and "Privileged"/,
    );
  });

  it('finds pod specs by shape in any kind', () => {
    const custom = `apiVersion: example.com/v1\nkind: Worker\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      hostPID: true\n      containers: [{name: w, image: x}]\n`;
    expect(parseManifest(custom).resources[0]!.pod!.hostPID).toBe(true);
  });

  it('stubs template actions, keeping both branches of a conditional', () => {
    expect(stubTemplate('a: {{ .Values.a }}\n{{- if .X }}\nb: 1\n{{- end }}\n')).toBe('a: TEMPLATE\n\nb: 1\n\n');
    expect(stubTemplate('{{/*\nmulti\nline */}}\nc: 2\n')).toBe('\n\n\nc: 2\n');
    expect(parseManifest('apiVersion: v1\nkind: Pod\n{{ include "x" . }}\n').templated).toBe(true);
    expect(stubTemplate('{% if debug %}\nprivileged: true\n{% endif %}\nname: {{ n }} {# note #}\n')).toBe(
      '\nprivileged: true\n\nname: TEMPLATE TEMPLATE\n',
    );
  });
});

describe('Dockerfile instructions as BuildKit splits them', () => {
  it('skips heredoc bodies and honours the escape directive', () => {
    expect(instructions('FROM a\nRUN <<EOF\nUSER app\nEOF\nUSER root\n')).toEqual(['FROM a', 'RUN <<EOF', 'USER root']);
    expect(instructions('FROM a\nCOPY <<-"END" /x\n\tUSER app\n\tEND\n')).toEqual(['FROM a', 'COPY <<-"END" /x']);
    expect(instructions('# escape=`\nFROM a\nRUN echo \\\nUSER root\n')).toEqual([
      'FROM a',
      'RUN echo \\',
      'USER root',
    ]);
    expect(instructions('# escape=`\nFROM a\nRUN echo `\n  hi\n')).toEqual(['FROM a', 'RUN echo  hi']);
  });

  it('expands ARG and ENV in USER, and keeps a user only build arguments decide as written', () => {
    expect(parseDockerfile('ARG U=root\nFROM a\nARG U\nUSER $' + '{U}\n').user).toBe('root');
    expect(parseDockerfile('FROM a\nENV RUNAS=0\nUSER $RUNAS\n').user).toBe('0');
    expect(parseDockerfile('FROM a\nARG UID\nUSER $UID\n').user).toBe('$UID');
    expect(parseDockerfile('FROM a\nUSER $' + '{U:-root}\n').user).toBe('root');
  });
});

describe('skip markers and runner access', () => {
  it('leaves ordinary test code alone', () => {
    const test = `import pytest
from app.cart import summary


def test_skips_nothing():
    items = {"skip": 1, "only": 2}
    assert summary({"items": []})["count"] == 0
`;
    expect(addedSkips('tests/test_cart.py', numbered(test))).toEqual([]);
    expect(runnerAccess('tests/test_cart.py', 'python', true, numbered(test))).toEqual([]);
  });

  it('leaves the regression tests suture generates alone', () => {
    const incident = {
      id: 'inc-1',
      fingerprint: 'abcdef0123456789',
      service: 'cart-api',
      environment: 'production',
      summary: 'TypeError: cannot read properties of undefined',
      requests: [{ method: 'POST', path: '/cart', headers: {}, body: '{}' }],
    };
    for (const language of ['python', 'node'] as const) {
      const config = { language, start: 'python3 -m app', health: '/healthz', test: 'python3 -m pytest -q' };
      const test = regressionTest(incident as never, config as never, ['tests/test_x.py', 'test/x.test.js'])!;
      const lines = numbered(test.after);
      const lang = language === 'python' ? 'python' : 'javascript';
      expect([test.path, addedSkips(test.path, lines)]).toEqual([test.path, []]);
      expect([test.path, runnerAccess(test.path, lang, true, lines)]).toEqual([test.path, []]);
      expect([test.path, processHooks(test.path, lang, lines)]).toEqual([test.path, []]);
    }
  });

  it('catches a bare return added to an existing test, not one in a new test file', () => {
    const lines = numbered('def test_total():\n    return\n    assert total() == 6\n');
    expect(addedSkips('tests/test_cart.py', lines, true).map((l) => l.text)).toEqual(['return']);
    expect(addedSkips('tests/test_cart.py', lines, false)).toEqual([]);
  });

  it('asks for review of code chosen at run time', () => {
    const dynamic = numbered(
      "const m = await import(name);\nrequire('node:' + 'test');\neval(code);\nconst r = re.compile('x');\n",
    );
    expect(processHooks('app/x.js', 'javascript', dynamic).map((l) => l.line)).toEqual([1, 3]);
    expect(
      processHooks('app/x.py', 'python', numbered('exec(src)\nimport re\np = re.compile("x")\n')).map((l) => l.line),
    ).toEqual([1]);
  });

  it('catches removed test classes and parametrised definitions', () => {
    const removed = numbered('class TestCart:\n    pass\nit.each([1])("x", () => {});\n');
    expect(removedAssertions('tests/test_cart.py', removed).map((l) => l.line)).toEqual([1, 3]);
  });

  it('does not flag services for ordinary signal handling or logging', () => {
    const service = "process.on('SIGTERM', () => server.close());\nconsole.log('ok');\nconst r = /a/.test(s);\n";
    expect(processHooks('app/server.js', 'javascript', numbered(service))).toEqual([]);
    expect(runnerAccess('app/server.js', 'javascript', false, numbered(service))).toEqual([]);
    expect(runnerAccess('docs/guide.md', null, false, numbered('run pytest -q'))).toEqual([]);
  });
});

describe('runner configuration that cannot be read', () => {
  it('counts an unreadable section file as changed', () => {
    expect(runnerConfigChange('pyproject.toml', '[project]\nname = "x"\n', '\u0000100644 abc123')).toMatch(
      /cannot be parsed/,
    );
  });
});
