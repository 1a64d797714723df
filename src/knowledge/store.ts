/**
 * The knowledge store: what suture learned from each heal, keyed by the incident's fingerprint — the
 * diagnosis, every candidate with its verdict and policy decision, the chosen fix (its patch) and the
 * outcome. A repeated fingerprint tries the fix that worked before first (strategies/knowledge/).
 *
 * Storage: Node 24's built-in SQLite (`node:sqlite`, no flag needed there, no dependency) in
 * `<state>/knowledge.db`. SQLite, not JSON lines, because `suture serve` runs heals in parallel child
 * processes: WAL mode with a busy timeout lets them write at the same time without tearing a record or
 * corrupting the file (a line appended by one process can interleave with another's once it exceeds the
 * pipe-atomic size), and a lookup by fingerprint is an index probe, not a scan of every heal ever made.
 * Each heal is one row (indexed columns plus the record as JSON), written in one statement: atomic.
 *
 * Everything written passes `redactDeep`. A patch that redaction changed (it quoted something
 * credential-shaped) is stored with the hash of the original, so it is known to be altered and never
 * reused as code.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SutureError } from '../errors.ts';
import { redactDeep } from '../evidence/redact.ts';

export const KNOWLEDGE_FILE = 'knowledge.db';
/** How long a writer waits for another process's write before giving up. */
const BUSY_TIMEOUT_MS = 15_000;

export interface KnowledgeVerdict {
  verdict: 'pass' | 'fail';
  reproduced: boolean;
  fixed: boolean;
  testsPassed: boolean;
  regressionTest: { file: string; failsBefore: boolean; passesAfter: boolean } | null;
  differential: { compared: number; mismatches: number };
  reasons: string[];
  durationMs: number;
}

export interface KnowledgeCandidate {
  id: string;
  strategy: string;
  summary: string;
  confidence: number;
  verdict: KnowledgeVerdict | null;
  policy: { decision: string; violations: string[] } | null;
}

export interface KnowledgeFix {
  candidate: string;
  strategy: string;
  summary: string;
  confidence: number;
  /** The chosen candidate's patch (its regression test included), redacted. */
  patch: string;
  /** sha256 of the patch as it was verified: differs from the stored one's when redaction altered it. */
  patchSha256: string;
  /** The regression test the patch adds, if any. */
  testFile?: string;
}

export interface KnowledgeRecord {
  fingerprint: string;
  incident: string;
  service: string;
  recordedAt: string;
  /** The heal's outcome (HealStatus) and why. */
  status: string;
  reason: string;
  /** The commit healed, and the revision the incident named (if it named one). */
  base: string;
  revision?: string;
  diagnosis: {
    classification: string;
    rootCause: string;
    location: { file: string; line: number; function: string } | null;
    confidence: number;
  } | null;
  candidates: KnowledgeCandidate[];
  chosen: KnowledgeFix | null;
  branch: string | null;
  commit: string | null;
}

/** A fix that verified before for a fingerprint, as the knowledge strategy reuses it. */
export interface StoredFix extends KnowledgeFix {
  recordedAt: string;
  status: string;
  /** False when the stored patch is not byte for byte the one verified (redaction altered it). */
  intact: boolean;
}

export interface KnowledgeSummary {
  fingerprint: string;
  service: string;
  runs: number;
  lastStatus: string;
  lastRecordedAt: string;
  /** The most recent fix that verified, if any. */
  fix: { strategy: string; summary: string; recordedAt: string; status: string } | null;
}

/** Outcomes whose chosen candidate passed verification and was not denied by policy. */
export const VERIFIED_OUTCOMES = ['fixed', 'proposed', 'observed'] as const;

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS heals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  fingerprint TEXT NOT NULL,
  service TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  status TEXT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS heals_by_fingerprint ON heals (fingerprint, id);
`;

function open(stateDir: string, create: boolean): DatabaseSync | null {
  const path = join(stateDir, KNOWLEDGE_FILE);
  if (!create && !existsSync(path)) return null;
  if (create) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    // Created owner-only before SQLite opens it (its -wal and -shm files take the same mode).
    closeSync(openSync(path, 'a', 0o600));
  }
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(SCHEMA);
  } catch (err) {
    throw new SutureError('INTERNAL', `knowledge store ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  return db;
}

function withDb<T>(stateDir: string, create: boolean, fn: (db: DatabaseSync) => T, empty: T): T {
  const db = open(stateDir, create);
  if (!db) return empty;
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Appends one heal's record, redacted. */
export function recordHeal(stateDir: string, record: KnowledgeRecord): void {
  const safe = redactDeep(record);
  // redactDeep masks values under secret-looking keys; the hash is no secret and must stay comparable.
  if (safe.chosen && record.chosen) safe.chosen.patchSha256 = record.chosen.patchSha256;
  withDb(
    stateDir,
    true,
    (db) => {
      db.prepare('INSERT INTO heals (fingerprint, service, recorded_at, status, record) VALUES (?, ?, ?, ?, ?)').run(
        safe.fingerprint,
        safe.service,
        safe.recordedAt,
        safe.status,
        JSON.stringify(safe),
      );
    },
    undefined,
  );
}

function rows(db: DatabaseSync, sql: string, ...params: string[]): KnowledgeRecord[] {
  return db
    .prepare(sql)
    .all(...params)
    .map((r) => JSON.parse(String((r as { record: string }).record)) as KnowledgeRecord);
}

/** Every heal of `fingerprint`, most recent first. */
export function historyOf(stateDir: string, fingerprint: string): KnowledgeRecord[] {
  return withDb(
    stateDir,
    false,
    (db) => rows(db, 'SELECT record FROM heals WHERE fingerprint = ? ORDER BY id DESC', fingerprint),
    [],
  );
}

/** The fingerprints known whose hex starts with `prefix`. */
export function fingerprintsLike(stateDir: string, prefix: string): string[] {
  return withDb(
    stateDir,
    false,
    (db) =>
      db
        .prepare('SELECT DISTINCT fingerprint FROM heals WHERE substr(fingerprint, 1, ?) = ? ORDER BY fingerprint')
        .all(prefix.length, prefix)
        .map((r) => String((r as { fingerprint: string }).fingerprint)),
    [],
  );
}

/** One line per fingerprint: how often it was healed, how the last heal ended, the last fix that verified. */
export function listKnowledge(stateDir: string): KnowledgeSummary[] {
  return withDb(
    stateDir,
    false,
    (db) => {
      const all = rows(db, 'SELECT record FROM heals ORDER BY id DESC');
      const by = new Map<string, KnowledgeRecord[]>();
      for (const r of all) {
        const list = by.get(r.fingerprint);
        if (list) list.push(r);
        else by.set(r.fingerprint, [r]);
      }
      return [...by.values()].map((runs) => {
        const last = runs[0]!;
        const fix = runs.find((r) => r.chosen && isVerifiedOutcome(r.status));
        return {
          fingerprint: last.fingerprint,
          service: last.service,
          runs: runs.length,
          lastStatus: last.status,
          lastRecordedAt: last.recordedAt,
          fix: fix?.chosen
            ? {
                strategy: fix.chosen.strategy,
                summary: fix.chosen.summary,
                recordedAt: fix.recordedAt,
                status: fix.status,
              }
            : null,
        };
      });
    },
    [],
  );
}

export function isVerifiedOutcome(status: string): boolean {
  return (VERIFIED_OUTCOMES as readonly string[]).includes(status);
}

/**
 * The fixes that verified for `fingerprint`, best first: merged (`fixed`) before proposed before observed,
 * then the most recent; one per distinct patch; none whose patch a later heal saw aborted by its canary.
 */
export function previousFixes(stateDir: string, fingerprint: string): StoredFix[] {
  const runs = historyOf(stateDir, fingerprint);
  const aborted = new Set(runs.filter((r) => r.status === 'aborted' && r.chosen).map((r) => r.chosen!.patchSha256));
  const seen = new Set<string>();
  const fixes: StoredFix[] = [];
  for (const r of runs) {
    if (!r.chosen || !isVerifiedOutcome(r.status)) continue;
    const { patchSha256 } = r.chosen;
    if (aborted.has(patchSha256) || seen.has(patchSha256)) continue;
    seen.add(patchSha256);
    fixes.push({
      ...r.chosen,
      recordedAt: r.recordedAt,
      status: r.status,
      intact: sha256(r.chosen.patch) === patchSha256,
    });
  }
  const rank = (s: string) => VERIFIED_OUTCOMES.indexOf(s as (typeof VERIFIED_OUTCOMES)[number]);
  return fixes.sort((a, b) => rank(a.status) - rank(b.status));
}

/** How many heals since `sinceIso` merged a fix on their own (`fixed`, or `aborted` after the merge). */
export function autonomousMergesSince(stateDir: string, sinceIso: string): number {
  return withDb(
    stateDir,
    false,
    (db) =>
      Number(
        (
          db
            .prepare("SELECT count(*) AS n FROM heals WHERE recorded_at >= ? AND status IN ('fixed', 'aborted')")
            .get(sinceIso) as { n: number }
        ).n,
      ),
    0,
  );
}
