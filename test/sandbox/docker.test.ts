/**
 * The Docker adapter: sandbox containers get their inputs copied in (nothing of the host is mounted, so a
 * remote DOCKER_HOST works the same) and keep every hardening setting; the archive format it copies with.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config/service.ts';
import { INPUTS, LABEL_ROLE, LABEL_RUN, listContainers, RUN_ID, runPlan } from '../../src/sandbox/docker.ts';
import type { RunResult } from '../../src/sandbox/plan.ts';
import { tarHeader, tarStream } from '../../src/sandbox/tar.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

function tree(): string {
  const d = tempDir('suture-adapter-');
  made.push(d);
  mkdirSync(join(d, 'pkg'));
  writeFileSync(join(d, 'pkg', 'mod.py'), 'X = 1\n');
  writeFileSync(join(d, 'secret-of-the-tree.txt'), 'tree content\n');
  return d;
}

interface Inspect {
  HostConfig: {
    Binds: string[] | null;
    Mounts?: { Type: string; Target: string }[];
    Tmpfs?: Record<string, string>;
    ReadonlyRootfs: boolean;
    PidsLimit: number;
    Memory: number;
    MemorySwap: number;
    CapDrop: string[];
    CapAdd: string[];
    SecurityOpt: string[];
    NetworkMode: string;
  };
  Mounts: { Type: string; Source: string; Destination: string }[];
}

describe('sandbox containers through the adapter', () => {
  it('mount nothing from the host, keep every hardening setting, and keep the driver inputs from the sandbox user', async () => {
    const probe = [
      'ls -d /workspace/pkg /workspace/secret-of-the-tree.txt',
      `cat ${INPUTS}/plan.json >/dev/null 2>&1 && echo PLAN-READABLE || echo plan-refused`,
      `cat ${INPUTS}/tree.tar >/dev/null 2>&1 && echo TREE-READABLE || echo tree-refused`,
      `touch ${INPUTS}/x 2>/dev/null && echo INPUTS-WRITABLE || echo inputs-read-only`,
      'touch /opt/x 2>/dev/null && echo ROOTFS-WRITABLE || echo rootfs-read-only',
      'sleep 2',
    ].join('; ');
    const running = runPlan({
      image: 'suture-sandbox:bookworm',
      workspace: tree(),
      plan: { outputBytes: 4096, steps: [{ kind: 'run', name: 'probe', command: probe, timeoutSec: 20 }] },
      limits: DEFAULT_LIMITS,
      timeoutMs: 60_000,
      name: 'probe',
    });
    let inspect: Inspect | undefined;
    for (let i = 0; i < 100 && !inspect; i++) {
      const mine = (await listContainers(`${LABEL_RUN}=${RUN_ID}`)).filter((c) => c.labels[LABEL_ROLE] === 'sandbox');
      if (mine[0]?.state === 'running') {
        inspect = JSON.parse((await execa('docker', ['inspect', mine[0].id])).stdout)[0] as Inspect;
      } else await new Promise((r) => setTimeout(r, 100));
    }
    const run = await running;
    expect(inspect, 'the container was seen running').toBeDefined();
    const h = inspect!.HostConfig;
    // nothing of the host: no bind at all, only the anonymous inputs volume (and tmpfs)
    expect(h.Binds ?? []).toEqual([]);
    expect(inspect!.Mounts.map((m) => [m.Type, m.Destination])).toEqual([['volume', INPUTS]]);
    expect(Object.keys(h.Tmpfs ?? {}).sort()).toEqual(['/tmp', '/workspace']);
    expect(h.Tmpfs!['/workspace']).toMatch(/size=1073741824,uid=10001,gid=10001/);
    expect({
      readOnly: h.ReadonlyRootfs,
      pids: h.PidsLimit,
      noSwap: h.MemorySwap === h.Memory && h.Memory > 0,
      capDrop: h.CapDrop,
      capAdd: [...h.CapAdd].sort(),
      securityOpt: h.SecurityOpt,
      network: h.NetworkMode,
    }).toEqual({
      readOnly: true,
      pids: DEFAULT_LIMITS.pids,
      noSwap: true,
      capDrop: ['ALL'],
      capAdd: ['KILL', 'SETGID', 'SETUID'],
      securityOpt: ['no-new-privileges'],
      network: 'none',
    });
    const out = (run.results?.[0] as RunResult | undefined)?.output ?? run.log;
    expect(out).toContain('/workspace/secret-of-the-tree.txt');
    expect(out).toContain('plan-refused');
    expect(out).toContain('tree-refused');
    expect(out).toContain('inputs-read-only');
    expect(out).toContain('rootfs-read-only');
  });

  it('a container past its wall-clock limit is reported as timed out and removed while it still runs', async () => {
    const started = Date.now();
    const run = await runPlan({
      image: 'suture-sandbox:bookworm',
      workspace: tree(),
      plan: { outputBytes: 4096, steps: [{ kind: 'run', name: 'sleep', command: 'sleep 60', timeoutSec: 120 }] },
      limits: DEFAULT_LIMITS,
      timeoutMs: 2_000,
      name: 'sleep',
    });
    expect(run.timedOut).toBe(true);
    expect(run.results).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await listContainers(`${LABEL_RUN}=${RUN_ID}`)).toEqual([]);
  });
});

describe('tar writer', () => {
  it('writes root-owned regular files with their modes, contents and streamed files intact', async () => {
    const d = tempDir('suture-tar-');
    made.push(d);
    const big = join(d, 'big.bin');
    const data = Buffer.alloc(70_001, 7);
    writeFileSync(big, data);
    const out = join(d, 'out.tar');
    const chunks: Buffer[] = [];
    for await (const c of tarStream([
      { name: 'a.txt', mode: 0o644, data: Buffer.from('hello\n') },
      { name: 'private.json', mode: 0o600, data: Buffer.from('{}') },
      { name: 'big.bin', mode: 0o600, data: { file: big, size: data.length } },
    ])) {
      chunks.push(c as Buffer);
    }
    writeFileSync(out, Buffer.concat(chunks));
    const listing = (await execa('tar', ['-tvf', out, '--numeric-owner'])).stdout.split('\n');
    expect(listing.map((l) => l.split(/\s+/).slice(0, 3).join(' '))).toEqual([
      '-rw-r--r-- 0/0 6',
      '-rw------- 0/0 2',
      '-rw------- 0/0 70001',
    ]);
    const x = join(d, 'x');
    mkdirSync(x);
    await execa('tar', ['-xf', out, '-C', x]);
    expect((await execa('cat', [join(x, 'a.txt')])).stdout).toBe('hello');
    expect((await execa('cmp', [big, join(x, 'big.bin')])).exitCode).toBe(0);
  });

  it('refuses names that would leave the target directory', () => {
    for (const name of ['/etc/passwd', '../up', 'a/../../b', '', 'x'.repeat(101)]) {
      expect(() => tarHeader(name, 0o644, 0)).toThrow(/bad entry name/);
    }
  });
});
