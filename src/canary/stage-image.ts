/**
 * The release image of a commit: what the canary runs and the config repository is bumped to. Built from
 * the commit's tree as git holds it (exportTree: blobs, symlinks kept as links and never followed, no
 * checkout filter), sent to the engine as a tar (never a bind mount), through the one Docker adapter:
 *   - the repository's own Dockerfile when it has one (suture.yaml `canary.dockerfile`, an `image: ./…`
 *     Dockerfile, else a regular file `Dockerfile` at the root); its base images must be local;
 *   - otherwise the service's sandbox image with the tree under /srv/<service>, suture.yaml's `install` run
 *     once at build time, and `start` as the command (run as the sandbox user).
 * The build runs with network none; only a build with a RUN step (the install) gets the install network
 * (the operator's SUTURE_PREPARE_NETWORK, else a bridge, else the host's), as verification's install does.
 * Images are tagged `suture-release/<service>:<commit12>` and reused while commit and inputs are the same.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ServiceConfig } from '../config/service.ts';
import { SutureError } from '../errors.ts';
import { readInTree } from '../sandbox/confined.ts';
import { buildImage, engineNetworks, imageInfo } from '../sandbox/docker.ts';
import { chooseInstallNetwork } from '../sandbox/prepare.ts';
import { imageSource, localBaseIds } from '../sandbox/service-image.ts';

/** Bumped when how release images are built changes, so older builds are not reused. */
const FORMAT = 'release-image-v1';
export const LABEL_RELEASE = 'dev.suture.release';
/** Where the generated Dockerfile goes in the build context (a repo file of that name is refused, not replaced). */
const GENERATED = '.suture-release.Dockerfile';
const SANDBOX_USER = '10001:10001';
const DOCKERFILE_MAX_BYTES = 1024 * 1024;

export interface ReleaseImage {
  /** `suture-release/<service>:<commit12>` */
  tag: string;
  /** The engine's image id (sha256:…). */
  id: string;
  /** False when an image of the same commit and inputs was already there. */
  built: boolean;
}

export interface ImageRecipe {
  /** The Dockerfile's path in the context. */
  dockerfile: string;
  /** The Dockerfile's text. */
  text: string;
  /** Whether suture writes it into the context (the repository has none). */
  generated: boolean;
  /** Whether a RUN step needs the install network (else the build runs with network none). */
  needsNetwork: boolean;
}

/** The release tag of `commit`. Pure. */
export function releaseTag(service: string, commit: string): string {
  return `suture-release/${service.toLowerCase()}:${commit.slice(0, 12)}`;
}

/**
 * The Dockerfile suture writes when the repository has none: the sandbox image, the tree, the install at
 * build time (as root: it writes outside the tree), then the service's `start` as the sandbox user. Every
 * value is a JSON string in exec form, so no text from suture.yaml can add an instruction. Pure.
 */
export function generatedDockerfile(config: ServiceConfig): string {
  if (!config.start) {
    throw new SutureError(
      'BAD_CONFIG',
      "suture.yaml: start is needed to build the service's release image (or add a Dockerfile, or canary.dockerfile)",
    );
  }
  if (!/^[^\s"]+$/.test(config.image))
    throw new SutureError('BAD_CONFIG', `suture.yaml: image ${JSON.stringify(config.image)} is not an image name`);
  const dir = `/srv/${config.service}`;
  return [
    `FROM ${config.image}`,
    'USER 0:0',
    `COPY . ${dir}`,
    `WORKDIR ${dir}`,
    `RUN ["rm", "-f", ${JSON.stringify(`${dir}/${GENERATED}`)}]`,
    ...(config.install.trim() ? [`RUN ${JSON.stringify(['/bin/sh', '-c', config.install])}`] : []),
    `ENV PORT=${config.port}`,
    `USER ${SANDBOX_USER}`,
    `CMD ${JSON.stringify(['/bin/sh', '-c', config.start])}`,
    '',
  ].join('\n');
}

/** Which Dockerfile to build from the tree `tree` (read confined to it), and whether it needs a network. */
export function imageRecipe(tree: string, config: ServiceConfig): ImageRecipe {
  const source = imageSource(config.image);
  const own =
    config.canary?.dockerfile ??
    (source.kind === 'dockerfile' ? source.path : undefined) ??
    (readInTree(tree, 'Dockerfile', DOCKERFILE_MAX_BYTES).ok ? 'Dockerfile' : undefined);
  if (!own) {
    // Only the install is RUN with a network.
    return {
      dockerfile: GENERATED,
      text: generatedDockerfile(config),
      generated: true,
      needsNetwork: !!config.install.trim(),
    };
  }
  const file = readInTree(tree, own, DOCKERFILE_MAX_BYTES);
  if (!file.ok) throw new SutureError('BAD_CONFIG', `the release Dockerfile ${own} cannot be read: ${file.message}`);
  const text = file.data.toString('utf8');
  return { dockerfile: own, text, generated: false, needsNetwork: /^\s*RUN\b/im.test(text) };
}

/**
 * Builds (or reuses) the release image of `commit` from `tree`, that commit's exported tree (a temp copy:
 * the generated Dockerfile is written into it).
 */
export async function buildReleaseImage(o: {
  tree: string;
  commit: string;
  config: ServiceConfig;
  progress?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}): Promise<ReleaseImage> {
  const tag = releaseTag(o.config.service, o.commit);
  const { tree } = o;
  const recipe = imageRecipe(tree, o.config);
  const baseIds = await localBaseIds(recipe.text, `the release image (${recipe.dockerfile})`);
  const network = recipe.needsNetwork
    ? chooseInstallNetwork(await engineNetworks(), (o.env ?? process.env).SUTURE_PREPARE_NETWORK).network
    : 'none';
  const key = createHash('sha256')
    .update([FORMAT, o.commit, recipe.dockerfile, recipe.text, network, ...baseIds].join('\n'))
    .digest('hex')
    .slice(0, 16);
  const existing = await imageInfo(tag);
  if (existing?.labels[LABEL_RELEASE] === key) return { tag, id: existing.id, built: false };
  if (recipe.generated) {
    // O_EXCL: a repository file of that name is refused, never overwritten or followed.
    const fh = await open(join(tree, GENERATED), 'wx', 0o644).catch(() => {
      throw new SutureError('BAD_INPUT', `the repository holds ${GENERATED}, the name suture builds its image from`);
    });
    await fh.writeFile(recipe.text).finally(() => fh.close());
  }
  o.progress?.(
    `building ${tag} from ${recipe.generated ? `${o.config.image} + start` : recipe.dockerfile}, network ${network}`,
  );
  // The tree as a tar on a pipe: symlinks archived as links (tar without -h follows none).
  const tar = execa('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', tree, '-cf', '-', '.'], {
    buffer: false,
  });
  try {
    await buildImage({
      context: tar.stdout,
      tag,
      dockerfile: recipe.dockerfile,
      labels: { [LABEL_RELEASE]: key, 'dev.suture.release.commit': o.commit },
      network,
    });
  } finally {
    await tar.catch(() => undefined);
  }
  const info = await imageInfo(tag);
  if (!info) throw new SutureError('SANDBOX', `docker build ${tag} reported success but the image is not there`);
  return { tag, id: info.id, built: true };
}
