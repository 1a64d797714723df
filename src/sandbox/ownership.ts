/**
 * Who owns a sandbox container. The Docker engine may be shared (a CI host, several `suture serve`s, a
 * remote DOCKER_HOST), so a container is swept only when its owner is provably gone: it was started on
 * this host (machine id + hostname), and its process either no longer exists, was started in an earlier
 * boot, or is another process that reuses the pid (its start time differs). Anything else is kept.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export const LABEL_HOST = 'dev.suture.host';
export const LABEL_BOOT = 'dev.suture.boot';
export const LABEL_PID = 'dev.suture.pid';
export const LABEL_STARTED = 'dev.suture.started';

export interface Owner {
  host: string;
  boot: string;
  pid: number;
  /** The process start time (clock ticks since boot, /proc/<pid>/stat field 22); '' where unknown. */
  started: string;
}

function readQuiet(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * This host: the machine id and the hostname together (containers built from one image share a machine
 * id but not a hostname; the hostname alone can repeat across machines).
 */
export function hostId(): string {
  const machine = readQuiet('/etc/machine-id') || readQuiet('/var/lib/dbus/machine-id');
  return createHash('sha256').update(`${machine}\n${hostname()}`).digest('hex').slice(0, 16);
}

export function bootId(): string {
  return readQuiet('/proc/sys/kernel/random/boot_id');
}

/** The start time of `pid`, undefined when no such process is visible, '' when it cannot be known here. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return undefined;
    // No /proc at all (macOS): liveness only.
    if (readQuiet('/proc/self/stat') === '') return pidAlive(pid) ? '' : undefined;
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? '';
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function currentOwner(): Owner {
  return { host: hostId(), boot: bootId(), pid: process.pid, started: processStartTime(process.pid) ?? '' };
}

export function ownerLabels(owner: Owner): Record<string, string> {
  return {
    [LABEL_HOST]: owner.host,
    [LABEL_BOOT]: owner.boot,
    [LABEL_PID]: String(owner.pid),
    [LABEL_STARTED]: owner.started,
  };
}

/**
 * Whether a container with these labels is stale, seen from `self`. `startTimeOf` answers for a pid on
 * this host (undefined: no such process). Pure.
 */
export function isStale(
  labels: Record<string, string>,
  self: Pick<Owner, 'host' | 'boot'>,
  startTimeOf: (pid: number) => string | undefined,
): boolean {
  // Without a host label (older suture, or not ours) ownership cannot be shown: keep it.
  if (!labels[LABEL_HOST] || labels[LABEL_HOST] !== self.host) return false;
  if (labels[LABEL_BOOT] && self.boot && labels[LABEL_BOOT] !== self.boot) return true;
  const pid = Number(labels[LABEL_PID]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const started = startTimeOf(pid);
  if (started === undefined) return true;
  const recorded = labels[LABEL_STARTED] ?? '';
  return recorded !== '' && started !== '' && recorded !== started;
}
