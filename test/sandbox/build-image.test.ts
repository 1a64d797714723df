/**
 * sandbox/build-image.sh chooses where the sandbox image's Debian comes from: debian:bookworm-slim where a
 * registry answers (GitHub-hosted runners, no root), debootstrap where none does (this machine, as root).
 * Run against stand-ins for docker, debootstrap and id that record what they were asked; the real
 * debootstrap path is what `sandbox/bootstrap.sh` runs on every CI machine here.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/repo.ts';

const SCRIPT = join(ROOT, 'sandbox', 'build-image.sh');

/** Stand-ins on PATH; STUB_* variables steer them, every call is appended to calls.log. */
function stubs(): { bin: string; cache: string; calls: () => string[] } {
  const dir = tempDir('suture-build-image-');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'calls.log');
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> "${log}"\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub(
    'docker',
    `case "$1 $2" in
  "image inspect")
    if [ "$3" = -f ]; then [ -n "\${STUB_HAVE:-}" ] && { echo "$STUB_HAVE"; exit 0; }; exit 1; fi
    [ "$3" = suture-base:bookworm ] && [ -n "\${STUB_SUTURE_BASE:-}" ] && exit 0
    exit 1 ;;
  "pull "*) [ "\${STUB_REGISTRY:-0}" = 1 ] && exit 0; echo "dial tcp: lookup registry: no such host" >&2; exit 1 ;;
  "import "*|"build "*) exit 0 ;;
esac
exit 0`,
  );
  stub('debootstrap', 'mkdir -p "$3/etc" "$3/var/lib/apt/lists"; exit 0');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion for the stub, not a JS template
  stub('id', '[ "$1" = -u ] && { echo "${STUB_UID:-0}"; exit 0; }; exec /usr/bin/id "$@"');
  return {
    bin,
    cache: join(dir, 'cache'),
    calls: () => {
      try {
        return readFileSync(log, 'utf8').trim().split('\n');
      } catch {
        return [];
      }
    },
  };
}

async function build(env: Record<string, string>) {
  const s = stubs();
  const r = await execa('bash', [SCRIPT], {
    reject: false,
    env: {
      PATH: `${s.bin}:${process.env.PATH}`,
      SUTURE_CACHE: s.cache,
      SUTURE_DEBIAN_MIRROR: 'http://mirror.invalid/debian',
      SUTURE_SANDBOX_IMAGE: 'suture-sandbox:stub',
      ...env,
    },
  });
  return { ...r, calls: s.calls() };
}

const builds = (calls: string[]) => calls.filter((c) => c.startsWith('docker build'));

describe('sandbox/build-image.sh', () => {
  it('builds on debian:bookworm-slim where a registry answers: no debootstrap, no root', async () => {
    const r = await build({ STUB_REGISTRY: '1', STUB_UID: '1001' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.calls).toContain('docker pull -q debian:bookworm-slim');
    expect(r.calls.some((c) => c.startsWith('debootstrap') || c.startsWith('docker import'))).toBe(false);
    expect(builds(r.calls)).toHaveLength(1);
    expect(builds(r.calls)[0]).toMatch(/--build-arg BASE=debian:bookworm-slim .*-t suture-sandbox:stub /);
    expect(builds(r.calls)[0]).toContain('--label dev.suture.image-source=registry');
  });

  it('debootstraps and imports the base where no registry answers', async () => {
    const r = await build({ STUB_REGISTRY: '0' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.calls).toContain('docker pull -q debian:bookworm-slim');
    expect(r.calls.find((c) => c.startsWith('debootstrap'))).toMatch(
      /^debootstrap --variant=minbase bookworm \S+ http:\/\/mirror\.invalid\/debian$/,
    );
    expect(r.calls.find((c) => c.startsWith('docker import'))).toMatch(
      /rootfs-bookworm-minbase\.tar suture-base:bookworm$/,
    );
    expect(builds(r.calls)[0]).toMatch(
      /--build-arg BASE=suture-base:bookworm .*--label dev\.suture\.image-source=debootstrap/,
    );
  });

  it('without a registry and without root, says what to do', async () => {
    const r = await build({ STUB_REGISTRY: '0', STUB_UID: '1001' });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/needs root \(debootstrap\): run sudo bash sandbox\/bootstrap\.sh/);
    expect(builds(r.calls)).toEqual([]);
  });

  it('keeps an image already built from the same Dockerfile by either path, without probing the registry', async () => {
    const first = await build({ STUB_REGISTRY: '1' });
    const hash = /dev\.suture\.image-hash=(\S+)/.exec(builds(first.calls)[0]!)![1]!;
    const again = await build({ STUB_REGISTRY: '0', STUB_HAVE: hash });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.calls.filter((c) => !c.startsWith('docker image inspect') && !c.startsWith('id'))).toEqual([]);
    // a stale image (another Dockerfile) is rebuilt
    const stale = await build({ STUB_REGISTRY: '1', STUB_HAVE: '0123456789abcdef' });
    expect(builds(stale.calls)).toHaveLength(1);
  });

  it('SUTURE_IMAGE_SOURCE forces a path, and refuses anything else', async () => {
    const forced = await build({ STUB_REGISTRY: '1', SUTURE_IMAGE_SOURCE: 'debootstrap' });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.calls.some((c) => c.startsWith('docker pull'))).toBe(false);
    expect(forced.calls.some((c) => c.startsWith('debootstrap'))).toBe(true);
    const bad = await build({ SUTURE_IMAGE_SOURCE: 'quay' });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/SUTURE_IMAGE_SOURCE must be auto, registry or debootstrap, not quay/);
  });
});
