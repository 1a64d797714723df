/** The git adapter's pure decisions: tree paths, refs, remote addresses, failure classification. */
import { join, resolve, sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catFileBatchParser } from '../../src/gitops/batch.ts';
import { guardArgs } from '../../src/gitops/git.ts';
import { isValidRefName, mergeRefs, parseLooseRef, parsePackedRefs, refConflict } from '../../src/gitops/refs.ts';
import {
  classifyGitFailure,
  describeGitFailure,
  extraHeaders,
  parseConfigList,
  parseRemoteAddress,
  redactUrls,
} from '../../src/gitops/remote.ts';
import { linkChangeProblem, parseLsTree, treePathProblem } from '../../src/gitops/tree.ts';
import { parseRaw } from '../../src/policy/git.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe('tree paths', () => {
  it.each(['a', 'a/b.txt', '.github/workflows/ci.yml', '.gitignore', 'x/.gitattributes', 'git', 'a/.git2'])(
    'accepts %s',
    (p) => expect(treePathProblem(p)).toBeNull(),
  );

  it.each([
    '',
    '/etc/passwd',
    '..',
    'a/../b',
    './a',
    'a//b',
    'a/',
    '.git',
    '.GIT/config',
    'x/.Git/hooks/pre-commit',
    '.git./x',
    '.git /x',
  ])('refuses %j', (p) => expect(treePathProblem(p)).not.toBeNull());

  it('an accepted path stays strictly inside the directory and never names .git (property)', () => {
    const root = resolve('/tmp/suture-tree-x');
    const segment = fc.oneof(
      fc.constantFrom('a', 'b.py', '..', '.', '', '.git', '.GIT', '.git.', '.git ', 'git', '.gitx', '...', ' '),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 6 }), (absolute, segments) => {
        const path = `${absolute ? '/' : ''}${segments.join('/')}`;
        if (treePathProblem(path) !== null) return;
        const target = resolve(join(root, path));
        expect(target.startsWith(root + sep)).toBe(true);
        expect(
          target
            .slice(root.length + 1)
            .split(sep)
            .some((c) => c.toLowerCase().replace(/[. ]+$/, '') === '.git'),
        ).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('tree records', () => {
  it('parses ls-tree records, paths with tabs and spaces included', () => {
    const out = `100644 blob ${A}\ta b\tc\x00100755 blob ${B}\trun.sh\x00120000 blob ${A}\tlink\x00160000 commit ${B}\tsub\x00`;
    expect(parseLsTree(out)).toEqual([
      { kind: 'file', oid: A, path: 'a b\tc' },
      { kind: 'executable', oid: B, path: 'run.sh' },
      { kind: 'symlink', oid: A, path: 'link' },
      { kind: 'gitlink', oid: B, path: 'sub' },
    ]);
  });

  it('finds a symlink or gitlink among the changes a commit would make', () => {
    const raw = (mode: string, path: string) => `:100644 ${mode} ${A} ${B} M\x00${path}\x00`;
    expect(linkChangeProblem(parseRaw(raw('100644', 'a.py') + raw('100755', 'b.sh')))).toBeNull();
    expect(linkChangeProblem(parseRaw(raw('100644', 'a.py') + raw('120000', 'l')))).toMatch(/symlink at l$/);
    expect(linkChangeProblem(parseRaw(raw('160000', 'vendor')))).toMatch(/gitlink \(submodule\) at vendor/);
    // a deleted symlink leaves none behind
    expect(linkChangeProblem(parseRaw(`:120000 000000 ${A} ${'0'.repeat(40)} D\x00l\x00`))).toBeNull();
  });
});

describe('refs', () => {
  it('keeps only well-formed ref names', () => {
    for (const ok of [
      'refs/heads/main',
      'refs/heads/suture/0123abcd',
      'refs/tags/v1.2.3',
      'refs/remotes/origin/HEAD',
    ]) {
      expect(isValidRefName(ok)).toBe(true);
    }
    for (const bad of [
      'main',
      'refs/heads/',
      'refs/heads/a..b',
      'refs/heads/a b',
      'refs/heads/.hidden',
      'refs/heads/x.lock',
      'refs/heads/a@{1}',
      'refs/heads/a:b',
      'refs//x',
      'refs/heads/a\nb',
    ]) {
      expect(isValidRefName(bad)).toBe(false);
    }
  });

  it('reads packed-refs, loose refs override them, symrefs are followed', () => {
    const packed = parsePackedRefs(
      `# pack-refs with: peeled fully-peeled sorted\n${A} refs/heads/main\n${A} refs/tags/v1\n^${B}\n${A} refs/heads/bad name\n`,
      'sha1',
    );
    expect([...packed]).toEqual([
      ['refs/heads/main', A],
      ['refs/tags/v1', A],
    ]);
    const loose = new Map([
      ['refs/heads/main', parseLooseRef(`${B}\n`, 'sha1')!],
      ['refs/remotes/origin/HEAD', parseLooseRef('ref: refs/heads/main\n', 'sha1')!],
      ['refs/heads/dangling', parseLooseRef('ref: refs/heads/none\n', 'sha1')!],
    ]);
    const refs = mergeRefs(packed, loose);
    expect(refs.get('refs/heads/main')).toBe(B);
    expect(refs.get('refs/remotes/origin/HEAD')).toBe(B);
    expect(refs.has('refs/heads/dangling')).toBe(false);
    expect(parseLooseRef('not an id\n', 'sha1')).toBeNull();
    expect(parseLooseRef(`${A}\n`, 'sha256')).toBeNull();
  });

  it('refuses a ref that exists or collides with a directory of refs', () => {
    const existing = ['refs/heads/main', 'refs/heads/suture/abc'];
    expect(refConflict('refs/heads/suture/def', existing)).toBeNull();
    expect(refConflict('refs/heads/suture/abc', existing)).toMatch(/already exists/);
    expect(refConflict('refs/heads/suture', existing)).toMatch(/conflicts with refs\/heads\/suture\/abc/);
    expect(refConflict('refs/heads/main/x', existing)).toMatch(/conflicts with refs\/heads\/main/);
  });
});

describe('remote addresses', () => {
  it.each([
    ['https://github.com/acme/app.git', 'url'],
    ['ssh://git@github.com/acme/app.git', 'url'],
    ['git@github.com:acme/app.git', 'scp'],
    ['/srv/git/app.git', 'local'],
    ['../origin.git', 'local'],
    ['file:///srv/git/app.git', 'local'],
    ['ext::sh -c touch% /tmp/pwned', 'refused'],
    ['fd::3', 'refused'],
    ['hg::https://example.com/repo', 'refused'],
    ['gopher://example.com/x', 'refused'],
    ['-oProxyCommand=touch /tmp/pwned', 'refused'],
    ['https://example.com/a\nb', 'refused'],
  ])('%j is %s', (url, kind) => {
    expect(parseRemoteAddress(url).kind).toBe(kind);
  });

  it('hides credentials in URLs', () => {
    expect(redactUrls("unable to access 'https://x-access-token:ghs_abc@github.com/a.git/'")).toBe(
      "unable to access 'https://***@github.com/a.git/'",
    );
    expect(redactUrls('git@github.com:acme/app.git')).toBe('git@github.com:acme/app.git');
  });

  it("carries only the repository's http extra headers, as data", () => {
    const config = parseConfigList(
      'remote.origin.url\nhttps://github.com/a/b\x00http.https://github.com/.extraheader\nAUTHORIZATION: basic eA==\x00core.sshcommand\nevil\x00http.extraheader\nX-A: 1\x00credential.helper\nevil\x00bare.flag\x00',
    );
    expect(config.get('bare.flag')).toEqual(['true']);
    expect(extraHeaders(config)).toEqual([
      ['http.https://github.com/.extraheader', 'AUTHORIZATION: basic eA=='],
      ['http.extraheader', 'X-A: 1'],
    ]);
  });
});

describe('push and ls-remote failures, in one line', () => {
  it.each([
    [
      "remote: error: GH006: Protected branch update failed for refs/heads/main.\nTo https://github.com/a/b.git\n ! [remote rejected] main -> main (protected branch hook declined)\nerror: failed to push some refs to 'https://github.com/a/b.git'",
      'protected-branch',
    ],
    [
      "To /srv/origin.git\n ! [rejected]        main -> main (stale info)\nerror: failed to push some refs to '/srv/origin.git'",
      'non-fast-forward',
    ],
    [
      " ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs to 'x'\nhint: Updates were rejected because the remote contains work",
      'non-fast-forward',
    ],
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", 'authentication'],
    [
      "remote: Invalid username or password.\nfatal: Authentication failed for 'https://github.com/a/b.git/'",
      'authentication',
    ],
    ['git@github.com: Permission denied (publickey).\nfatal: Could not read from remote repository.', 'authentication'],
    ["fatal: unable to access 'https://github.com/a/b.git/': The requested URL returned error: 403", 'authentication'],
    ["fatal: unable to access 'https://nope.invalid/a.git/': Could not resolve host: nope.invalid", 'unreachable'],
    [
      "fatal: unable to access 'http://127.0.0.1:1/a.git/': Failed to connect to 127.0.0.1 port 1: Connection refused",
      'unreachable',
    ],
    [
      'ssh: connect to host example.com port 22: Connection timed out\nfatal: Could not read from remote repository.',
      'unreachable',
    ],
    ['error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502', 'unreachable'],
    ["fatal: '/srv/none.git' does not appear to be a git repository", 'not-found'],
    ['fatal: something new', 'other'],
  ])('%j → %s', (stderr, kind) => {
    const f = classifyGitFailure(stderr);
    expect(f.kind).toBe(kind);
    expect(f.transient).toBe(kind === 'unreachable');
    expect(describeGitFailure(f).split('\n')).toHaveLength(1);
    expect(describeGitFailure(f)).not.toMatch(/^(fatal|error|remote):/);
  });

  it('a timeout is its own kind, never retried', () => {
    expect(classifyGitFailure('', true)).toEqual({ kind: 'timeout', transient: false, line: '' });
    expect(describeGitFailure(classifyGitFailure('', true))).toBe('remote unreachable (no answer before the timeout)');
  });
});

describe('the commands the adapter runs', () => {
  it('adds the flags that keep drivers and signing off, and refuses anything else', () => {
    expect(guardArgs(['diff', '--raw', 'a', 'b'])).toEqual([
      'diff',
      '--no-ext-diff',
      '--no-textconv',
      '--raw',
      'a',
      'b',
    ]);
    expect(guardArgs(['blame', '-L', '1,1', 'x', '--', 'f'])).toEqual([
      'blame',
      '--no-textconv',
      '-L',
      '1,1',
      'x',
      '--',
      'f',
    ]);
    expect(guardArgs(['commit-tree', 't', '-p', 'b'])[1]).toBe('--no-gpg-sign');
    // a file may be named like an option after --
    expect(guardArgs(['blame', 'x', '--', '--textconv'])).toContain('--textconv');
    for (const bad of [
      ['checkout', 'x'],
      ['cat-file', '--textconv', 'x'],
      ['diff', '--ext-diff'],
      ['commit-tree', '-S', 't'],
      ['apply', 'p.diff'],
      ['push', '--receive-pack=x', 'u'],
    ]) {
      expect(() => guardArgs(bad)).toThrow(/is not run by suture|runs with --cached/);
    }
  });
});

describe('cat-file --batch output', () => {
  it('parses the same objects whatever the chunk boundaries (property)', () => {
    const object = fc.record({
      oid: fc.stringMatching(/^[0-9a-f]{40}$/),
      data: fc.uint8Array({ maxLength: 64 }),
      missing: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(object, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.nat(40),
        (objs, cuts, maxBytes) => {
          const specs = objs.map((o) => o.oid);
          const out = Buffer.concat(
            objs.map((o) =>
              o.missing
                ? Buffer.from(`${o.oid} missing\n`)
                : Buffer.concat([
                    Buffer.from(`${o.oid} blob ${o.data.length}\n`),
                    Buffer.from(o.data),
                    Buffer.from('\n'),
                  ]),
            ),
          );
          const parser = catFileBatchParser(specs, 'sha1', maxBytes);
          const bounds = [...new Set(cuts.map((c) => c % (out.length + 1)))].sort((a, b) => a - b);
          const got = [0, ...bounds, out.length]
            .slice(1)
            .flatMap((end, i, all) => parser.push(out.subarray(i === 0 ? 0 : all[i - 1], end)));
          expect(parser.answered).toBe(objs.length);
          expect(got.map(([spec]) => spec)).toEqual(specs);
          got.forEach(([, obj], i) => {
            const o = objs[i]!;
            if (o.missing) {
              expect(obj).toBeNull();
            } else {
              expect(obj).toMatchObject({ oid: o.oid, type: 'blob', size: o.data.length });
              expect(obj!.data).toEqual(o.data.length <= maxBytes ? Buffer.from(o.data) : null);
            }
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
