/**
 * Builds the policy input document (policies/README.md) from the git diff between two revisions: changed
 * files with their kinds, Kubernetes and Dockerfile facts before/after, dependency changes, weakened tests,
 * added secrets, plus the caller's context and the thresholds of the policy config.
 */
import { dirname, normalize, posix } from 'node:path';
import { addedSkips, removedAssertions } from './assertions.ts';
import {
  isDockerfile,
  isLockfile,
  isManifestPath,
  isProtected,
  isYamlOrJson,
  kindOf,
  languageOf,
  strongerKind,
} from './classify.ts';
import type { PolicyConfig } from './config.ts';
import { dependencyFact } from './dependencies.ts';
import { parseDockerfile } from './dockerfile.ts';
import { diffChanges, type RawChange, readBlobs } from './git.ts';
import { matchesAny } from './glob.ts';
import { parseManifest } from './kubernetes.ts';
import { lineChanges } from './lines.ts';
import { findSecrets } from './secrets.ts';
import {
  ASSUMED_VERDICT,
  type ChangedFile,
  type DependencyFact,
  type DockerfileFact,
  type LineFact,
  type ManifestFact,
  type PolicyContext,
  type PolicyContextInput,
  type PolicyInput,
  type PolicyVerdict,
  type SecretFact,
  type VerdictLike,
} from './types.ts';

/** Files above this size are judged by name and line counts only. */
const MAX_BLOB_BYTES = 2 * 1024 * 1024;
const SYMLINK_MODE = '120000';

export function buildContext(ctx: PolicyContextInput = {}): PolicyContext {
  return {
    candidate: { strategy: ctx.candidate?.strategy ?? null, confidence: ctx.candidate?.confidence ?? null },
    verdict: ctx.verdict ? policyVerdict(ctx.verdict) : ASSUMED_VERDICT,
    verdictAssumed: !ctx.verdict,
    incident: {
      service: ctx.incident?.service ?? null,
      environment: ctx.incident?.environment ?? null,
      severity: ctx.incident?.severity ?? null,
    },
    mode: ctx.mode ?? 'propose',
  };
}

export function policyVerdict(v: VerdictLike): PolicyVerdict {
  return {
    verdict: v.verdict,
    reproduced: v.reproduced,
    fixed: v.fixed,
    testsPassed: v.testsPassed,
    regressionTest: v.regressionTest
      ? { failsBefore: v.regressionTest.failsBefore, passesAfter: v.regressionTest.passesAfter }
      : null,
    differential: v.differential
      ? { compared: v.differential.compared, mismatches: v.differential.mismatches.length }
      : null,
  };
}

function text(blob: Buffer | undefined): string | null {
  if (!blob) return null;
  return blob.includes(0) ? null : blob.toString('utf8');
}

/** Where a symlink in the repository points, and whether that leaves the repository. */
export function symlinkFact(path: string, target: string): { target: string; escapesRepo: boolean } {
  if (target.startsWith('/') || /^[A-Za-z]:[\\/]/.test(target)) return { target, escapesRepo: true };
  const resolved = normalize(posix.join(dirname(path), target));
  return { target, escapesRepo: resolved === '..' || resolved.startsWith('../') };
}

type Contents = { before: string | null; after: string | null };

export async function buildPolicyInput(opts: {
  repoDir: string;
  base: string;
  head: string;
  config: PolicyConfig;
  context?: PolicyContextInput;
}): Promise<PolicyInput> {
  const { repoDir, base, head, config } = opts;
  const changes = await diffChanges(repoDir, base, head);
  const blobIds = changes.flatMap((c) => [c.oldBlob, c.newBlob]).filter((id): id is string => id !== null);
  const blobs = await readBlobs(repoDir, blobIds, MAX_BLOB_BYTES);

  const files: ChangedFile[] = [];
  const kubernetes: ManifestFact[] = [];
  const dockerfiles: DockerfileFact[] = [];
  const dependencies: DependencyFact[] = [];
  const removed: LineFact[] = [];
  const skips: LineFact[] = [];
  const secrets: SecretFact[] = [];

  for (const change of changes) {
    const isLink = change.newMode === SYMLINK_MODE;
    const wasLink = change.oldMode === SYMLINK_MODE;
    const contents: Contents = {
      before:
        wasLink || change.oldMode.startsWith('160')
          ? null
          : text(change.oldBlob ? blobs.get(change.oldBlob) : undefined),
      after:
        isLink || change.newMode.startsWith('160')
          ? null
          : text(change.newBlob ? blobs.get(change.newBlob) : undefined),
    };
    const beforePath = change.oldPath ?? change.path;
    const manifest = manifestFact(change, contents, config);
    const kind = [change.path, beforePath]
      .map((p) => kindOf(p, config, manifest !== null && manifest.before.length + manifest.after.length > 0))
      .reduce(strongerKind);
    const isTest = kind === 'test';
    const binary =
      change.binary || (!isLink && change.newBlob !== null && blobs.has(change.newBlob) && contents.after === null);
    const linkTarget = isLink && change.newBlob ? blobs.get(change.newBlob)?.toString('utf8') : undefined;

    files.push({
      path: change.path,
      oldPath: change.oldPath,
      status: change.status,
      additions: change.additions,
      deletions: change.deletions,
      binary,
      isTest,
      language: languageOf(change.path),
      kind,
      protected: isProtected(change.path, config) || isProtected(beforePath, config),
      symlink: linkTarget !== undefined ? symlinkFact(change.path, linkTarget) : null,
    });

    if (kind === 'manifest' && manifest) kubernetes.push(manifest);
    if (isDockerfile(change.path) || isDockerfile(beforePath)) {
      dockerfiles.push({
        path: change.path,
        status: change.status,
        before: contents.before === null ? null : parseDockerfile(contents.before),
        after: contents.after === null ? null : parseDockerfile(contents.after),
      });
    }
    if (kind === 'dependency') dependencies.push(dependencyFact(change.path, contents.before, contents.after));

    const lines = lineChanges(contents.before, contents.after);
    if (isTest) {
      removed.push(...removedAssertions(beforePath, change.status === 'deleted' ? [] : lines.removed));
      skips.push(...addedSkips(change.path, lines.added));
    }
    secrets.push(
      ...findSecrets(change.path, lines.added, {
        entropyThreshold: config.secrets.entropyThreshold,
        entropyCheck: !isLockfile(change.path) && !matchesAny(change.path, config.secrets.allow),
      }),
    );
  }

  const sourceLines = files.filter((f) => f.kind === 'source').reduce((n, f) => n + f.additions + f.deletions, 0);
  return {
    schema: 1,
    base,
    head,
    files,
    stats: {
      files: files.length,
      additions: files.reduce((n, f) => n + f.additions, 0),
      deletions: files.reduce((n, f) => n + f.deletions, 0),
      sourceLines,
    },
    kubernetes,
    dockerfiles,
    dependencies,
    tests: { removedAssertions: removed, addedSkips: skips },
    secrets,
    context: buildContext(opts.context),
    config: {
      thresholds: { ...config.thresholds },
      images: { allowedRegistries: [...config.images.allowedRegistries] },
    },
  };
}

/** Kubernetes facts for a changed YAML/JSON file, or null when it is neither a manifest path nor Kubernetes. */
function manifestFact(change: RawChange, contents: Contents, config: PolicyConfig): ManifestFact | null {
  const paths = [change.path, change.oldPath ?? change.path];
  if (!paths.some((p) => isYamlOrJson(p) || isManifestPath(p, config))) return null;
  if (paths.some((p) => isLockfile(p))) return null;
  const parse = (content: string | null) =>
    content === null || !paths.some(isYamlOrJson) ? { resources: [], errors: [] } : parseManifest(content);
  const before = parse(contents.before);
  const after = parse(contents.after);
  const isManifest =
    paths.some((p) => isManifestPath(p, config)) || before.resources.length + after.resources.length > 0;
  if (!isManifest) return null;
  return {
    path: change.path,
    status: change.status,
    before: before.resources,
    after: after.resources,
    // Only the new content must parse: a change that repairs a broken manifest is fine.
    errors: after.errors,
  };
}
