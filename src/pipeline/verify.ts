/** `suture verify`: sandbox verification of one patch, on the same code path heal uses for its candidates. */
import { readFile, stat } from 'node:fs/promises';
import { loadServiceConfig } from '../config/service.ts';
import { InputError } from '../errors.ts';
import { listFiles, openRepo, resolveIncidentRevision } from '../gitops/repo.ts';
import { describeHealthy, healthyOptions } from '../incident/healthy/index.ts';
import { buildIncidentFrom, normaliseIncidentInput, readIncidentFile } from '../incident/intake.ts';
import { installCleanupHandlers } from '../sandbox/docker.ts';
import { applyPatchGuarded, patchShapeProblems } from '../sandbox/patch-guard.ts';
import { repoIdentity } from '../sandbox/prepare.ts';
import { copyTree, exportTree, removeTree } from '../sandbox/trees.ts';
import { isTestModule, prepareBaseline, type Verdict, verifyCandidate } from '../sandbox/verify.ts';
import type { Progress } from './progress.ts';

/** Patches are text; a bigger one is not a candidate fix. */
const PATCH_MAX_BYTES = 16 * 1024 * 1024;

export async function readPatchFile(path: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new InputError(`patch file not found: ${path}`);
  }
  if (size > PATCH_MAX_BYTES) throw new InputError(`patch file ${path} is larger than ${PATCH_MAX_BYTES} bytes`);
  const text = await readFile(path, 'utf8');
  if (text.trim() === '') throw new InputError(`patch file ${path} is empty`);
  if (!/^(diff --git |--- |\+\+\+ )/m.test(text) || !/^@@ /m.test(text)) {
    throw new InputError(`patch file ${path} is not a unified diff (expected ---/+++ headers and @@ hunks)`);
  }
  // Symlinks, gitlinks, mode changes to them and binary hunks: refused before anything is applied.
  const problem = patchShapeProblems(text)[0];
  if (problem) throw new InputError(`patch file ${path}: ${problem}`);
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
  const input = normaliseIncidentInput(await readIncidentFile(opts.incidentFile));
  const patch = await readPatchFile(opts.patchFile);
  const repo = await openRepo(opts.repo);
  // The patch is judged against the revision that crashed, as heal would have made it.
  const base = await resolveIncidentRevision(repo, input.revision);
  const files = await listFiles(repo, base);
  const tree = await exportTree(repo, base);
  try {
    const config = loadServiceConfig(tree, opts.configFile);
    const incident = buildIncidentFrom(input, files, healthyOptions(tree, config.differential));
    opts.progress(describeHealthy(incident.healthySources, incident.healthyRequests.length));
    // A patch that does not apply, or would write anything but regular files, is bad input here (exit 2);
    // inside heal it only fails its candidate.
    const probe = await copyTree(tree);
    let testFile: string | undefined;
    try {
      testFile = (await applyPatchGuarded(probe, patch)).added.find(isTestModule);
    } finally {
      await removeTree(probe);
    }
    opts.progress(`replaying ${incident.requests.length} failing request(s) on the base revision`);
    const candidate = { patch, ...(testFile ? { testFile } : {}) };
    const baseline = await prepareBaseline({
      tree,
      config,
      incident,
      candidates: [candidate],
      repoId: await repoIdentity(repo),
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
