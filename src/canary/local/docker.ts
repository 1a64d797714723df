/**
 * Docker CLI helpers for the local rollout backend: service versions run as long-lived containers on the host
 * network (each on its own loopback port, so no bridge is needed). Every container carries `suture=1` plus a
 * per-rollout label, so a crashed run's leftovers can be swept by label.
 */
import { execa } from 'execa';
import { SutureError } from '../../errors.ts';

export const SUTURE_LABEL = 'suture=1';
export const ROLLOUT_LABEL = 'suture.rollout';

async function docker(args: string[], input?: string): Promise<string> {
  const res = await execa('docker', args, { reject: false, input, stripFinalNewline: true });
  if (res.exitCode !== 0) {
    const msg = (res.stderr || res.stdout || `exit ${res.exitCode}`).trim().split('\n').pop();
    throw new SutureError('SANDBOX', `docker ${args[0]} failed: ${msg}`);
  }
  return res.stdout;
}

export interface RunServiceOptions {
  image: string;
  name: string;
  port: number;
  rolloutId: string;
  env?: Record<string, string>;
  /** Command override; the image's CMD when absent. */
  command?: string[];
}

/** Starts a detached service container on the host network with PORT set; returns its id. */
export async function runServiceContainer(o: RunServiceOptions): Promise<string> {
  const env = { PORT: String(o.port), ...(o.env ?? {}) };
  const args = ['run', '-d', '--network', 'host', '--name', o.name, '--label', SUTURE_LABEL];
  args.push('--label', `${ROLLOUT_LABEL}=${o.rolloutId}`, '--memory', '256m', '--pids-limit', '256');
  for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
  args.push(o.image, ...(o.command ?? []));
  return (await docker(args)).trim();
}

/** Stops and removes containers; missing ones are fine (already gone). */
export async function removeContainers(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await execa('docker', ['rm', '-f', '-v', ...ids], { reject: false });
}

/** Removes every container of one rollout (or, with no id, every suture-labelled rollout container). */
export async function sweepRolloutContainers(rolloutId?: string): Promise<number> {
  const filter = rolloutId ? `label=${ROLLOUT_LABEL}=${rolloutId}` : `label=${ROLLOUT_LABEL}`;
  const out = await docker(['ps', '-aq', '--filter', filter]);
  const ids = out.split('\n').filter(Boolean);
  await removeContainers(ids);
  return ids.length;
}

export async function imageExists(image: string): Promise<boolean> {
  const res = await execa('docker', ['image', 'inspect', image], { reject: false });
  return res.exitCode === 0;
}

/** The local image's id (sha256:…), or null when it is not here. */
export async function imageId(image: string): Promise<string | null> {
  const res = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { reject: false });
  return res.exitCode === 0 ? res.stdout.trim() : null;
}

/** A label of a local image, or null when the image (or the label) is missing. */
export async function imageLabel(image: string, label: string): Promise<string | null> {
  const res = await execa(
    'docker',
    ['image', 'inspect', '--format', `{{ index .Config.Labels ${JSON.stringify(label)} }}`, image],
    {
      reject: false,
    },
  );
  const v = res.exitCode === 0 ? res.stdout.trim() : '';
  return v && v !== '<no value>' ? v : null;
}

/** Builds an image from a directory (no registry here: bases must be local images). */
export async function buildImage(dir: string, tag: string, labels: Record<string, string> = {}): Promise<void> {
  const args = ['build', '--network', 'host', '-q', '-t', tag, '--label', SUTURE_LABEL];
  for (const [k, v] of Object.entries(labels)) args.push('--label', `${k}=${v}`);
  await docker([...args, dir]);
}

export async function containerLogs(id: string, lines = 20): Promise<string> {
  const res = await execa('docker', ['logs', '--tail', String(lines), id], { reject: false, all: true });
  return String(res.all ?? '').trim();
}
