/**
 * Prepare phase: the `install` command from suture.yaml runs once per hash of the dependency manifests at
 * the BASE revision, with network, as the sandbox user, and the result is committed as an image
 * (`suture-prepared:<service>-<hash>`) whose /workspace holds the base tree and what install put there
 * (node_modules, .venv, vendor/). Candidates then run from that image with network none; the patched
 * tree's manifests are never installed, so a patch cannot smuggle in a dependency.
 */
import './env.ts';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GenericContainer, Wait } from 'testcontainers';
import type { ServiceConfig } from '../config/service.ts';
import { SutureError } from '../errors.ts';
import { dockerClient, LABEL, LABEL_PID, LABEL_RUN, RUN_ID, removeWhere, SANDBOX_UID, tarOf } from './docker.ts';

/** Files whose content decides what `install` installs. */
export const MANIFESTS = [
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'requirements.txt',
  'requirements-dev.txt',
  'constraints.txt',
  'pyproject.toml',
  'poetry.lock',
  'uv.lock',
  'Pipfile',
  'Pipfile.lock',
  'setup.py',
  'setup.cfg',
];

export async function manifestHash(tree: string, config: ServiceConfig, imageId: string): Promise<string> {
  const h = createHash('sha256').update(`${imageId}\n${config.install}\n`);
  for (const m of MANIFESTS) {
    const text = await readFile(join(tree, m)).catch(() => undefined);
    if (text) h.update(`${m}\n`).update(text).update('\n');
  }
  return h.digest('hex').slice(0, 16);
}

async function imageId(name: string): Promise<string | undefined> {
  const client = await dockerClient();
  try {
    return (await client.container.dockerode.getImage(name).inspect()).Id;
  } catch {
    return undefined;
  }
}

/** Returns the image to verify in: config.image itself, or the cached prepared image (built when missing). */
export async function prepareImage(opts: {
  tree: string;
  config: ServiceConfig;
  progress?: (m: string) => void;
}): Promise<string> {
  const { tree, config } = opts;
  const baseId = await imageId(config.image);
  if (!baseId) {
    throw new SutureError(
      'SANDBOX',
      `sandbox image ${config.image} is not available: run \`bash sandbox/bootstrap.sh\` (or build the image named in suture.yaml)`,
    );
  }
  if (!config.install.trim()) return config.image;
  const tag = `suture-prepared:${config.service}-${await manifestHash(tree, config, baseId)}`;
  if (await imageId(tag)) return tag;

  opts.progress?.(`preparing dependencies (${config.install}) into ${tag}`);
  const callId = `prepare-${Date.now().toString(36)}`;
  let out = '';
  try {
    // Network on (host: no bridge exists), root filesystem writable so the result can be committed, and
    // still the non-root user, no capabilities and no-new-privileges: this runs the base revision's install.
    const container = new GenericContainer(config.image)
      .withUser(`${SANDBOX_UID}:${SANDBOX_UID}`)
      .withNetworkMode('host')
      .withDroppedCapabilities('ALL')
      .withSecurityOpt('no-new-privileges')
      .withLabels({ [LABEL]: '1', [LABEL_RUN]: RUN_ID, [LABEL_PID]: String(process.pid), 'dev.suture.call': callId })
      .withCopyArchivesToContainer([{ tar: await tarOf(tree), target: '/workspace' }])
      .withWorkingDir('/workspace')
      .withEnvironment({ HOME: '/workspace/.home', SUTURE_SANDBOX: '1' })
      .withCommand(['/bin/sh', '-c', `mkdir -p /workspace/.home && ${config.install}`])
      .withWaitStrategy(Wait.forOneShotStartup())
      .withStartupTimeout(Math.max(60, config.limits.stepTimeoutSec * 10) * 1000)
      .withLogConsumer((s) => s.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000))));
    const started = await container.start();
    const client = await dockerClient();
    const [repo, version] = tag.split(':') as [string, string];
    await client.container.dockerode.getContainer(started.getId()).commit({
      repo,
      tag: version,
      changes: [`LABEL ${LABEL}=1`, 'LABEL dev.suture.prepared=1'],
    });
    return tag;
  } catch (err) {
    const last = out.trim().split('\n').pop() ?? '';
    throw new SutureError(
      'BAD_CONFIG',
      `the install command from suture.yaml failed at the base revision: ${last || (err as Error).message.split('\n')[0]}`,
    );
  } finally {
    await removeWhere(`dev.suture.call=${callId}`);
  }
}
