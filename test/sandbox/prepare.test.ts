/**
 * Prepare phase: `install` runs once per repository and manifest hash at the base revision, with network,
 * and what it produced (never a file of the tree) is an image the candidates run in without network; the
 * patched tree's manifests are never installed. The verdict says which network install had.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type ServiceConfig } from '../../src/config/service.ts';
import { runPlan } from '../../src/sandbox/docker.ts';
import type { RunResult } from '../../src/sandbox/plan.ts';
import { installError, prepareImage } from '../../src/sandbox/prepare.ts';
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

function tree(version: string, extra: Record<string, string> = {}): string {
  const d = tempDir('suture-prep-');
  made.push(d);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'requirements.txt'), `greeting==${version}\n`);
  writeFileSync(join(d, 'install.sh'), INSTALL);
  writeFileSync(
    join(d, 'app.py'),
    'import sys\nsys.path.insert(0, ".deps")\nfrom greeting import VERSION\nprint(VERSION)\n',
  );
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(d, name), text);
  return d;
}

/** `find` run in the image itself (no driver, no volume): what its filesystem holds. */
async function findIn(image: string, ...args: string[]): Promise<string[]> {
  const { stdout } = await execa('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'find',
    image,
    ...args,
  ]);
  return stdout.trim() ? stdout.trim().split('\n').sort() : [];
}

/** Every file of an image outside the system: its /workspace and the kept install output. */
function filesOf(image: string): Promise<string[]> {
  return findIn(image, '/workspace', '/opt/suture-deps', '-type', 'f');
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
    const { image, installNetwork } = await prepareImage({ tree: base, config: config(), repoId: 'repo-a' });
    expect(image).toMatch(new RegExp(`^suture-prepared:${service}-[0-9a-f]{16}$`));
    // this engine has no bridge network: install had the host's, and says so (on the image too)
    expect(installNetwork).toBe('host');
    expect(
      (
        await execa('docker', [
          'image',
          'inspect',
          '-f',
          '{{index .Config.Labels "dev.suture.install-network"}}',
          image,
        ])
      ).stdout,
    ).toBe('host');

    // cached: the same repo and manifests give the same image, not a rebuild
    const id = (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', image])).stdout;
    expect(await prepareImage({ tree: tree('1.0'), config: config(), repoId: 'repo-a' })).toEqual({
      image,
      installNetwork: 'host',
    });
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
    expect((await prepareImage({ tree: tree('1.1'), config: config(), repoId: 'repo-a' })).image).not.toBe(image);
  });

  it('keeps only what install produced, per repository: no file of one repo or revision shows up in another', async () => {
    // Two repos, same service name and manifests, different files.
    const a = tree('1.0', { 'only-in-a.py': 'SECRET_A = 1\n' });
    const b = tree('1.0', { 'only-in-b.py': 'B = 1\n' });
    const imageA = (await prepareImage({ tree: a, config: config(), repoId: 'repo-a' })).image;
    const imageB = (await prepareImage({ tree: b, config: config(), repoId: 'repo-b' })).image;
    expect(imageB).not.toBe(imageA);
    // The prepared image holds install's output and no source file at all.
    for (const image of [imageA, imageB]) {
      const files = await filesOf(image);
      expect(files).toContain('/opt/suture-deps/.deps/greeting.py');
      expect(files.filter((f) => /\.(py|txt|sh)$/.test(f) && !f.includes('/.deps/'))).toEqual([]);
    }
    const inB = await inImage(imageB, b, 'ls; python3 app.py');
    expect(inB.output).not.toContain('only-in-a');
    expect(inB.output).toContain('only-in-b.py');
    expect(inB.output.trim().split('\n').pop()).toBe('1.0');

    // A later revision of repo A deletes a file: same manifests, same cached image, and the file is gone.
    const a2 = tree('1.0');
    expect((await prepareImage({ tree: a2, config: config(), repoId: 'repo-a' })).image).toBe(imageA);
    const inA2 = await inImage(imageA, a2, 'test -e only-in-a.py && echo LINGERS || echo GONE');
    expect(inA2.output.trim()).toBe('GONE');
  });

  it('an isolated install network (SUTURE_PREPARE_NETWORK) is used, recorded and reported from the cache', async () => {
    process.env.SUTURE_PREPARE_NETWORK = 'none';
    try {
      const first = await prepareImage({ tree: tree('3.0'), config: config(), repoId: 'repo-net' });
      expect(first.installNetwork).toBe('isolated');
      const interfaces = await inImage(first.image, tree('3.0'), 'cat .deps/interfaces-at-install');
      expect(interfaces.output.trim()).toBe('1');
      expect(await prepareImage({ tree: tree('3.0'), config: config(), repoId: 'repo-net' })).toEqual(first);
    } finally {
      delete process.env.SUTURE_PREPARE_NETWORK;
    }
    // the network is part of the key: the host-network build is another image, reported as such
    const host = await prepareImage({ tree: tree('3.0'), config: config(), repoId: 'repo-net' });
    expect(host.installNetwork).toBe('host');
  });

  it("install gets the operator's proxy settings and CA bundle; the prepared image keeps neither", async () => {
    const ca = join(tempDir('suture-ca-'), 'corp-ca.pem');
    made.push(join(ca, '..'));
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIcorporate\n-----END CERTIFICATE-----\n');
    const saved = { ...process.env };
    Object.assign(process.env, {
      SUTURE_CA_BUNDLE: ca,
      HTTPS_PROXY: 'http://proxy.corp.invalid:3128',
      NO_PROXY: 'localhost,.corp.invalid',
    });
    const record = `set -e
mkdir -p .deps
echo "$HTTPS_PROXY" > .deps/proxy
echo "$NO_PROXY" > .deps/no-proxy
cat "$SSL_CERT_FILE" > .deps/ca-seen
test "$PIP_CERT" = "$SSL_CERT_FILE" && test "$npm_config_cafile" = "$SSL_CERT_FILE" && echo same > .deps/ca-vars`;
    let image: string;
    try {
      ({ image } = await prepareImage({ tree: tree('4.0', { 'record.sh': record }), config: config('sh record.sh') }));
    } finally {
      process.env = saved;
    }
    const seen = await inImage(image, tree('4.0'), 'cat .deps/proxy .deps/no-proxy .deps/ca-vars .deps/ca-seen');
    expect(seen.output.trim().split('\n')).toEqual([
      'http://proxy.corp.invalid:3128',
      'localhost,.corp.invalid',
      'same',
      '-----BEGIN CERTIFICATE-----',
      'MIIcorporate',
      '-----END CERTIFICATE-----',
    ]);
    // Not in the image's configuration (code under test would see it) nor anywhere in its filesystem.
    const env = (await execa('docker', ['image', 'inspect', '-f', '{{json .Config.Env}}', image])).stdout;
    expect(env).not.toMatch(/PROXY|proxy|SSL_CERT_FILE|PIP_CERT|cafile/);
    expect((await filesOf(image)).filter((f) => !f.includes('/.deps/'))).toEqual([]);
    expect(await findIn(image, '/', '-xdev', '-name', 'ca-bundle.pem')).toEqual([]);
  });

  it('no install command: the sandbox image itself, and no install network', async () => {
    expect(await prepareImage({ tree: tree('1.0'), config: config('') })).toEqual({
      image: 'suture-sandbox:bookworm',
      installNetwork: null,
    });
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

describe('why an install failed', () => {
  it("is its last line, not npm's pointer to a debug log", () => {
    const npm = `npm ERR! code E404
npm ERR! 404 Not Found - GET https://registry.npmjs.org/nope - Not found

npm ERR! A complete log of this run can be found in:
npm ERR!     /workspace/.home/.npm/_logs/2026-11-27T16_50_05_830Z-debug-0.log
`;
    expect(installError(npm)).toBe('npm ERR! 404 Not Found - GET https://registry.npmjs.org/nope - Not found');
    expect(installError('ERROR: No matching distribution found for nope==1\n')).toBe(
      'ERROR: No matching distribution found for nope==1',
    );
  });

  it('says what to do when a registry certificate was not trusted (a TLS-inspecting proxy)', () => {
    const pip = `WARNING: Retrying (Retry(total=4)) after connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain'))': /simple/flask/
ERROR: No matching distribution found for Flask==3.0.3`;
    expect(installError(pip)).toMatch(
      /^ERROR: No matching distribution found for Flask==3.0.3 \(a registry's TLS certificate was not trusted: set SUTURE_CA_BUNDLE/,
    );
  });
});
