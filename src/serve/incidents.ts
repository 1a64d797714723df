/**
 * The incident files POST /alerts hands to heals: `<state>/incidents/`, owner-only (0700 dir, 0600 files),
 * redacted before they touch the disk, and pruned to a retention limit (count and age) once heals finish.
 */
import { randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SutureError } from '../errors.ts';
import { RESULT_SUFFIX } from './heal-runner.ts';
import { siblingModule } from './modules.ts';

export interface Retention {
  /** Newest files kept. */
  keep: number;
  /** Files older than this are removed whatever their count. */
  maxAgeMs: number;
}

/**
 * Which files to delete: everything past the `keep` newest and everything older than `maxAgeMs`, except
 * `protect` (files of heals still running).
 */
export function retentionPlan(
  files: Array<{ name: string; mtimeMs: number }>,
  now: number,
  limits: Retention,
  protect: ReadonlySet<string> = new Set(),
): string[] {
  return [...files]
    .sort((a, b) => b.mtimeMs - a.mtimeMs || (a.name < b.name ? 1 : -1))
    .filter((f, i) => !protect.has(f.name) && (i >= limits.keep || now - f.mtimeMs > limits.maxAgeMs))
    .map((f) => f.name);
}

/**
 * Creates the directory owner-only, or makes an existing one so (files written by older versions with
 * 0644 included). A symlink in its place is refused: incident files go where the operator pointed.
 */
export async function prepareIncidentDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new SutureError('BAD_CONFIG', `${dir} is not a directory (a symlink?)`);
  await chmod(dir, 0o700);
  for (const f of await listIncidentFiles(dir)) await chmod(join(dir, f.name), 0o600).catch(() => undefined);
}

/** How this version names incident files; anything else in the directory is not one of its files. */
const INCIDENT_FILE = /^\d+-[0-9a-z]{0,16}-[0-9a-f]{8}\.json$/i;

/**
 * Before serving (no heal runs yet): removes result files of heals an earlier server left running, and
 * files earlier versions wrote there unredacted (named `<ms>-<n>.json`).
 */
export async function removeStaleFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [])) {
    if (name.endsWith(RESULT_SUFFIX) || (name.endsWith('.json') && !INCIDENT_FILE.test(name))) {
      await unlink(join(dir, name)).then(
        () => removed.push(name),
        () => undefined,
      );
    }
  }
  return removed;
}

async function listIncidentFiles(dir: string): Promise<Array<{ name: string; mtimeMs: number }>> {
  const out: Array<{ name: string; mtimeMs: number }> = [];
  for (const name of await readdir(dir).catch(() => [])) {
    if (!name.endsWith('.json')) continue;
    const st = await lstat(join(dir, name)).catch(() => null);
    if (st?.isFile()) out.push({ name, mtimeMs: st.mtimeMs });
  }
  return out;
}

/** Applies `retentionPlan` to the directory; returns the names removed. */
export async function pruneIncidents(
  dir: string,
  limits: Retention,
  protect: ReadonlySet<string> = new Set(),
  now = Date.now(),
): Promise<string[]> {
  const doomed = retentionPlan(await listIncidentFiles(dir), now, limits, protect);
  for (const name of doomed) await unlink(join(dir, name)).catch(() => undefined);
  return doomed;
}

const WRITER = siblingModule(import.meta.url, './incident-writer');

/**
 * Redacts `doc` (redactDeep) and writes it to a new file in `dir`, off the event loop, in a worker with
 * bounded memory that is stopped after `timeoutMs` or on `signal`. Returns the file's path.
 */
export function writeIncidentFile(
  dir: string,
  tag: string,
  doc: unknown,
  opts: { timeoutMs: number; signal?: AbortSignal },
): Promise<string> {
  const { timeoutMs, signal } = opts;
  if (signal?.aborted) return Promise.reject(new Error('stopped: the server is shutting down'));
  const path = join(
    dir,
    `${Date.now()}-${tag.replace(/[^0-9a-z]/gi, '').slice(0, 16)}-${randomBytes(4).toString('hex')}.json`,
  );
  return new Promise((resolve, reject) => {
    const worker = new Worker(WRITER, { workerData: { path, doc }, resourceLimits: { maxOldGenerationSizeMb: 512 } });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void worker.terminate();
    }, timeoutMs);
    const stop = () => void worker.terminate();
    signal?.addEventListener('abort', stop, { once: true });
    let failure: unknown;
    worker.on('error', (err) => {
      failure = err;
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      if (code === 0 && !timedOut && failure === undefined) return resolve(path);
      void unlink(path).catch(() => undefined);
      reject(
        timedOut
          ? new Error(`redacting the incident took longer than ${Math.round(timeoutMs / 1000)} s`)
          : signal?.aborted
            ? new Error('stopped: the server is shutting down')
            : (failure ?? new Error(`incident writer exited with ${code}`)),
      );
    });
  });
}
