/**
 * `image: ./Dockerfile`: the service's own image, built locally from its Dockerfile at the base revision
 * when its base image is here, cached, and checked for what the sandbox driver needs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type ServiceConfig } from '../../src/config/service.ts';
import { runPlan } from '../../src/sandbox/docker.ts';
import type { RunResult } from '../../src/sandbox/plan.ts';
import { prepareImage } from '../../src/sandbox/prepare.ts';
import { baseImages, imageSource } from '../../src/sandbox/service-image.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';

const service = `svc-image-${process.pid}`;
const made: string[] = [];
afterAll(async () => {
  cleanup(...made);
  const { stdout } = await execa('docker', ['images', '-q', '--filter', `label=dev.suture.service-image=${service}`]);
  if (stdout.trim()) await execa('docker', ['rmi', '-f', ...new Set(stdout.trim().split('\n'))], { reject: false });
});

function repo(dockerfile: string, extra: Record<string, string> = {}): string {
  const d = tempDir('suture-svc-image-');
  made.push(d);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'Dockerfile'), dockerfile);
  writeFileSync(join(d, 'app.py'), 'print("app")\n');
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(d, name), text);
  return d;
}

const config = (image: string): ServiceConfig => ({
  service,
  language: 'python',
  image,
  install: '',
  test: 'true',
  port: 8080,
  health: '/healthz',
  limits: DEFAULT_LIMITS,
});

async function probe(image: string, command: string): Promise<string> {
  const run = await runPlan({
    image,
    workspace: repo('FROM scratch\n'),
    plan: { outputBytes: 4096, steps: [{ kind: 'run', name: 'probe', command, timeoutSec: 20 }] },
    limits: DEFAULT_LIMITS,
    timeoutMs: 60_000,
    name: 'probe',
  });
  return (run.results?.[0] as RunResult | undefined)?.output.trim() ?? run.log;
}

describe('what image: names', () => {
  it('a path starting with ./ is a Dockerfile of the repository, anything else an image', () => {
    expect(imageSource('suture-sandbox:bookworm')).toEqual({ kind: 'image', name: 'suture-sandbox:bookworm' });
    expect(imageSource('./Dockerfile')).toEqual({ kind: 'dockerfile', path: 'Dockerfile' });
    expect(imageSource('./docker/app.Dockerfile')).toEqual({ kind: 'dockerfile', path: 'docker/app.Dockerfile' });
    for (const bad of ['./', './..', './../x/Dockerfile', './a/../../Dockerfile']) {
      expect(() => imageSource(bad), bad).toThrow(/must name a Dockerfile inside the repository/);
    }
  });

  it("a Dockerfile's base images: ARG defaults substituted, its own stages and scratch left out", () => {
    expect(
      baseImages(`# syntax comment
ARG PY=3.11
ARG BASE="python:\${PY}-slim"
FROM --platform=linux/amd64 $BASE AS build
RUN pip wheel . \\
    -w /wheels
FROM build AS test
FROM scratch AS empty
FROM debian:bookworm
COPY --from=build /wheels /wheels
`),
    ).toEqual(['python:3.11-slim', 'debian:bookworm']);
    expect(baseImages(`ARG TAG\nFROM node:\${TAG}\n`)).toBeUndefined();
    expect(baseImages('RUN true\n')).toEqual([]);
  });
});

describe('the service image built from its Dockerfile', () => {
  it('is built at the base revision, cached by its inputs, and verification runs in it', async () => {
    const dockerfile = `FROM suture-sandbox:bookworm
USER root
RUN mkdir -p /srv/app && echo from-the-dockerfile > /srv/app/marker
COPY app.py /srv/app/app.py
USER 10001
`;
    const first = await prepareImage({ tree: repo(dockerfile), config: config('./Dockerfile') });
    expect(first.image).toMatch(new RegExp(`^suture-service:${service}-[0-9a-f]{16}$`));
    // its RUN steps had the install network, reported like an install's (this engine has no bridge)
    expect(first.installNetwork).toBe('host');
    expect(await probe(first.image, 'cat /srv/app/marker /srv/app/app.py')).toBe('from-the-dockerfile\nprint("app")');

    const id = (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', first.image])).stdout;
    expect(await prepareImage({ tree: repo(dockerfile), config: config('./Dockerfile') })).toEqual(first);
    expect((await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', first.image])).stdout).toBe(id);
    // another revision of the tree is another build
    const other = await prepareImage({
      tree: repo(dockerfile, { 'more.py': 'X = 2\n' }),
      config: config('./Dockerfile'),
    });
    expect(other.image).not.toBe(first.image);
  }, 180_000);

  it('needs no sandbox user, no /workspace and no particular entrypoint', async () => {
    const bare = `FROM suture-sandbox:bookworm
USER root
RUN userdel sandbox && rm -rf /workspace
ENTRYPOINT ["sh", "-c", "exit 9"]
`;
    const { image } = await prepareImage({ tree: repo(bare), config: config('./Dockerfile') });
    expect(await probe(image, 'id -u; ls app.py; getent passwd 10001 || echo no-account')).toBe(
      '10001\napp.py\nno-account',
    );
  }, 180_000);

  it("an image's Python environment cannot run code in the driver (PYTHONPATH, sitecustomize)", async () => {
    const hijack = `FROM suture-sandbox:bookworm
USER root
RUN mkdir /hijack && echo 'raise SystemExit("hijacked by PYTHONPATH")' > /hijack/json.py \\
 && echo 'raise SystemExit("hijacked by sitecustomize")' > /usr/lib/python3/dist-packages/sitecustomize.py
ENV PYTHONPATH=/hijack PYTHONSTARTUP=/hijack/json.py
USER 10001
`;
    const { image } = await prepareImage({ tree: repo(hijack), config: config('./Dockerfile') });
    expect(await probe(image, 'echo driver-intact')).toBe('driver-intact');
  }, 180_000);

  it('an image without python3 fails with one line that says what a sandbox image needs', async () => {
    // suture-base is the bare debootstrapped Debian the sandbox image starts from: no python3 in it.
    await expect(
      prepareImage({
        tree: repo('FROM suture-base:bookworm\nCOPY app.py /srv/app.py\n'),
        config: config('./Dockerfile'),
      }),
    ).rejects.toThrow(/cannot run the sandbox driver \(.*python3.*\): a sandbox image needs python3 \(3.9 or newer\)/);
  }, 120_000);

  it('a base image that is not here is named, and nothing is pulled', async () => {
    await expect(
      prepareImage({
        tree: repo('FROM python:3.12-slim-suture-absent\nCOPY . /app\n'),
        config: config('./Dockerfile'),
      }),
    ).rejects.toThrow(
      /builds FROM python:3.12-slim-suture-absent, which is not available locally \(base images are never pulled\)/,
    );
  });

  it("a failing build says which step failed, in the builder's words", async () => {
    await expect(
      prepareImage({
        tree: repo('FROM suture-sandbox:bookworm\nRUN echo about to fail && exit 3\n'),
        config: config('./Dockerfile'),
      }),
    ).rejects.toThrow(/image: \.\/Dockerfile: docker build .* failed: .*returned a non-zero code: 3/);
  }, 120_000);
});
