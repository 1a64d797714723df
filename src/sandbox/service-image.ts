/**
 * The image verification starts from. `image:` in suture.yaml names a local image (default: the sandbox
 * image that `sandbox/` builds), or, when it is a path starting with `./`, a Dockerfile of the repository:
 * the service's own image, built at the base revision with the repository root as the build context. Only
 * the base revision's Dockerfile is ever built (a candidate cannot change the image it is verified in),
 * its base images must already be local (nothing is pulled: no registry is assumed), its RUN steps get the
 * install network (prepare.ts: the operator's choice, else a bridge, else the host's) and the host's proxy
 * settings as build arguments, and the result is cached by the build's inputs.
 *
 * Any image other than the bootstrap's sandbox image is checked once per process: a probe runs the
 * driver in it, hardened as for verification, so an image that lacks what the driver needs fails with one
 * clear line instead of a verdict that says the sandbox died. What a sandbox image must provide: README,
 * "Sandbox images".
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { execa } from 'execa';
import type { Limits } from '../config/service.ts';
import { SutureError } from '../errors.ts';
import { readInTree } from './confined.ts';
import { buildImage, imageInfo, runPlan } from './docker.ts';
import { PROXY_VARS } from './install-env.ts';
import type { RunResult } from './plan.ts';

/** Bumped when how service images are built changes, so older builds are not reused. */
const FORMAT = 'service-image-v1';
export const LABEL_SERVICE_IMAGE = 'dev.suture.service-image';
/** Carried by the image `sandbox/build-image.sh` builds: known to satisfy the driver. */
const LABEL_SANDBOX_IMAGE = 'dev.suture.image-hash';
const LABEL_PREPARED = 'dev.suture.prepared';
const DOCKERFILE_MAX_BYTES = 1024 * 1024;
export const REQUIREMENTS =
  'a sandbox image needs python3 (3.9 or newer) on its PATH, /bin/sh, tar and cp (README: "Sandbox images")';

export type ImageSource = { kind: 'image'; name: string } | { kind: 'dockerfile'; path: string };

/**
 * What `image:` names: a Dockerfile of the repository when it starts with `./` (an image reference never
 * does), else an image. A Dockerfile path must stay inside the repository. Pure.
 */
export function imageSource(spec: string): ImageSource {
  if (!spec.startsWith('./')) return { kind: 'image', name: spec };
  const path = posix.normalize(spec.slice(2));
  if (path === '.' || path.startsWith('../') || path === '..' || posix.isAbsolute(path)) {
    throw new SutureError('BAD_CONFIG', `suture.yaml: image: ${spec} must name a Dockerfile inside the repository`);
  }
  return { kind: 'dockerfile', path };
}

/**
 * The images a Dockerfile builds FROM, in order, without its own stage names and `scratch`; `ARG`s declared
 * before the first FROM are substituted with their defaults. Undefined when a base cannot be told (a
 * variable without a default). Pure.
 */
export function baseImages(dockerfile: string): string[] | undefined {
  // Line continuations join; comments and blank lines go.
  const lines = dockerfile
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const args = new Map<string, string>();
  /** `$X` / `${X}` replaced by the ARG defaults known so far; undefined when one is unknown. */
  const substitute = (text: string): string | undefined => {
    let unresolved = false;
    const out = text.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (_m, a?: string, b?: string) => {
        const value = args.get((a ?? b)!);
        if (value === undefined) unresolved = true;
        return value ?? '';
      },
    );
    return unresolved ? undefined : out;
  };
  const stages = new Set<string>();
  const bases: string[] = [];
  let seenFrom = false;
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const word = instruction.toUpperCase();
    if (word === 'ARG' && !seenFrom) {
      for (const decl of rest) {
        const eq = decl.indexOf('=');
        const value = eq > 0 ? substitute(decl.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2')) : undefined;
        if (value !== undefined) args.set(decl.slice(0, eq), value);
      }
    }
    if (word !== 'FROM') continue;
    seenFrom = true;
    const operands = rest.filter((r) => !r.startsWith('--'));
    const raw = operands[0];
    if (!raw) return undefined;
    const image = substitute(raw);
    if (!image) return undefined;
    if (operands[1]?.toUpperCase() === 'AS' && operands[2]) stages.add(operands[2].toLowerCase());
    if (image.toLowerCase() === 'scratch' || stages.has(image.toLowerCase()) || bases.includes(image)) continue;
    // A later stage may name an earlier one only after it was declared: bases are the rest.
    bases.push(image);
  }
  return bases;
}

/**
 * The repository's own image, built from `dockerfile` at the base revision `tree` (cached by the tar of the
 * tree, the Dockerfile path, the base images' ids and the network). Returns its tag.
 */
/**
 * The ids of a Dockerfile's base images, all of which must be here already (base images are never pulled);
 * they key the build, so a rebuilt base makes a new image. `what` names the Dockerfile in errors.
 */
export async function localBaseIds(
  dockerfile: string,
  what: string,
  hint = 'pull or build it first',
): Promise<string[]> {
  const bases = baseImages(dockerfile);
  if (!bases?.length) throw new SutureError('BAD_CONFIG', `${what} has no FROM line whose image can be told`);
  const ids: string[] = [];
  for (const base of bases) {
    const info = await imageInfo(base);
    if (!info) {
      throw new SutureError(
        'BAD_CONFIG',
        `${what} builds FROM ${base}, which is not available locally (base images are never pulled): ${hint}`,
      );
    }
    ids.push(info.id);
  }
  return ids;
}

export async function buildServiceImage(o: {
  tree: string;
  dockerfile: string;
  service: string;
  network: string;
  progress?: (m: string) => void;
}): Promise<string> {
  const spec = `./${o.dockerfile}`;
  const file = readInTree(o.tree, o.dockerfile, DOCKERFILE_MAX_BYTES);
  if (!file.ok) throw new SutureError('BAD_CONFIG', `suture.yaml: image: ${spec} cannot be read: ${file.message}`);
  const baseIds = await localBaseIds(
    file.data.toString('utf8'),
    `suture.yaml: image: ${spec}`,
    'pull or build it first, or name a local image',
  );
  const dir = await mkdtemp(join(tmpdir(), 'suture-context-'));
  try {
    // The build context: the tree as committed (no .git), byte-for-byte reproducible so it can be a key.
    const context = join(dir, 'context.tar');
    await execa('tar', [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--exclude=./.git',
      '-C',
      o.tree,
      '-cf',
      context,
      '.',
    ]);
    const h = createHash('sha256').update([FORMAT, o.dockerfile, o.network, ...baseIds].join('\n'));
    for await (const chunk of createReadStream(context)) h.update(chunk as Buffer);
    const tag = `suture-service:${o.service}-${h.digest('hex').slice(0, 16)}`;
    if (await imageInfo(tag)) return tag;
    o.progress?.(`building ${spec} into ${tag}, network ${o.network}`);
    const buildArgs = Object.fromEntries(
      PROXY_VARS.filter((v) => process.env[v]).map((v) => [v, process.env[v]!] as const),
    );
    await buildImage({
      context: createReadStream(context),
      tag,
      dockerfile: o.dockerfile,
      labels: { [LABEL_SERVICE_IMAGE]: o.service },
      network: o.network,
      buildArgs,
    }).catch((err: Error) => {
      throw new SutureError('BAD_CONFIG', `suture.yaml: image: ${spec}: ${err.message}`);
    });
    return tag;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const checked = new Map<string, Promise<void>>();

/**
 * Throws one clear BAD_CONFIG line when `image` cannot run the sandbox driver (no python3, too old a
 * python3, no sh or tar, …). The bootstrap's sandbox image and prepared images are known good; any other
 * image is probed once per process (by image id).
 */
export async function checkSandboxImage(image: string, limits: Limits): Promise<void> {
  const info = await imageInfo(image);
  if (!info) throw new SutureError('SANDBOX', `sandbox image ${image} is not available`);
  if (info.labels[LABEL_SANDBOX_IMAGE] || info.labels[LABEL_PREPARED]) return;
  let probe = checked.get(info.id);
  if (!probe) {
    probe = probeImage(image, limits);
    checked.set(info.id, probe);
    probe.catch(() => checked.delete(info.id)); // a failed probe is not cached: the image may be rebuilt
  }
  await probe;
}

async function probeImage(image: string, limits: Limits): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'suture-probe-'));
  try {
    await writeFile(join(dir, 'probe.txt'), 'unpacked\n');
    const run = await runPlan({
      image,
      workspace: dir,
      plan: {
        outputBytes: 4096,
        steps: [{ kind: 'run', name: 'probe', command: 'cat probe.txt && id -u', timeoutSec: 20 }],
      },
      limits,
      timeoutMs: 60_000,
      name: 'probe',
    });
    const step = run.results?.[0] as RunResult | undefined;
    const said = (text: string) =>
      text
        .trim()
        .split('\n')
        .filter((l) => l.trim())
        .pop() ?? '';
    let why: string | undefined;
    if (run.setupError) why = run.setupError;
    else if (!step) why = said(run.log) || `the driver did not report (exit ${run.exitCode ?? '?'})`;
    else if (step.exitCode !== 0 || !step.output.startsWith('unpacked'))
      why = said(step.output) || `exit ${step.exitCode}`;
    if (why)
      throw new SutureError('BAD_CONFIG', `image ${image} cannot run the sandbox driver (${why}): ${REQUIREMENTS}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
