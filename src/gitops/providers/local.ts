/**
 * The embedded default provider, for any git remote: the proposal is the pushed branch plus a rendered body
 * in the state dir, `<state>/proposals/<fingerprint>.md` (marker line, body, then the activity: comments
 * and re-occurrences), with its metadata beside it in `<fingerprint>.json`. The metadata file is created
 * exclusively, so two runs for one fingerprint make one proposal however they interleave. Merging needs
 * something that can merge: the caller may hand one in (the delivery core's fast-forward through origin);
 * without it a merge is `blocked`.
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bodyWithMarker, checkFingerprint, readMarker, reoccurrenceComment, withOccurrences } from './marker.ts';
import type {
  MergeOptions,
  MergeOutcome,
  ProposalRef,
  ProposeRequest,
  ProposeResult,
  Provider,
  Reviewers,
} from './types.ts';

interface LocalMeta {
  fingerprint: string;
  branch: string;
  base: string;
  title: string;
  labels: string[];
  reviewers: Reviewers;
  draft: boolean;
  state: 'open' | 'closed' | 'merged';
  createdAt: string;
  updatedAt: string;
  activity: { at: string; text: string }[];
}

export interface LocalProviderOptions {
  stateDir: string;
  /** How a proposal merges without a hosting platform; absent: merges are `blocked`. */
  merge?: (pr: ProposalRef, opts: MergeOptions) => Promise<MergeOutcome>;
  now?: () => Date;
}

export function localProvider(opts: LocalProviderOptions): Provider {
  const dir = join(opts.stateDir, 'proposals');
  const now = () => (opts.now ?? (() => new Date()))().toISOString();
  const metaPath = (fp: string) => join(dir, `${checkFingerprint(fp)}.json`);
  const bodyPath = (fp: string) => join(dir, `${checkFingerprint(fp)}.md`);

  async function atomicWrite(path: string, text: string): Promise<void> {
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, path);
  }

  async function readMeta(fp: string): Promise<LocalMeta | null> {
    const text = await readFile(metaPath(fp), 'utf8').catch(() => null);
    if (text === null) return null;
    try {
      return JSON.parse(text) as LocalMeta;
    } catch {
      return null;
    }
  }

  async function readBody(fp: string): Promise<string> {
    return (await readFile(bodyPath(fp), 'utf8').catch(() => '')).split('\n## Activity\n')[0]!.replace(/\n$/, '');
  }

  async function writeBody(meta: LocalMeta, body: string): Promise<void> {
    const activity = meta.activity.length
      ? `\n## Activity\n\n${meta.activity.map((a) => `- ${a.at}: ${a.text.trim().replace(/\n+/g, ' ')}`).join('\n')}\n`
      : '';
    await atomicWrite(bodyPath(meta.fingerprint), `${body}\n${activity}`);
  }

  const ref = (meta: LocalMeta, occurrences: number): ProposalRef => ({
    number: null,
    url: bodyPath(meta.fingerprint),
    branch: meta.branch,
    occurrences,
    draft: meta.draft,
  });

  async function open(fp: string, branch?: string): Promise<{ meta: LocalMeta; ref: ProposalRef } | null> {
    const meta = await readMeta(fp);
    if (meta?.state !== 'open' || (branch !== undefined && meta.branch !== branch)) return null;
    const marker = readMarker(await readBody(fp));
    if (marker?.fingerprint !== fp) return null;
    return { meta, ref: ref(meta, marker.occurrences) };
  }

  async function mustOpen(pr: ProposalRef): Promise<{ meta: LocalMeta; ref: ProposalRef }> {
    const fp = /([0-9a-f]{16})\.md$/.exec(pr.url)?.[1];
    const found = fp ? await open(fp) : null;
    if (!found) throw new Error(`no open local proposal at ${pr.url}`);
    return found;
  }

  /** Any proposal at that path, open or not: merged proposals take comments and labels too. */
  async function mustExist(pr: ProposalRef): Promise<LocalMeta> {
    const fp = /([0-9a-f]{16})\.md$/.exec(pr.url)?.[1];
    const meta = fp ? await readMeta(fp) : null;
    if (!meta) throw new Error(`no local proposal at ${pr.url}`);
    return meta;
  }

  async function addActivity(fp: string, text: string): Promise<void> {
    const meta = await readMeta(fp);
    if (!meta) return;
    const body = await readBody(fp);
    meta.activity.push({ at: now(), text });
    meta.updatedAt = now();
    await atomicWrite(metaPath(fp), JSON.stringify(meta, null, 2));
    await writeBody(meta, body);
  }

  /** Runs `fn` holding `<fp>.lock` (an exclusive mkdir); a lock older than a minute is a crashed run's. */
  async function withLock<T>(fp: string, fn: () => Promise<T>): Promise<T> {
    const lock = join(dir, `${fp}.lock`);
    for (let i = 0; ; i++) {
      try {
        await mkdir(lock, { mode: 0o700 });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const age = Date.now() - ((await stat(lock).catch(() => null))?.mtimeMs ?? Date.now());
        if (age > 60_000) await rm(lock, { recursive: true, force: true });
        else if (i > 600) throw new Error(`local proposal ${fp} is locked by another run (${lock})`);
        else await new Promise((r) => setTimeout(r, 50));
      }
    }
    try {
      return await fn();
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }

  const provider: Provider = {
    name: 'local',
    bodyLimit: 1_000_000,

    async findOpen(fingerprint, branch) {
      return (await open(fingerprint, branch))?.ref ?? null;
    },

    async propose(req: ProposeRequest): Promise<ProposeResult> {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const fp = checkFingerprint(req.fingerprint);
      // Of two runs racing for one fingerprint, exactly one creates: the decision and both writes happen
      // under a per-fingerprint lock, so the other sees the finished proposal and updates it.
      return withLock(fp, async () => {
        const existing = await open(fp, req.branch);
        if (!existing) {
          // None yet, or a closed or merged one for this fingerprint: this run starts a new one.
          const fresh: LocalMeta = {
            fingerprint: fp,
            branch: req.branch,
            base: req.base,
            title: req.title,
            labels: [...new Set(req.labels)],
            reviewers: req.reviewers,
            draft: req.draft,
            state: 'open',
            createdAt: now(),
            updatedAt: now(),
            activity: [],
          };
          await writeBody(fresh, bodyWithMarker({ fingerprint: fp, occurrences: 1 }, req.body, Infinity));
          await atomicWrite(metaPath(fp), JSON.stringify(fresh, null, 2));
          return { ...ref(fresh, 1), action: 'created', notes: [] };
        }
        const occurrences = existing.ref.occurrences + 1;
        const meta: LocalMeta = {
          ...existing.meta,
          title: req.title,
          labels: [...new Set([...existing.meta.labels, ...req.labels])],
          reviewers: req.reviewers,
          updatedAt: now(),
        };
        meta.activity.push({
          at: now(),
          text: reoccurrenceComment({ fingerprint: fp, occurrences }, req.incident, true),
        });
        await atomicWrite(metaPath(fp), JSON.stringify(meta, null, 2));
        await writeBody(meta, bodyWithMarker({ fingerprint: fp, occurrences }, req.body, Infinity));
        return { ...ref(meta, occurrences), action: 'updated', notes: [] };
      });
    },

    async reoccurred(pr, incident) {
      const { meta, ref: current } = await mustOpen(pr);
      const occurrences = current.occurrences + 1;
      const body = withOccurrences(await readBody(meta.fingerprint), occurrences);
      if (body === null) throw new Error(`the local proposal ${pr.url} lost its marker`);
      meta.activity.push({
        at: now(),
        text: reoccurrenceComment({ fingerprint: meta.fingerprint, occurrences }, incident, false),
      });
      meta.updatedAt = now();
      await atomicWrite(metaPath(meta.fingerprint), JSON.stringify(meta, null, 2));
      await writeBody(meta, body);
      return { ...current, occurrences };
    },

    async comment(pr, text) {
      const meta = await mustExist(pr);
      await addActivity(meta.fingerprint, text);
    },

    async label(pr, labels) {
      const meta = await mustExist(pr);
      meta.labels = [...new Set([...meta.labels, ...labels])];
      meta.updatedAt = now();
      await atomicWrite(metaPath(meta.fingerprint), JSON.stringify(meta, null, 2));
    },

    async merge(pr, mergeOpts) {
      const { meta } = await mustOpen(pr);
      if (!opts.merge) {
        return {
          state: 'blocked',
          detail: 'the local provider has no platform to merge through: merge the branch yourself',
        };
      }
      const outcome = await opts.merge(pr, mergeOpts);
      if (outcome.state === 'merged') {
        meta.state = 'merged';
        meta.activity.push({ at: now(), text: `merged: ${outcome.detail}` });
        await atomicWrite(metaPath(meta.fingerprint), JSON.stringify(meta, null, 2));
        await writeBody(meta, await readBody(meta.fingerprint));
      }
      return outcome;
    },

    async close(pr, reason) {
      const { meta } = await mustOpen(pr);
      meta.state = 'closed';
      meta.activity.push({ at: now(), text: `closed: ${reason}` });
      await atomicWrite(metaPath(meta.fingerprint), JSON.stringify(meta, null, 2));
      await writeBody(meta, await readBody(meta.fingerprint));
    },
  };
  return provider;
}
