/** Throw-away copies of the repo at a revision, with or without a patch, for mounting into containers. */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { SutureError } from '../errors.ts';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `suture-${prefix}-`));
}

/** Exports `rev` of `repoDir` into a new temp dir (git archive: committed content only, no .git). */
export async function exportTree(repoDir: string, rev: string): Promise<string> {
  const dir = await tempDir('tree');
  const archive = execa('git', ['archive', '--format=tar', rev], { cwd: repoDir, encoding: 'buffer' });
  const untar = execa('tar', ['-x', '-C', dir], { input: (await archive).stdout });
  await untar;
  return dir;
}

export async function copyTree(src: string): Promise<string> {
  const dir = await tempDir('ws');
  await cp(src, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

export class PatchError extends SutureError {
  constructor(message: string) {
    super('BAD_INPUT', message);
    this.name = 'PatchError';
  }
}

/**
 * Applies a git-style patch to a plain directory. `git apply` refuses paths outside the directory and
 * symlink tricks, which matters because patches may come from an LLM. `include` limits it to some paths.
 */
export async function applyPatch(dir: string, patch: string, include?: string[]): Promise<void> {
  const file = join(dirname(dir), `${dir.split('/').pop()}.diff`);
  await writeFile(file, patch);
  try {
    const args = ['apply', '--whitespace=nowarn', ...(include ?? []).map((p) => `--include=${p}`), file];
    // GIT_CEILING_DIRECTORIES keeps git from treating an enclosing repo as this tree's repo.
    const r = await execa('git', args, {
      cwd: dir,
      reject: false,
      env: { GIT_CEILING_DIRECTORIES: dirname(dir) },
    });
    if (r.exitCode !== 0) {
      throw new PatchError(`patch does not apply: ${(r.stderr.split('\n')[0] ?? '').replace(/^error: /, '')}`);
    }
  } finally {
    await rm(file, { force: true });
  }
}

export async function removeTree(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(async () => {
    // The sandbox user may have created read-only dirs; make them writable and retry.
    await execa('chmod', ['-R', 'u+rwX', dir], { reject: false });
    await rm(dir, { recursive: true, force: true });
  });
}
