/**
 * exportTree writes a revision from blobs (modes, symlinks as symlinks, gitlinks skipped, no attribute
 * conversion, unsafe paths refused); applyPatch on a plain directory is configured by nothing inside it.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { applyPatch, exportTree, PatchError, removeTree } from '../../src/sandbox/trees.ts';
import { cleanup, git, tempDir } from '../helpers/repo.ts';
import { makeTrap } from './hostile.ts';

const made: string[] = [];
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
});

async function newRepo(): Promise<string> {
  const dir = tempDir('suture-tree-repo-');
  made.push(dir);
  await git(dir, 'init', '-q', '-b', 'main');
  return dir;
}

/** git with stdin (hash-object, mktree): the object id it prints. */
async function gitInput(repo: string, input: string, ...args: string[]): Promise<string> {
  return (await execa('git', args, { cwd: repo, input })).stdout.trim();
}

describe('exportTree', () => {
  it('writes the stored bytes with their modes, symlinks as symlinks, and skips submodules', async () => {
    const repo = await newRepo();
    mkdirSync(join(repo, 'bin'));
    writeFileSync(join(repo, 'bin', 'run.sh'), '#!/bin/sh\necho run\n', { mode: 0o755 });
    writeFileSync(join(repo, 'data.txt'), 'one\ntwo $Id$\n');
    // attributes that would rewrite content on checkout: CRLF line ends and $Id$ expansion
    writeFileSync(join(repo, '.gitattributes'), '* text eol=crlf ident\n');
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'files');
    const head = await git(repo, 'rev-parse', 'HEAD');
    await git(repo, 'update-index', '--add', '--cacheinfo', `160000,${head},vendor/sub`);
    await git(repo, 'commit', '-qm', 'submodule');
    // symlinks pointing out of the tree, committed through the index (the working tree never holds them)
    const abs = await gitInput(repo, '/etc/hostname', 'hash-object', '-w', '--stdin');
    const rel = await gitInput(repo, '../../outside', 'hash-object', '-w', '--stdin');
    await git(repo, 'update-index', '--add', '--cacheinfo', `120000,${abs},link-abs`);
    await git(repo, 'update-index', '--add', '--cacheinfo', `120000,${rel},sub/link-rel`);
    await git(repo, 'commit', '-qm', 'links');

    const tree = await exportTree(repo, 'HEAD');
    made.push(tree);
    expect(readFileSync(join(tree, 'data.txt'), 'utf8')).toBe('one\ntwo $Id$\n');
    expect(statSync(join(tree, 'bin', 'run.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(join(tree, 'data.txt')).mode & 0o777).toBe(0o644);
    expect(lstatSync(join(tree, 'link-abs')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(tree, 'link-abs'))).toBe('/etc/hostname');
    expect(readlinkSync(join(tree, 'sub', 'link-rel'))).toBe('../../outside');
    expect(existsSync(join(tree, 'vendor', 'sub'))).toBe(false);
    expect(existsSync(join(tree, '.git'))).toBe(false);
  });

  it.each([
    ['a ".." entry', (b: string, t: string) => [`040000 tree ${t}\t..`, `100644 blob ${b}\tok`]],
    ['a ".git" entry', (b: string) => [`100644 blob ${b}\t.git`]],
    ['a ".GIT" directory', (b: string, t: string) => [`040000 tree ${t}\t.GIT`, `100644 blob ${b}\tok`]],
  ])('refuses a tree with %s, writing nothing', async (_name, entries) => {
    const repo = await newRepo();
    const blob = await gitInput(repo, '[core]\n', 'hash-object', '-w', '--stdin');
    const sub = await gitInput(repo, `100644 blob ${blob}\tconfig\n`, 'mktree');
    const root = await gitInput(repo, `${entries(blob, sub).join('\n')}\n`, 'mktree');
    const commit = await git(repo, 'commit-tree', root, '-m', 'crafted');
    const err = await exportTree(repo, commit).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/path suture will not write/);
    expect((err as Error).message.split('\n')).toHaveLength(1);
  });
});

describe('applyPatch on a plain directory', () => {
  const patch = `diff --git a/f.txt b/f.txt
--- a/f.txt
+++ b/f.txt
@@ -1 +1,2 @@
 hello
+world
`;

  it('is configured by nothing planted in the directory: no .git, no bare repository, no attributes', async () => {
    const trap = makeTrap();
    const dir = tempDir('suture-plain-');
    made.push(trap.dir, dir);
    writeFileSync(join(dir, 'f.txt'), 'hello\n');
    writeFileSync(join(dir, '.gitattributes'), '* filter=evil text eol=crlf\n');
    const config = [
      '[core]',
      `\thooksPath = ${trap.dir}`,
      `\tfsmonitor = ${trap.script('fsmonitor')}`,
      '[filter "evil"]',
      `\tclean = ${trap.script('clean', 'cat')}`,
      `\tsmudge = ${trap.script('smudge', 'cat')}`,
      '',
    ].join('\n');
    // a .git dir, and the root itself dressed as a bare repository
    for (const gitDir of [join(dir, '.git'), dir]) {
      mkdirSync(join(gitDir, 'objects'), { recursive: true });
      mkdirSync(join(gitDir, 'refs'), { recursive: true });
      writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
      writeFileSync(join(gitDir, 'config'), config);
    }
    await applyPatch(dir, patch);
    expect(trap.ran()).toBe('');
    expect(readFileSync(join(dir, 'f.txt'), 'utf8')).toBe('hello\nworld\n');
  });

  it.each([
    ['../outside', 'a path outside the directory'],
    ['.git/config', 'a .git path'],
  ])('refuses a patch writing %s (%s)', async (path) => {
    const dir = tempDir('suture-plain-');
    made.push(dir);
    const evil = `diff --git a/${path} b/${path}\nnew file mode 100644\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+x\n`;
    const err = await applyPatch(dir, evil).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PatchError);
    expect((err as Error).message).toMatch(/^patch does not apply: .*invalid path/);
    expect(existsSync(join(dir, '..', 'outside'))).toBe(false);
    await removeTree(dir);
  });
});
