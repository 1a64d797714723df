/**
 * Prepare phase: the `install` command from suture.yaml runs once per repository and hash of the
 * dependency manifests at the BASE revision, with network, as the sandbox user. What install produced
 * (node_modules, .venv, vendor/, never a file of the tree) is kept outside the workspace and committed as
 * an image (`suture-prepared:<service>-<hash>`); verification copies it into each fresh workspace before
 * the tree. Candidates then run from that image with network none; the patched tree's manifests are never
 * installed, so a patch cannot smuggle in a dependency.
 *
 * The cache key holds the repository's identity (its real path and root commits: chosen by whoever runs
 * suture, not by the repo's content, and two repos sharing a service name and manifests never share an
 * image), the sandbox image, the install command, the network and the manifests' bytes. The network is
 * an isolated one (a bridge: registries reachable, the host's loopback not) where the engine has one, or
 * the host's, said so in the verdict (`installNetwork`) and recorded on the image as a label.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, readlinkSync, realpathSync, statSync } from 'node:fs';
import { readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceConfig } from '../config/service.ts';
import { SutureError } from '../errors.ts';
import { git } from '../policy/git.ts';
import { entryKind, readInTree } from './confined.ts';
import { type ContainerRun, DEPS_DIR, engineNetworks, INPUTS, imageInfo, LABEL, runPlan } from './docker.ts';
import { hostCaBundle, installEnv } from './install-env.ts';
import type { RunResult, StashResult } from './plan.ts';
import { buildServiceImage, checkSandboxImage, imageSource } from './service-image.ts';

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
export const MANIFEST_MAX_BYTES = 64 * 1024 * 1024;
/** Bumped when what a prepared image holds changes, so older images are not reused. */
const FORMAT = 'prepared-v2';
const LABEL_NETWORK = 'dev.suture.install-network';

export type InstallNetwork = 'isolated' | 'host';

/**
 * The manifests' share of the cache key, read confined to the tree: a symlink counts by its target text
 * (never followed: `requirements.txt -> /dev/zero` is hashed as that string), a special file by its kind.
 */
export function manifestDigest(tree: string): string {
  const h = createHash('sha256');
  for (const m of MANIFESTS) {
    const kind = entryKind(tree, m);
    if (kind === 'missing' || kind === 'bad-path') continue;
    h.update(`${m}\n${kind}\n`);
    if (kind === 'symlink') h.update(readlinkSync(join(realpathSync(tree), m)));
    if (kind !== 'file') continue;
    const r = readInTree(tree, m, MANIFEST_MAX_BYTES);
    if (!r.ok) throw new SutureError('BAD_CONFIG', `cannot hash the dependency manifest: ${r.message}`);
    h.update(r.data).update('\n');
  }
  return h.digest('hex');
}

export function prepareKey(parts: {
  imageId: string;
  install: string;
  repoId: string;
  network: string;
  manifests: string;
}): string {
  return createHash('sha256')
    .update([FORMAT, parts.imageId, parts.install, parts.repoId, parts.network, parts.manifests].join('\n'))
    .digest('hex')
    .slice(0, 16);
}

/**
 * A repository's identity for the cache: its real path (the operator's choice) and its root commits (a
 * different repo cloned to the same path is another repo).
 */
export async function repoIdentity(repoDir: string): Promise<string> {
  const real = await realpath(repoDir);
  const roots = await git(real, ['rev-list', '--max-parents=0', 'HEAD']).catch(() => '');
  return `${real}\n${roots.trim().split('\n').sort().join(',')}`;
}

export interface EngineNetwork {
  name: string;
  driver: string;
}

/**
 * The network the install runs on, from the engine's networks and the operator's SUTURE_PREPARE_NETWORK
 * (never suture.yaml: the repo must not pick its own network). Pure.
 *   - requested: that network (`host` → host; `none` or any other driver → isolated); unknown → error
 *   - otherwise the engine's default `bridge` when it exists → isolated
 *   - otherwise the host's network → host (the install can reach services on the host's loopback)
 */
export function chooseInstallNetwork(
  networks: EngineNetwork[],
  requested: string | undefined,
): { network: string; installNetwork: InstallNetwork } {
  const want = requested?.trim();
  if (want) {
    const found = networks.find((n) => n.name === want);
    if (!found) {
      throw new SutureError(
        'BAD_CONFIG',
        `SUTURE_PREPARE_NETWORK names the network ${want}, which the Docker engine does not have (it has: ${networks.map((n) => n.name).join(', ')})`,
      );
    }
    return { network: found.name, installNetwork: found.driver === 'host' ? 'host' : 'isolated' };
  }
  const bridge = networks.find((n) => n.name === 'bridge' && n.driver === 'bridge');
  if (bridge) return { network: bridge.name, installNetwork: 'isolated' };
  return { network: 'host', installNetwork: 'host' };
}

/** A readable regular file (the operator's CA bundle). */
function readableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const CA_NAME = 'ca-bundle.pem';

export interface Prepared {
  /** The image candidates run in. */
  image: string;
  /** The network install ran with; null when there is no install command. */
  installNetwork: InstallNetwork | null;
}

/** Returns the image to verify in: config.image itself, or the cached prepared image (built when missing). */
export async function prepareImage(opts: {
  tree: string;
  config: ServiceConfig;
  /** The repository's identity (`repoIdentity`); defaults to the tree's real path. */
  repoId?: string;
  progress?: (m: string) => void;
}): Promise<Prepared> {
  const { tree, config } = opts;
  const source = imageSource(config.image);
  const chosen =
    source.kind === 'dockerfile' || config.install.trim()
      ? chooseInstallNetwork(await engineNetworks(), process.env.SUTURE_PREPARE_NETWORK)
      : undefined;
  const { network, installNetwork } = chosen ?? { network: 'none', installNetwork: null };
  // The repository's own image (its Dockerfile at this, the base, revision) or the image named.
  const image =
    source.kind === 'dockerfile'
      ? await buildServiceImage({
          tree,
          dockerfile: source.path,
          service: config.service,
          network,
          ...(opts.progress ? { progress: opts.progress } : {}),
        })
      : source.name;
  const base = await imageInfo(image);
  if (!base) {
    throw new SutureError(
      'SANDBOX',
      `sandbox image ${image} is not available: run \`bash sandbox/bootstrap.sh\` (or build the image named in suture.yaml)`,
    );
  }
  await checkSandboxImage(image, config.limits);
  // A built image's RUN steps had the install network: said like an install's.
  if (!config.install.trim()) return { image, installNetwork: source.kind === 'dockerfile' ? installNetwork : null };
  if (!installNetwork) throw new Error('internal: no install network chosen');
  const key = prepareKey({
    imageId: base.id,
    install: config.install,
    repoId: opts.repoId ?? `tree:${await realpath(tree)}`,
    network,
    manifests: manifestDigest(tree),
  });
  const tag = `suture-prepared:${config.service}-${key}`;
  const cached = await imageInfo(tag);
  if (cached) return { image: tag, installNetwork: cached.labels[LABEL_NETWORK] === 'isolated' ? 'isolated' : 'host' };

  opts.progress?.(`preparing dependencies (${config.install}) into ${tag}, network ${network} (${installNetwork})`);
  const installSec = Math.max(60, config.limits.stepTimeoutSec * 10);
  const [repo, version] = tag.split(':') as [string, string];
  // The host's proxy settings and CA bundle, for a registry behind a TLS-inspecting proxy (install-env.ts).
  const caFile = hostCaBundle(process.env, readableFile);
  const ca = caFile ? await readFile(caFile) : undefined;
  const run = await runPlan({
    image,
    workspace: tree,
    plan: {
      outputBytes: config.limits.outputBytes,
      stopOnFailure: true,
      steps: [
        {
          kind: 'run',
          name: 'install',
          command: `mkdir -p /workspace/.home && ${config.install}`,
          timeoutSec: installSec,
          env: installEnv(process.env, ca ? `${INPUTS}/${CA_NAME}` : null),
        },
        { kind: 'stash', name: 'stash', dir: DEPS_DIR },
      ],
    },
    // Installs spawn many processes (compilers, package managers): the pids limit is the tests', not theirs.
    limits: { ...config.limits, pids: Math.max(config.limits.pids, 4096) },
    timeoutMs: (installSec + 60) * 1000,
    name: 'prepare',
    ...(ca ? { files: [{ name: CA_NAME, data: ca }] } : {}),
    prepare: {
      network,
      commit: (r) =>
        installFailure(r)
          ? undefined
          : {
              repo,
              tag: version,
              changes: [`LABEL ${LABEL}=1`, 'LABEL dev.suture.prepared=1', `LABEL ${LABEL_NETWORK}=${installNetwork}`],
            },
    },
  });
  const failure = installFailure(run);
  if (failure !== null) {
    throw new SutureError('BAD_CONFIG', `the install command from suture.yaml failed at the base revision: ${failure}`);
  }
  return { image: tag, installNetwork };
}

/** npm's closing pointer to its debug log says nothing about the failure. */
const LOG_POINTER =
  /complete log of this run can be found|[/\\]_logs[/\\]\S*debug\S*\.log\s*$|^(npm (ERR!|error))\s*$/i;
const UNTRUSTED_TLS =
  /CERTIFICATE_VERIFY_FAILED|SELF_SIGNED_CERT|self[- ]signed certificate|unable to get local issuer certificate|UNABLE_TO_VERIFY_LEAF_SIGNATURE/i;

/**
 * The line of an install's output that says why it failed (its last, npm's log pointer aside), with a hint
 * when a registry's TLS certificate was not trusted. Pure.
 */
export function installError(output: string): string {
  const lines = output
    .trim()
    .split('\n')
    .filter((l) => l.trim() && !LOG_POINTER.test(l));
  const line = lines.pop()?.trim() ?? '';
  if (!UNTRUSTED_TLS.test(output)) return line;
  return `${line} (a registry's TLS certificate was not trusted: set SUTURE_CA_BUNDLE to the CA bundle this host trusts)`;
}

/** Why the prepare run did not produce an image (one line), or null when it did. */
function installFailure(run: ContainerRun): string | null {
  if (run.setupError) return run.setupError;
  const install = run.results?.find((r) => r.name === 'install') as RunResult | undefined;
  const stash = run.results?.find((r) => r.name === 'stash') as StashResult | undefined;
  const last = (text: string) => text.trim().split('\n').pop() ?? '';
  if (!install) return run.timedOut ? 'it hit its time limit' : last(run.log) || `exit ${run.exitCode ?? '?'}`;
  if (install.exitCode !== 0) {
    return install.stopped
      ? `it was stopped (${install.stopped})`
      : installError(install.output) || `exit ${install.exitCode}`;
  }
  if (!stash?.ok) return `its output could not be kept: ${last(stash?.output ?? '') || 'no result'}`;
  return null;
}
