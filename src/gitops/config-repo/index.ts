/**
 * GitOps image bumps and their reverts in the Argo CD source repository (issue 11, item 5).
 *
 * `bumpImage` sets a service's image (tag or digest) where the operator's config says (operator.ts), as
 * one commit with suture's trailers pushed to the branch Argo CD follows; `revertBump` undoes exactly the
 * bump made for an incident with a new commit restoring the previous value, and refuses, in one line, when
 * the value was changed since by someone else. Argo CD never reverts git by itself (an aborted Rollout
 * stays Degraded until git changes), so the whole loop calls revertBump when a canary aborts.
 *
 * The config repository is a real git repository reached through the git adapter: suture keeps a bare
 * cache of it in the state dir (its own config, no work tree), fetches the branch without writing any ref
 * (so heals in parallel processes share the cache without contending for ref locks), edits the file as a
 * blob (edit.ts: comments and formatting kept), builds the commit with a temporary index and pushes it.
 * A push that lost a race (non-fast-forward) is redone on the new tip; transient failures are retried by
 * the adapter. Each bump is journaled before its push and confirmed after, so a revert finds it even when
 * the process died in between (and, without the journal, through its trailers in the repository's history).
 */
import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, SutureError } from '../../errors.ts';
import { imageMessage, parseTrailers } from '../../pipeline/commit-message.ts';
import { type GitRepo, gitIn, ownedRepo, tryGitIn } from '../git.ts';
import { type BumpRecord, Journal } from '../journal.ts';
import { describeGitFailure, redactUrls } from '../remote.ts';
import { fetchBranch, pushRefspec, SUTURE_IDENTITY } from '../repo.ts';
import { parseLsTree } from '../tree.ts';
import {
  describeLocator,
  EditError,
  type ImageRef,
  imageRefProblem,
  type Locator,
  newValue,
  readImage,
  setImage,
} from './edit.ts';
import { locatorFor, type OperatorConfig, targetFor } from './operator.ts';

const INCIDENT = /^[0-9a-f]{12}-[0-9]{1,20}$/;
const FINGERPRINT = /^[0-9a-f]{16}$/;
/** Attempts when the branch keeps moving under us (each a fetch, an edit, a push). */
const ATTEMPTS = 5;

function checkIncident(id: string): void {
  if (!INCIDENT.test(id))
    throw new InputError(`${JSON.stringify(id.slice(0, 80))} is not an incident id (like 0123456789ab-20261120020411)`);
}

/** The cache of `url`'s `branch` in the state dir. */
async function cache(stateDir: string, url: string): Promise<GitRepo> {
  const key = createHash('sha256').update(url).digest('hex').slice(0, 16);
  return ownedRepo(join(stateDir, 'config-repos', `${key}.git`));
}

/** A regular file's content and mode at `commit`; a clear error for a missing file or a link. */
async function readAt(
  g: GitRepo,
  commit: string,
  file: string,
  where: string,
): Promise<{ text: string; mode: string }> {
  const entries = parseLsTree(await gitIn(g, ['ls-tree', '-z', '--full-tree', commit, '--', file], { env: LITERAL }));
  const entry = entries.find((e) => e.path === file);
  if (!entry) throw new SutureError('BAD_CONFIG', `${where} has no file ${file}`);
  if (entry.kind !== 'file' && entry.kind !== 'executable')
    throw new SutureError('BAD_CONFIG', `${where}: ${file} is a ${entry.kind}, not a file`);
  return { text: await gitIn(g, ['cat-file', 'blob', entry.oid]), mode: entry.kind === 'file' ? '100644' : '100755' };
}

const LITERAL = { GIT_LITERAL_PATHSPECS: '1' };

/** One commit on `parent` that replaces `file` with `text`; no ref is written. */
async function commitFile(
  g: GitRepo,
  parent: string,
  file: string,
  mode: string,
  text: string,
  message: string,
): Promise<string> {
  const env = { GIT_INDEX_FILE: join(g.shadow, `index-${randomUUID()}`) };
  try {
    const blob = (await gitIn(g, ['hash-object', '-w', '--stdin'], { input: text })).trim();
    await gitIn(g, ['read-tree', '--end-of-options', parent], { env });
    await gitIn(g, ['update-index', '--cacheinfo', `${mode},${blob},${file}`], { env });
    const tree = (await gitIn(g, ['write-tree'], { env })).trim();
    return (
      await gitIn(g, ['commit-tree', tree, '-p', parent], { input: `${message}\n`, env: SUTURE_IDENTITY })
    ).trim();
  } finally {
    await rm(env.GIT_INDEX_FILE, { force: true });
    await rm(`${env.GIT_INDEX_FILE}.lock`, { force: true });
  }
}

async function isAncestorIn(g: GitRepo, a: string, b: string): Promise<boolean> {
  return (await tryGitIn(g, ['merge-base', '--is-ancestor', a, b])).exitCode === 0;
}

/**
 * Bumps of `incident` journaled but never confirmed pushed (the process died, the network failed):
 * confirmed when their branch holds them, else forgotten.
 */
async function reconcile(j: Journal, stateDir: string, incident: string): Promise<void> {
  for (const b of j.unpushedBumps(incident)) {
    const g = await cache(stateDir, b.url);
    const tip = await fetchBranch(g, { url: b.url }, b.branch);
    const there = (await tryGitIn(g, ['cat-file', '-e', `${b.commit}^{commit}`])).exitCode === 0;
    if (there && (await isAncestorIn(g, b.commit, tip))) j.markBumpPushed(b.id);
    else j.dropBump(b.id, 'its push never reached the branch');
  }
}

function editOrFail<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EditError)
      throw new SutureError('BAD_CONFIG', `${where}: ${err.message}; nothing was committed`);
    throw err;
  }
}

export interface BumpInput {
  stateDir: string;
  config: OperatorConfig;
  service: string;
  /** The operator's target by name (suture.yaml may choose among them); default: the service's only one. */
  target?: string;
  image: ImageRef;
  incident: string;
  fingerprint?: string;
  progress?: (line: string) => void;
}

export interface BumpResult {
  /** `unchanged`: the value already was that (nothing committed). */
  status: 'bumped' | 'unchanged';
  url: string;
  branch: string;
  file: string;
  key: string;
  previous: string;
  value: string;
  /** The bump commit (for `unchanged`, the earlier bump of this incident that set it, if any). */
  commit: string | null;
}

/** Sets the service's image in the config repository, as one commit with suture's trailers, pushed. */
export async function bumpImage(input: BumpInput): Promise<BumpResult> {
  checkIncident(input.incident);
  if (input.fingerprint !== undefined && !FINGERPRINT.test(input.fingerprint))
    throw new InputError('the fingerprint is not 16 hex digits');
  const problem = imageRefProblem(input.image);
  if (problem) throw new InputError(problem);
  const { config, service } = input;
  const target = targetFor(config, service, input.target);
  const loc = locatorFor(target, input.image);
  const where = `${redactUrls(config.url)} ${config.branch}:${target.file}`;
  const g = await cache(input.stateDir, config.url);
  const j = new Journal(input.stateDir);
  try {
    await reconcile(j, input.stateDir, input.incident);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const tip = await fetchBranch(g, { url: config.url }, config.branch);
      const file = await readAt(g, tip, target.file, `${redactUrls(config.url)} ${config.branch}`);
      const previous = editOrFail(where, () => readImage(file.text, loc));
      const value = newValue(loc, previous, input.image);
      const base = {
        url: config.url,
        branch: config.branch,
        file: target.file,
        key: describeLocator(loc),
        previous,
        value,
      };
      if (previous === value) {
        const earlier = j
          .bumpsFor(input.incident)
          .find((b) => b.service === service && b.value === value && !b.revertedBy);
        return { ...base, status: 'unchanged', commit: earlier?.commit ?? null };
      }
      const edit = editOrFail(where, () => setImage(file.text, loc, value));
      const message = imageMessage({
        service,
        file: target.file,
        where: base.key,
        from: previous,
        to: value,
        incident: input.incident,
        ...(input.fingerprint ? { fingerprint: input.fingerprint } : {}),
      });
      const commit = await commitFile(g, tip, target.file, file.mode, edit.text, message);
      const rec = j.recordBump({
        incident: input.incident,
        fingerprint: input.fingerprint ?? null,
        service,
        url: config.url,
        branch: config.branch,
        file: target.file,
        locator: loc,
        previous,
        value,
        commit,
      });
      const failure = await pushRefspec(g, { url: config.url }, `${commit}:refs/heads/${config.branch}`);
      if (!failure) {
        j.markBumpPushed(rec.id);
        input.progress?.(`${where}: ${previous} -> ${value} (${commit.slice(0, 12)})`);
        return { ...base, status: 'bumped', commit };
      }
      if (failure.kind !== 'non-fast-forward') {
        // Left unconfirmed in the journal: the push may have landed; the next bump or revert checks.
        throw new SutureError('GIT', `could not push the image bump to ${where}: ${describeGitFailure(failure)}`);
      }
      j.dropBump(rec.id, 'the branch moved on: redone on its new tip');
      input.progress?.(`${config.branch} moved on: bumping again on its new tip`);
    }
    throw new SutureError('GIT', `${where} kept moving: no bump after ${ATTEMPTS} attempts`);
  } finally {
    j.close();
  }
}

export interface RevertInput {
  stateDir: string;
  config: OperatorConfig;
  incident: string;
  /** Which service's bump, when the incident bumped several. */
  service?: string;
  progress?: (line: string) => void;
}

export type RevertResult =
  | { status: 'reverted'; commit: string; reverts: string; file: string; key: string; from: string; to: string }
  | { status: 'already-reverted'; reverts: string; by: string }
  | { status: 'refused'; reverts: string; reason: string };

/** suture's commits on the branch, newest first, with their trailers (at most `max`). */
async function sutureHistory(
  g: GitRepo,
  tip: string,
  max = 2000,
): Promise<{ commit: string; trailers: ReturnType<typeof parseTrailers> }[]> {
  const out = await gitIn(g, [
    'rev-list',
    '--no-commit-header',
    `--max-count=${max}`,
    '--format=%x1e%H%x00%(trailers:only,unfold)',
    tip,
  ]);
  return out
    .split('\x1e')
    .filter((r) => r.includes('\0'))
    .map((r) => {
      const [commit, trailers] = r.split('\0');
      return { commit: commit!.trim(), trailers: parseTrailers(`x\n\n${(trailers ?? '').trim()}`) };
    });
}

type FoundBump = Omit<BumpRecord, 'id'> & { id: number | null };

/** The bump the journal recorded for the incident (the one not reverted yet, else the latest), or null. */
function recordedBump(j: Journal, input: RevertInput): BumpRecord | null {
  const recorded = j.bumpsFor(input.incident).filter((b) => !input.service || b.service === input.service);
  return recorded.find((b) => !b.revertedBy) ?? recorded[0] ?? null;
}

/** Without a journal entry: the bump found on the branch through its trailers, its values read from git. */
async function bumpFromHistory(g: GitRepo, input: RevertInput, tip: string): Promise<FoundBump> {
  const { config } = input;
  const found = (await sutureHistory(g, tip)).find(
    (h) =>
      h.trailers['Suture-Incident'] === input.incident &&
      h.trailers['Suture-Action'] === 'bump-image' &&
      (!input.service || h.trailers['Suture-Service'] === input.service),
  );
  const service = found?.trailers['Suture-Service'];
  if (!found || !service)
    throw new SutureError('NOT_FOUND', `no image bump is recorded for incident ${input.incident}`);
  const target = targetFor(config, service);
  const where = `${redactUrls(config.url)} ${config.branch}`;
  const before = await readAt(g, `${found.commit}^`, target.file, where);
  const after = await readAt(g, found.commit, target.file, where);
  // Which of the target's values the bump changed: its tag, or its digest.
  const options: Locator[] = [];
  for (const kind of ['tag', 'digest'] as const) {
    try {
      options.push(locatorFor(target, kind));
    } catch {
      // a helm target without that key
    }
  }
  const changed = (l: Locator) => {
    try {
      return readImage(before.text, l) !== readImage(after.text, l);
    } catch {
      return false;
    }
  };
  const loc = options.find(changed);
  if (!loc)
    throw new SutureError(
      'NOT_FOUND',
      `the bump ${found.commit.slice(0, 12)} for incident ${input.incident} changed nothing at ${target.file}'s configured key`,
    );
  return {
    id: null,
    incident: input.incident,
    fingerprint: found.trailers['Suture-Fingerprint'] ?? null,
    service,
    url: config.url,
    branch: config.branch,
    file: target.file,
    locator: loc,
    previous: readImage(before.text, loc),
    value: readImage(after.text, loc),
    commit: found.commit,
    pushed: true,
    revertedBy: null,
    createdAt: '',
  };
}

/** Reverts exactly the image bump made for `incident`: a new commit restoring the value it replaced. */
export async function revertBump(input: RevertInput): Promise<RevertResult> {
  checkIncident(input.incident);
  const { config } = input;
  const j = new Journal(input.stateDir);
  try {
    await reconcile(j, input.stateDir, input.incident);
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      // The repository the bump went to (the journal's), else the operator's today.
      const recorded = recordedBump(j, input);
      const url = recorded?.url ?? config.url;
      const g = await cache(input.stateDir, url);
      const tip = await fetchBranch(g, { url }, recorded?.branch ?? config.branch);
      const bump: FoundBump = recorded ?? (await bumpFromHistory(g, input, tip));
      if (bump.revertedBy) return { status: 'already-reverted', reverts: bump.commit, by: bump.revertedBy };
      const where = `${redactUrls(bump.url)} ${bump.branch}:${bump.file}`;
      if (!(await isAncestorIn(g, bump.commit, tip))) {
        return {
          status: 'refused',
          reverts: bump.commit,
          reason: `the bump ${bump.commit.slice(0, 12)} is no longer on ${bump.branch} (its history was rewritten): not reverted`,
        };
      }
      const reverted = (await sutureHistory(g, tip)).find((h) => h.trailers['Suture-Reverts'] === bump.commit);
      if (reverted) {
        if (bump.id !== null) j.markBumpReverted(bump.id, reverted.commit);
        return { status: 'already-reverted', reverts: bump.commit, by: reverted.commit };
      }
      const loc = bump.locator as Locator;
      const file = await readAt(g, tip, bump.file, `${redactUrls(bump.url)} ${bump.branch}`);
      const current = editOrFail(where, () => readImage(file.text, loc));
      const key = describeLocator(loc);
      if (current !== bump.value) {
        return {
          status: 'refused',
          reverts: bump.commit,
          reason: `${where} ${key} is ${current} now, not ${bump.value} as suture set it for incident ${input.incident}: it was changed since by someone else, so it is not reverted`,
        };
      }
      const edit = editOrFail(where, () => setImage(file.text, loc, bump.previous));
      const message = imageMessage({
        service: bump.service,
        file: bump.file,
        where: key,
        from: bump.value,
        to: bump.previous,
        incident: input.incident,
        reverts: bump.commit,
      });
      const commit = await commitFile(g, tip, bump.file, file.mode, edit.text, message);
      const failure = await pushRefspec(g, { url: bump.url }, `${commit}:refs/heads/${bump.branch}`);
      if (!failure) {
        if (bump.id !== null) j.markBumpReverted(bump.id, commit);
        input.progress?.(`${where}: ${bump.value} -> ${bump.previous} (${commit.slice(0, 12)})`);
        return {
          status: 'reverted',
          commit,
          reverts: bump.commit,
          file: bump.file,
          key,
          from: bump.value,
          to: bump.previous,
        };
      }
      if (failure.kind !== 'non-fast-forward') {
        throw new SutureError('GIT', `could not push the revert to ${where}: ${describeGitFailure(failure)}`);
      }
      input.progress?.(`${bump.branch} moved on: reverting again on its new tip`);
    }
    throw new SutureError(
      'GIT',
      `${redactUrls(config.url)} ${config.branch} kept moving: no revert after ${ATTEMPTS} attempts`,
    );
  } finally {
    j.close();
  }
}
