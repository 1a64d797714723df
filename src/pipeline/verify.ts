/** `suture verify`: sandbox verification of one patch, on the same code path heal uses for its candidates. */
import { readFile, stat } from 'node:fs/promises';
import { loadServiceConfig } from '../config/service.ts';
import { addedPaths } from '../diagnose/patch.ts';
import { InputError } from '../errors.ts';
import { listFiles, openRepo, resolveRev } from '../gitops/repo.ts';
import { buildIncident, readIncidentFile } from '../incident/intake.ts';
import { installCleanupHandlers } from '../sandbox/docker.ts';
import { applyPatch, copyTree, exportTree, removeTree } from '../sandbox/trees.ts';
import { isTestPath, prepareBaseline, type Verdict, verifyCandidate } from '../sandbox/verify.ts';
import type { Progress } from './progress.ts';

export async function readPatchFile(path: string): Promise<string> {
  try {
    await stat(path);
  } catch {
    throw new InputError(`patch file not found: ${path}`);
  }
  const text = await readFile(path, 'utf8');
  if (text.trim() === '') throw new InputError(`patch file ${path} is empty`);
  if (!/^(diff --git |--- |\+\+\+ )/m.test(text) || !/^@@ /m.test(text)) {
    throw new InputError(`patch file ${path} is not a unified diff (expected ---/+++ headers and @@ hunks)`);
  }
  // A diff pasted or saved without its final newline is still the same diff; git apply would call it corrupt.
  return text.endsWith('\n') ? text : `${text}\n`;
}

export async function verifyPatch(opts: {
  repo: string;
  incidentFile: string;
  patchFile: string;
  configFile?: string;
  progress: Progress;
}): Promise<Verdict> {
  installCleanupHandlers();
  const raw = await readIncidentFile(opts.incidentFile);
  const patch = await readPatchFile(opts.patchFile);
  const repo = await openRepo(opts.repo);
  const base = await resolveRev(repo, 'HEAD');
  const incident = buildIncident(raw, await listFiles(repo, base));
  const tree = await exportTree(repo, base);
  try {
    const config = loadServiceConfig(tree, opts.configFile);
    // A patch that does not apply is bad input here (exit 2); inside heal it only fails its candidate.
    const probe = await copyTree(tree);
    try {
      await applyPatch(probe, patch);
    } finally {
      await removeTree(probe);
    }
    const testFile = addedPaths(patch).find(isTestPath);
    opts.progress(`replaying ${incident.requests.length} failing request(s) on the base revision`);
    const candidate = { patch, ...(testFile ? { testFile } : {}) };
    const baseline = await prepareBaseline({
      tree,
      config,
      incident,
      candidates: [candidate],
      progress: opts.progress,
    });
    void baseline.ready.then(() =>
      opts.progress(`base: ${baseline.reproduced ? 'crash reproduced' : 'crash not reproduced'}`),
    );
    return await verifyCandidate(baseline, candidate);
  } finally {
    await removeTree(tree);
  }
}
