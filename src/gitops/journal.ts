/**
 * The delivery journal: what suture has done, step by step, to deliver a fix (commit, branch, push,
 * proposal, merge) and to bump or revert an image in a GitOps config repository. A heal that is killed
 * half-way is resumed from here by the next one, and a second heal of the same fingerprint finds the first's
 * delivery here and reports `duplicate` instead of making a second branch, commit or pull request.
 *
 * Storage: Node 24's built-in SQLite in `<state>/journal.db`, like the knowledge store, and for the same
 * reason plus one: `suture serve` runs heals in parallel child processes, and two of them healing the same
 * fingerprint must not both deliver. That takes an atomic compare-and-set (the claim: at most one open
 * delivery per repository and fingerprint, a partial unique index, taken in a BEGIN IMMEDIATE transaction),
 * which appended JSON lines cannot give without a lock file of their own. Every transition is also
 * appended to an `events` table: the history stays, the current state is one row.
 *
 * A claim belongs to a process (host, pid and the pid's start time, so a reused pid is not mistaken for
 * the owner). A claim whose owner is gone is taken over: that is the resume.
 */
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SutureError } from '../errors.ts';
import { redactDeep } from '../evidence/redact.ts';
import type { ProposalRef, ProposeRequest } from './providers/types.ts';

export const JOURNAL_FILE = 'journal.db';
const BUSY_TIMEOUT_MS = 15_000;
/** A claim held by another host is trusted this long after its last update (its pid cannot be checked). */
const FOREIGN_LEASE_MS = 60 * 60 * 1000;

/** The steps of a delivery, in order. */
export const PHASES = ['claimed', 'committed', 'branched', 'pushed', 'proposed', 'merged'] as const;
export type Phase = (typeof PHASES)[number];

export function phaseAtLeast(phase: Phase, than: Phase): boolean {
  return PHASES.indexOf(phase) >= PHASES.indexOf(than);
}

export interface DeliveryPlan {
  /** The repository's identity (the real path of its common git dir). */
  repo: string;
  fingerprint: string;
  incident: string;
  branch: string;
  base: string;
  commit: string;
  candidate: string;
  decision: 'allow' | 'review';
  mode: 'propose' | 'auto';
  push: boolean;
  /** What the provider is asked to open (title, body, labels, reviewers, draft), kept so a resume asks the same. */
  request: Omit<ProposeRequest, 'fingerprint' | 'branch' | 'base'>;
}

export interface Delivery extends DeliveryPlan {
  id: number;
  phase: Phase;
  /** Set once the delivery reached its end (the proposal exists, or the push was all there was to do). */
  finished: boolean;
  target: string | null;
  proposal: ProposalRef | null;
  owner: string;
  createdAt: string;
  updatedAt: string;
}

export type Claim =
  | { kind: 'fresh'; delivery: Delivery }
  /** An unfinished delivery whose owner is gone: now ours, to continue from its phase. */
  | { kind: 'resume'; delivery: Delivery }
  /** An unfinished delivery another live process is working on. */
  | { kind: 'busy'; delivery: Delivery }
  /** A finished delivery still open: the caller checks whether its branch or proposal is still there. */
  | { kind: 'delivered'; delivery: Delivery };

export interface BumpRecord {
  id: number;
  incident: string;
  fingerprint: string | null;
  service: string;
  url: string;
  branch: string;
  file: string;
  /** How the value was located (the operator's target), as given. */
  locator: unknown;
  previous: string;
  value: string;
  commit: string;
  pushed: boolean;
  revertedBy: string | null;
  createdAt: string;
}

/**
 * The release of a merged fix (src/canary/stage.ts): the image built for it and the canary's decision, so a
 * resumed heal skips what is done. The bump and its revert are the bump records above.
 */
export interface ReleaseRecord {
  id: number;
  incident: string;
  commit: string;
  backend: string;
  /** The built image (tag and id), once built. */
  image: { tag: string; id: string } | null;
  /** The canary's decision as the stage recorded it (its own shape), once decided. */
  decision: unknown;
  createdAt: string;
  updatedAt: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  repo TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  incident TEXT NOT NULL,
  branch TEXT NOT NULL,
  phase TEXT NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0,
  closed INTEGER NOT NULL DEFAULT 0,
  owner TEXT NOT NULL,
  plan TEXT NOT NULL,
  target TEXT,
  proposal TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_delivery ON deliveries (repo, fingerprint) WHERE closed = 0;
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery INTEGER,
  bump INTEGER,
  ts TEXT NOT NULL,
  what TEXT NOT NULL,
  detail TEXT
);
CREATE TABLE IF NOT EXISTS bumps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident TEXT NOT NULL,
  fingerprint TEXT,
  service TEXT NOT NULL,
  url TEXT NOT NULL,
  branch TEXT NOT NULL,
  file TEXT NOT NULL,
  locator TEXT NOT NULL,
  previous TEXT NOT NULL,
  value TEXT NOT NULL,
  commit_id TEXT NOT NULL,
  pushed INTEGER NOT NULL DEFAULT 0,
  reverted_by TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bumps_by_incident ON bumps (incident, id);
CREATE TABLE IF NOT EXISTS releases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident TEXT NOT NULL,
  commit_id TEXT NOT NULL,
  backend TEXT NOT NULL,
  image TEXT,
  decision TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (incident, commit_id)
);
`;

/** This process, as a claim owner: host, pid, and the pid's start time (Linux) against pid reuse. */
function processStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name's closing parenthesis (the name may hold spaces).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

export function ownerOf(pid = process.pid): string {
  return `${hostname()}:${pid}:${processStart(pid)}`;
}

/** Whether the process that wrote `owner` may still be running. */
export function ownerAlive(owner: string, updatedAt: string, now = Date.now()): boolean {
  const [host, pidText, start] = owner.split(':');
  if (host !== hostname()) return now - Date.parse(updatedAt) < FOREIGN_LEASE_MS;
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !start || processStart(pid) === start;
}

type Row = Record<string, unknown>;

function toDelivery(r: Row): Delivery {
  const plan = JSON.parse(String(r.plan)) as DeliveryPlan;
  return {
    ...plan,
    id: Number(r.id),
    phase: String(r.phase) as Phase,
    finished: Number(r.finished) === 1,
    target: r.target === null ? null : String(r.target),
    proposal: r.proposal === null ? null : (JSON.parse(String(r.proposal)) as ProposalRef),
    owner: String(r.owner),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

function toBump(r: Row): BumpRecord {
  return {
    id: Number(r.id),
    incident: String(r.incident),
    fingerprint: r.fingerprint === null ? null : String(r.fingerprint),
    service: String(r.service),
    url: String(r.url),
    branch: String(r.branch),
    file: String(r.file),
    locator: JSON.parse(String(r.locator)),
    previous: String(r.previous),
    value: String(r.value),
    commit: String(r.commit_id),
    pushed: Number(r.pushed) === 1,
    revertedBy: r.reverted_by === null ? null : String(r.reverted_by),
    createdAt: String(r.created_at),
  };
}

function toRelease(r: Row): ReleaseRecord {
  return {
    id: Number(r.id),
    incident: String(r.incident),
    commit: String(r.commit_id),
    backend: String(r.backend),
    image: r.image === null ? null : (JSON.parse(String(r.image)) as { tag: string; id: string }),
    decision: r.decision === null ? null : JSON.parse(String(r.decision)),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

export class Journal {
  private readonly db: DatabaseSync;
  readonly owner: string;

  constructor(stateDir: string, owner = ownerOf()) {
    const path = join(stateDir, JOURNAL_FILE);
    this.owner = owner;
    try {
      mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      closeSync(openSync(path, 'a', 0o600));
      this.db = new DatabaseSync(path);
      this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      this.db.exec('PRAGMA journal_mode = WAL');
      // FULL: a step recorded is a step on disk before the next one starts (the journal is for crashes).
      this.db.exec('PRAGMA synchronous = FULL');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new SutureError('INTERNAL', `delivery journal ${path}: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  close(): void {
    this.db.close();
  }

  /** Runs `fn` in one write transaction taken up front: no other process writes in between. */
  private write<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.db.exec('COMMIT');
      return out;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    }
  }

  private event(what: string, ids: { delivery?: number; bump?: number }, detail?: string): void {
    this.db
      .prepare('INSERT INTO events (delivery, bump, ts, what, detail) VALUES (?, ?, ?, ?, ?)')
      .run(ids.delivery ?? null, ids.bump ?? null, new Date().toISOString(), what, detail ?? null);
  }

  /** The open delivery of `fingerprint` in `repo`, if any. */
  open(repo: string, fingerprint: string): Delivery | null {
    const r = this.db
      .prepare('SELECT * FROM deliveries WHERE repo = ? AND fingerprint = ? AND closed = 0')
      .get(repo, fingerprint) as Row | undefined;
    return r ? toDelivery(r) : null;
  }

  get(id: number): Delivery | null {
    const r = this.db.prepare('SELECT * FROM deliveries WHERE id = ?').get(id) as Row | undefined;
    return r ? toDelivery(r) : null;
  }

  /**
   * The atomic claim on delivering `plan.fingerprint` in `plan.repo`: a fresh one when none is open, the
   * open one taken over when its owner is gone and it is unfinished (resume), else what is there.
   */
  claim(plan: DeliveryPlan): Claim {
    return this.write(() => {
      const now = new Date().toISOString();
      const existing = this.open(plan.repo, plan.fingerprint);
      if (existing) {
        if (existing.finished) return { kind: 'delivered', delivery: existing };
        if (existing.owner !== this.owner && ownerAlive(existing.owner, existing.updatedAt)) {
          return { kind: 'busy', delivery: existing };
        }
        this.db
          .prepare('UPDATE deliveries SET owner = ?, updated_at = ? WHERE id = ?')
          .run(this.owner, now, existing.id);
        this.event('resumed', { delivery: existing.id }, `from ${existing.phase}, was ${existing.owner}`);
        return { kind: 'resume', delivery: { ...existing, owner: this.owner, updatedAt: now } };
      }
      const safe = redactDeep(plan);
      const info = this.db
        .prepare(
          'INSERT INTO deliveries (repo, fingerprint, incident, branch, phase, owner, plan, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          plan.repo,
          plan.fingerprint,
          plan.incident,
          plan.branch,
          'claimed',
          this.owner,
          JSON.stringify(safe),
          now,
          now,
        );
      const id = Number(info.lastInsertRowid);
      this.event('claimed', { delivery: id }, `${plan.candidate} ${plan.commit}`);
      return { kind: 'fresh', delivery: this.get(id)! };
    });
  }

  /** Records that `delivery` reached `phase`; only its owner may. */
  advance(
    delivery: Delivery,
    phase: Phase,
    fields: { proposal?: ProposalRef | null; target?: string | null; finished?: boolean; detail?: string } = {},
  ): Delivery {
    return this.write(() => {
      const now = new Date().toISOString();
      const r = this.db
        .prepare(
          `UPDATE deliveries SET phase = ?, updated_at = ?,
             proposal = COALESCE(?, proposal), target = COALESCE(?, target), finished = MAX(finished, ?)
           WHERE id = ? AND owner = ? AND closed = 0`,
        )
        .run(
          phase,
          now,
          fields.proposal ? JSON.stringify(redactDeep(fields.proposal)) : null,
          fields.target ?? null,
          fields.finished ? 1 : 0,
          delivery.id,
          this.owner,
        );
      if (Number(r.changes) !== 1) {
        throw new SutureError('INTERNAL', `the delivery of ${delivery.branch} is no longer this process's to record`);
      }
      this.event(phase, { delivery: delivery.id }, fields.detail);
      return this.get(delivery.id)!;
    });
  }

  /** Ends a delivery (its proposal was merged or closed, or it was abandoned): the fingerprint is free again. */
  closeDelivery(delivery: Delivery, why: string): void {
    this.write(() => {
      this.db
        .prepare('UPDATE deliveries SET closed = 1, updated_at = ? WHERE id = ? AND closed = 0')
        .run(new Date().toISOString(), delivery.id);
      this.event('closed', { delivery: delivery.id }, why);
    });
  }

  /** The commits suture made into branches for `fingerprint` in `repo` (any delivery that got that far). */
  commitsFor(repo: string, fingerprint: string): string[] {
    return this.db
      .prepare("SELECT plan FROM deliveries WHERE repo = ? AND fingerprint = ? AND phase != 'claimed'")
      .all(repo, fingerprint)
      .map((r) => (JSON.parse(String((r as Row).plan)) as DeliveryPlan).commit);
  }

  /** Every transition of a delivery, oldest first: `[what, detail]`. */
  events(delivery: number): [string, string | null][] {
    return this.db
      .prepare('SELECT what, detail FROM events WHERE delivery = ? ORDER BY id')
      .all(delivery)
      .map((r) => [String((r as Row).what), (r as Row).detail === null ? null : String((r as Row).detail)]);
  }

  // --- GitOps image bumps -------------------------------------------------------------------------------

  recordBump(b: Omit<BumpRecord, 'id' | 'pushed' | 'revertedBy' | 'createdAt'>): BumpRecord {
    return this.write(() => {
      const info = this.db
        .prepare(
          'INSERT INTO bumps (incident, fingerprint, service, url, branch, file, locator, previous, value, commit_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          b.incident,
          b.fingerprint,
          b.service,
          b.url,
          b.branch,
          b.file,
          JSON.stringify(b.locator),
          b.previous,
          b.value,
          b.commit,
          new Date().toISOString(),
        );
      const id = Number(info.lastInsertRowid);
      this.event('bump-committed', { bump: id }, `${b.file}: ${b.previous} -> ${b.value} (${b.commit})`);
      return this.bump(id)!;
    });
  }

  bump(id: number): BumpRecord | null {
    const r = this.db.prepare('SELECT * FROM bumps WHERE id = ?').get(id) as Row | undefined;
    return r ? toBump(r) : null;
  }

  markBumpPushed(id: number): void {
    this.write(() => {
      this.db.prepare('UPDATE bumps SET pushed = 1 WHERE id = ?').run(id);
      this.event('bump-pushed', { bump: id });
    });
  }

  /** A bump commit that never reached the remote (the push lost a race): not a bump any more. */
  dropBump(id: number, why: string): void {
    this.write(() => {
      this.db.prepare('DELETE FROM bumps WHERE id = ? AND pushed = 0').run(id);
      this.event('bump-dropped', { bump: id }, why);
    });
  }

  markBumpReverted(id: number, by: string): void {
    this.write(() => {
      this.db.prepare('UPDATE bumps SET reverted_by = ? WHERE id = ?').run(by, id);
      this.event('bump-reverted', { bump: id }, by);
    });
  }

  /** Bumps committed for `incident` whose push was never confirmed (the process died, the network failed). */
  unpushedBumps(incident: string): BumpRecord[] {
    return this.db
      .prepare('SELECT * FROM bumps WHERE incident = ? AND pushed = 0 ORDER BY id DESC')
      .all(incident)
      .map((r) => toBump(r as Row));
  }

  /** The pushed bumps made for `incident`, most recent first. */
  bumpsFor(incident: string): BumpRecord[] {
    return this.db
      .prepare('SELECT * FROM bumps WHERE incident = ? AND pushed = 1 ORDER BY id DESC')
      .all(incident)
      .map((r) => toBump(r as Row));
  }

  // --- Releases (build, canary) ---------------------------------------------------------------------------

  /** The release of `commit` for `incident`, if one was started. */
  release(incident: string, commit: string): ReleaseRecord | null {
    const r = this.db.prepare('SELECT * FROM releases WHERE incident = ? AND commit_id = ?').get(incident, commit) as
      | Row
      | undefined;
    return r ? toRelease(r) : null;
  }

  /** Records the image built for the release (creating the release record); a rebuild overwrites it. */
  recordReleaseImage(incident: string, commit: string, backend: string, image: { tag: string; id: string }): void {
    this.write(() => {
      const now = new Date().toISOString();
      this.db
        .prepare(
          `INSERT INTO releases (incident, commit_id, backend, image, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (incident, commit_id) DO UPDATE SET image = excluded.image, backend = excluded.backend, updated_at = excluded.updated_at`,
        )
        .run(incident, commit, backend, JSON.stringify(image), now, now);
      this.event('release-image', {}, `${incident} ${commit}: ${image.tag} ${image.id}`);
    });
  }

  /** Records the canary's decision; the release must have been started (its image recorded). */
  recordReleaseDecision(incident: string, commit: string, decision: unknown): void {
    this.write(() => {
      const r = this.db
        .prepare('UPDATE releases SET decision = ?, updated_at = ? WHERE incident = ? AND commit_id = ?')
        .run(JSON.stringify(redactDeep(decision)), new Date().toISOString(), incident, commit);
      if (Number(r.changes) !== 1)
        throw new SutureError('INTERNAL', `no release of ${commit} for ${incident} to decide`);
      this.event('release-decided', {}, `${incident} ${commit}`);
    });
  }
}

/** Opens the journal, runs `fn`, closes it. */
export function withJournal<T>(stateDir: string, fn: (j: Journal) => T): T {
  const j = new Journal(stateDir);
  try {
    return fn(j);
  } finally {
    j.close();
  }
}
