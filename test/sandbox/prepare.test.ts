/**
 * Prepare phase: `install` runs once per manifest hash at the base revision, with network, and its result
 * is an image the candidates run in without network; the patched tree's manifests are never installed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type ServiceConfig } from '../../src/config/service.ts';
import { runPlan } from '../../src/sandbox/docker.ts';
import type { RunResult } from '../../src/sandbox/plan.ts';
import { prepareImage } from '../../src/sandbox/prepare.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';

const service = `prep-${process.pid}`;
const made: string[] = [];
afterAll(async () => {
  cleanup(...made);
  const { stdout } = await execa('docker', ['images', '-q', `suture-prepared:${service}-*`]);
  if (stdout.trim()) await execa('docker', ['rmi', '-f', ...stdout.trim().split('\n')], { reject: false });
});

// "Installs" the pinned version into .deps and records what network the install saw.
const INSTALL = `set -e
mkdir -p .deps
v=$(sed -n 's/^greeting==//p' requirements.txt)
echo "VERSION = '$v'" > .deps/greeting.py
ls /sys/class/net | wc -l > .deps/interfaces-at-install
date +%s%N > .deps/installed-at`;

function tree(version: string): string {
  const d = tempDir('suture-prep-');
  made.push(d);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'requirements.txt'), `greeting==${version}\n`);
  writeFileSync(join(d, 'install.sh'), INSTALL);
  writeFileSync(
    join(d, 'app.py'),
    'import sys\nsys.path.insert(0, ".deps")\nfrom greeting import VERSION\nprint(VERSION)\n',
  );
  return d;
}

const config = (install = 'sh install.sh'): ServiceConfig => ({
  service,
  language: 'python',
  image: 'suture-sandbox:bookworm',
  install,
  test: 'true',
  port: 8080,
  health: '/healthz',
  limits: DEFAULT_LIMITS,
});

async function inImage(image: string, workspace: string, command: string): Promise<RunResult> {
  const run = await runPlan({
    image,
    workspace,
    plan: { outputBytes: 4096, steps: [{ kind: 'run', name: 'probe', command, timeoutSec: 20 }] },
    limits: DEFAULT_LIMITS,
    timeoutMs: 60_000,
    name: 'probe',
  });
  return run.results![0] as RunResult;
}

describe('prepare phase', () => {
  it('installs once per manifest hash, with network, and candidates run the base install without network', async () => {
    const base = tree('1.0');
    const image = await prepareImage({ tree: base, config: config() });
    expect(image).toMatch(new RegExp(`^suture-prepared:${service}-[0-9a-f]{16}$`));

    // cached: the same manifests give the same image, not a rebuild
    const id = (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', image])).stdout;
    expect(await prepareImage({ tree: tree('1.0'), config: config() })).toBe(image);
    expect((await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', image])).stdout).toBe(id);

    // a patched tree that bumps the dependency still runs the base install, and has only loopback
    const patched = tree('2.0-evil');
    const probe = await inImage(
      image,
      patched,
      'python3 app.py; cat requirements.txt; ls /sys/class/net | wc -l; cat .deps/interfaces-at-install',
    );
    const [version, requirement, interfaces, atInstall] = probe.output.trim().split('\n');
    expect(version).toBe('1.0');
    expect(requirement).toBe('greeting==2.0-evil');
    expect(interfaces).toBe('1');
    expect(Number(atInstall)).toBeGreaterThan(1);

    // other manifests, other image
    expect(await prepareImage({ tree: tree('1.1'), config: config() })).not.toBe(image);
  });

  it('no install command: the sandbox image itself', async () => {
    expect(await prepareImage({ tree: tree('1.0'), config: config('') })).toBe('suture-sandbox:bookworm');
  });

  it('a failing install is one clear BAD_CONFIG line and leaves no container', async () => {
    await expect(
      prepareImage({ tree: tree('1.0'), config: config('echo "no such package" >&2; exit 3') }),
    ).rejects.toThrow(/install command from suture.yaml failed at the base revision: no such package/);
    const { stdout } = await execa('docker', ['ps', '-aq', '--filter', `label=dev.suture.pid=${process.pid}`]);
    expect(stdout.trim()).toBe('');
  });

  it('a missing sandbox image says how to build it', async () => {
    await expect(
      prepareImage({ tree: tree('1.0'), config: { ...config(), image: 'suture-nope:missing' } }),
    ).rejects.toThrow(/sandbox image suture-nope:missing is not available: run `bash sandbox\/bootstrap.sh`/);
  });
});
