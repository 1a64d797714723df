/**
 * Builds the policy input document (policies/README.md) from the git diff between two revisions: changed
 * files with their kinds (by every name they have through symlinks), Kubernetes and Dockerfile facts
 * before/after, dependency changes, weakened tests and test-runner tampering, added secrets, symlinks that
 * leave the repository, plus the caller's context and the policy config's settings. Repository content is
 * read only as git blobs, sizes before content.
 */
import { parse as parseYaml } from 'yaml';
import { addedSkips, removedAssertions } from './assertions.ts';
import {
  isDockerfile,
  isLockfile,
  isManifestPath,
  isProtected,
  isTestPath,
  isYamlOrJson,
  kindOf,
  languageOf,
  strongerKind,
} from './classify.ts';
import type { PolicyConfig } from './config.ts';
import { dependencyFact } from './dependencies.ts';
import { parseDockerfile } from './dockerfile.ts';
import { blobSizes, diffChanges, type RawChange, readBlobs, type TreeFacts, treeFacts } from './git.ts';
import { matchesAny } from './glob.ts';
import { looksLikeKubernetes, parseManifest } from './kubernetes.ts';
import { lineChanges } from './lines.ts';
import { processHooks, runnerAccess } from './runner-access.ts';
import { runnerConfigChange } from './runner-config.ts';
import { findSecrets } from './secrets.ts';
import { aliasIndex, symlinkFact as linkFact, type TreeLinks } from './symlinks.ts';
import {
  ASSUMED_VERDICT,
  type ChangedFile,
  type DependencyFact,
  type DockerfileFact,
  INPUT_SCHEMA,
  type LineFact,
  type ManifestFact,
  type PolicyContext,
  type PolicyContextInput,
  type PolicyInput,
  type PolicyVerdict,
  type RunnerConfigFact,
  type SecretFact,
  type SymlinkFact,
  type VerdictLike,
} from './types.ts';

/** The most of one file the gate reads; a change touching a bigger file is denied (it cannot be judged). */
export const MAX_BLOB_BYTES = 2 * 1024 * 1024;
/** The most the gate reads for one change; files past it are not read either (a change of many big files). */
export const MAX_CHANGE_BYTES = 64 * 1024 * 1024;
/** Longest symlink target read (PATH_MAX); a longer one cannot be resolved. */
const MAX_LINK_BYTES = 4096;
const SYMLINK_MODE = '120000';
const isGitlink = (mode: string) => mode.startsWith('160');

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
  const d = v.differential;
  return {
    verdict: v.verdict,
    reproduced: v.reproduced,
    fixed: v.fixed,
    fixedStatusClass: v.fixedStatusClass ?? null,
    testsPassed: v.testsPassed,
    regressionTest: v.regressionTest
      ? { failsBefore: v.regressionTest.failsBefore, passesAfter: v.regressionTest.passesAfter }
      : null,
    // A verdict that does not say what it compared compared nothing (fail closed: at least review).
    differential: {
      status: d?.status ?? (d && d.compared > 0 ? 'compared' : 'none'),
      compared: d?.compared ?? 0,
      mismatches: d?.mismatches.length ?? 0,
    },
    // A verdict that does not say comes from a suture that always ran install on the host network.
    installNetwork: v.installNetwork === undefined ? 'host' : v.installNetwork,
  };
}

function text(blob: Buffer | undefined): string | null {
  if (!blob) return null;
  return blob.includes(0) ? null : blob.toString('utf8');
}

/** A tree's links with their targets read, ready for resolution. */
function resolvable(tree: TreeFacts, blobs: Map<string, Buffer>): TreeLinks {
  const links = new Map<string, string | null>();
  for (const [path, id] of tree.links) links.set(path, text(blobs.get(id)));
  return { links, submodules: tree.submodules };
}

/** Where the test command comes from: suture.yaml at the base revision (read as a blob, within the caps). */
const SERVICE_CONFIG = 'suture.yaml';

/** The `test` command of a suture.yaml text, when it names one. */
function testCommandOf(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  try {
    const doc = parseYaml(raw) as { test?: unknown } | null;
    return typeof doc?.test === 'string' ? doc.test : undefined;
  } catch {
    return undefined;
  }
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
  const [changes, baseTree, headTree] = await Promise.all([
    diffChanges(repoDir, base, head),
    treeFacts(repoDir, base),
    treeFacts(repoDir, head),
  ]);

  const { sizes, blobs, serviceConfig } = await readWithinBudget(repoDir, base, head, changes, [baseTree, headTree]);
  const testCommand = testCommandOf(serviceConfig === null ? null : text(blobs.get(serviceConfig)));
  const baseLinks = resolvable(baseTree, blobs);
  const headLinks = resolvable(headTree, blobs);
  const baseAliases = aliasIndex(baseLinks);
  const headAliases = aliasIndex(headLinks);
  const changedPaths = new Set(changes.map((c) => c.path));

  const files: ChangedFile[] = [];
  const kubernetes: ManifestFact[] = [];
  const dockerfiles: DockerfileFact[] = [];
  const dependencies: DependencyFact[] = [];
  const removed: LineFact[] = [];
  const skips: LineFact[] = [];
  const runnerConfig: RunnerConfigFact[] = [];
  const runnerAccessed: LineFact[] = [];
  const hooks: LineFact[] = [];
  const secrets: SecretFact[] = [];

  for (const change of changes) {
    const isLink = change.newMode === SYMLINK_MODE;
    const beforePath = change.oldPath ?? change.path;
    const readable = (id: string | null, mode: string) =>
      id === null || mode === SYMLINK_MODE || isGitlink(mode) ? null : text(blobs.get(id));
    const contents: Contents = {
      before: readable(change.oldBlob, change.oldMode),
      after: readable(change.newBlob, change.newMode),
    };
    const newSize = change.newBlob === null || isGitlink(change.newMode) ? null : (sizes.get(change.newBlob) ?? null);
    // Content the gate did not read (above the cap, past the change's budget, not reported by git) cannot
    // be judged; a symlink's unreadable target is judged by the symlink rules instead.
    const unread = (id: string | null, mode: string) =>
      id !== null && !isGitlink(mode) && mode !== SYMLINK_MODE && !blobs.has(id);
    const tooLarge = unread(change.oldBlob, change.oldMode) || unread(change.newBlob, change.newMode);

    const symlink = isLink ? linkFact(headLinks, change.path) : null;
    const inBase = new Set(change.status === 'added' ? [] : [beforePath, ...baseAliases(beforePath)]);
    const inHead = new Set(change.status === 'deleted' ? [] : [change.path, ...headAliases(change.path)]);
    // Every name the file has: its paths, their aliases through links, and where the link itself leads.
    const names = [...new Set([change.path, beforePath, ...inBase, ...inHead])];
    if (symlink?.resolved) names.push(symlink.resolved);
    const aliases = names.filter((n) => n !== change.path && n !== beforePath).sort();

    const manifest = manifestFact(change, names, contents, config, [baseTree, headTree]);
    const looksLikeManifest = manifest !== null && manifest.before.length + manifest.after.length > 0;
    let kind = names.map((p) => kindOf(p, config, looksLikeManifest)).reduce(strongerKind);
    if (manifest !== null) kind = strongerKind(kind, 'manifest');
    // A submodule pulls in code from elsewhere: a dependency change, unless its path is stronger.
    if (isGitlink(change.oldMode) || isGitlink(change.newMode)) kind = strongerKind(kind, 'dependency');
    const isTest = names.some((p) => isTestPath(p, config));
    const binary =
      change.binary || (!isLink && change.newBlob !== null && blobs.has(change.newBlob) && contents.after === null);
    const language = languageOf(change.path);

    files.push({
      path: change.path,
      oldPath: change.oldPath,
      status: change.status,
      additions: change.additions,
      deletions: change.deletions,
      binary,
      isTest,
      language,
      kind,
      protected: names.some((p) => isProtected(p, config)),
      size: newSize,
      tooLarge,
      aliases,
      symlink,
    });

    if (manifest) kubernetes.push(manifest);
    if (names.some(isDockerfile)) {
      dockerfiles.push({
        path: change.path,
        status: change.status,
        before: contents.before === null ? null : parseDockerfile(contents.before),
        after: contents.after === null ? null : parseDockerfile(contents.after),
      });
    }
    if (kind === 'dependency') dependencies.push(dependencyFact(change.path, contents.before, contents.after));

    const runner = runnerConfigFact(change, blobs, contents, [change.path, beforePath, ...aliases], {
      inBase,
      inHead,
      testCommand,
    });
    if (runner) runnerConfig.push(runner);

    const lines = lineChanges(contents.before, contents.after);
    if (isTest) {
      removed.push(...removedAssertions(beforePath, change.status === 'deleted' ? [] : lines.removed));
      skips.push(...addedSkips(change.path, lines.added, change.status !== 'added'));
    }
    runnerAccessed.push(...runnerAccess(change.path, language, isTest, lines.added));
    hooks.push(...processHooks(change.path, language, lines.added));
    secrets.push(
      ...findSecrets(change.path, lines.added, {
        entropyThreshold: config.secrets.entropyThreshold,
        entropyCheck: !isLockfile(change.path) && !matchesAny(change.path, config.secrets.allow),
      }),
    );
  }

  const sourceLines = files.filter((f) => f.kind === 'source').reduce((n, f) => n + f.additions + f.deletions, 0);
  return {
    schema: INPUT_SCHEMA,
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
    symlinks: newlyBrokenLinks(baseLinks, headLinks, changedPaths),
    tests: {
      removedAssertions: removed,
      addedSkips: skips,
      runnerConfig,
      runnerAccess: runnerAccessed,
      processHooks: hooks,
    },
    secrets,
    context: buildContext(opts.context),
    config: {
      thresholds: { ...config.thresholds },
      images: { allowedRegistries: [...config.images.allowedRegistries] },
      sandbox: { ...config.sandbox },
    },
  };
}

/**
 * Sizes of every blob the change touches and every link target, then the contents of those within the caps:
 * sizes come first (ls-tree), so nothing above a cap is read into memory. Links go first (they are small and
 * every resolution needs them), then files until the change's budget is spent.
 */
async function readWithinBudget(
  repoDir: string,
  base: string,
  head: string,
  changes: RawChange[],
  [baseTree, headTree]: [TreeFacts, TreeFacts],
): Promise<{ sizes: Map<string, number>; blobs: Map<string, Buffer>; serviceConfig: string | null }> {
  const [baseBlobs, headBlobs] = await Promise.all([
    blobSizes(repoDir, base, [
      SERVICE_CONFIG,
      ...changes.filter((c) => c.oldBlob && !isGitlink(c.oldMode)).map((c) => c.oldPath ?? c.path),
      ...baseTree.links.keys(),
    ]),
    blobSizes(repoDir, head, [
      ...changes.filter((c) => c.newBlob && !isGitlink(c.newMode)).map((c) => c.path),
      ...headTree.links.keys(),
    ]),
  ]);
  const sizes = new Map([...baseBlobs.values(), ...headBlobs.values()].map(({ id, size }) => [id, size]));
  const linkIds = new Set([...baseTree.links.values(), ...headTree.links.values()]);
  const wanted: string[] = [];
  let budget = MAX_CHANGE_BYTES;
  for (const [id, size] of [...sizes].sort(([a], [b]) => Number(linkIds.has(b)) - Number(linkIds.has(a)))) {
    if (size > (linkIds.has(id) ? MAX_LINK_BYTES : MAX_BLOB_BYTES) || size > budget) continue;
    wanted.push(id);
    budget -= size;
  }
  // A suture.yaml that is a symlink is not followed: its blob is the link target, which does not parse.
  const serviceConfig = baseBlobs.get(SERVICE_CONFIG)?.id ?? null;
  return { sizes, blobs: await readBlobs(repoDir, wanted, MAX_BLOB_BYTES), serviceConfig };
}

/**
 * Whether the change alters test-runner configuration under any of NAMES (the path first, then the shortest
 * alias): each name is compared with what it held before (if it named the file in the base tree) and after
 * (in the head tree). Content the gate cannot read (binary, too large, a symlink) compares by its blob.
 */
function runnerConfigFact(
  change: RawChange,
  blobs: Map<string, Buffer>,
  contents: Contents,
  names: string[],
  at: { inBase: Set<string>; inHead: Set<string>; testCommand: string | undefined },
): RunnerConfigFact | null {
  const comparable = (id: string | null, mode: string, content: string | null) => {
    if (id === null) return null;
    if (content !== null) return content;
    const target = mode === SYMLINK_MODE ? text(blobs.get(id)) : null;
    return target !== null ? `\0symlink ${target}` : `\0${mode} ${id}`;
  };
  const before = comparable(change.oldBlob, change.oldMode, contents.before);
  const after = comparable(change.newBlob, change.newMode, contents.after);
  const [own, old, ...aliases] = names;
  for (const name of [own!, old!, ...aliases.toSorted((a, b) => a.length - b.length)]) {
    const reason = runnerConfigChange(
      name,
      at.inBase.has(name) ? before : null,
      at.inHead.has(name) ? after : null,
      at.testCommand,
    );
    if (reason !== null) return { path: name, reason };
  }
  return null;
}

/**
 * Links of the head tree that escape the repository or cannot be resolved, and are changed or did not do so
 * at the base: an untouched link can start escaping when a link it passes through changes.
 */
function newlyBrokenLinks(baseLinks: TreeLinks, headLinks: TreeLinks, changed: Set<string>): PolicyInput['symlinks'] {
  const broken = (f: SymlinkFact) => f.escapesRepo || f.error !== null;
  const out: PolicyInput['symlinks'] = [];
  for (const path of [...headLinks.links.keys()].sort()) {
    const now = linkFact(headLinks, path);
    if (!broken(now)) continue;
    if (!changed.has(path) && baseLinks.links.has(path) && broken(linkFact(baseLinks, path))) continue;
    out.push({ path, ...now });
  }
  return out;
}

/**
 * Kubernetes facts for a changed file, or null when it is neither deployment config nor Kubernetes.
 * Deployment config: a manifest path, a YAML/JSON file below a Helm chart or kustomization, or text that looks
 * like Kubernetes objects (kept even when it does not parse, so a syntax error cannot hide it from the
 * manifest rules).
 */
function manifestFact(
  change: RawChange,
  names: string[],
  contents: Contents,
  config: PolicyConfig,
  trees: TreeFacts[],
): ManifestFact | null {
  const kubernetesText = [contents.before, contents.after].some((t) => t !== null && looksLikeKubernetes(t));
  // YAML/JSON by name, or text in no programming language that looks like Kubernetes (app.yaml.j2, pod.tmpl).
  const parseable = names.some(isYamlOrJson) || (kubernetesText && names.every((n) => languageOf(n) === null));
  const deployConfig =
    names.some((p) => isManifestPath(p, config)) ||
    names.some(
      (p) => isYamlOrJson(p) && trees.some((t) => [...t.deployDirs].some((d) => d === '' || p.startsWith(`${d}/`))),
    );
  if (!deployConfig && !parseable) return null;
  if (names.some((p) => isLockfile(p))) return null;
  const parse = (content: string | null) =>
    content === null || !parseable ? { resources: [], errors: [], templated: false } : parseManifest(content);
  const before = parse(contents.before);
  const after = parse(contents.after);
  if (!deployConfig && !kubernetesText && before.resources.length + after.resources.length === 0) return null;
  return {
    path: change.path,
    status: change.status,
    before: before.resources,
    after: after.resources,
    // Only the new content must parse: a change that repairs a broken manifest is fine.
    errors: after.errors,
    templated: after.templated || before.templated,
  };
}
