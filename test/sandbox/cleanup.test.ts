/** Cleanup without Ryuk: SIGTERM mid-verification removes the run's containers; stale ones are swept. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepStale } from '../../src/sandbox/docker.ts';
import { cleanup, ROOT, repoFromService, SERVICES, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

async function containersOfPid(pid: number): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-aq', '--filter', `label=dev.suture.pid=${pid}`]);
  return stdout.trim() ? stdout.trim().split('\n') : [];
}

describe('sandbox cleanup', () => {
  it('SIGTERM during verification removes the containers of that run', async () => {
    const repo = await repoFromService('pricing-api');
    const d = tempDir();
    made.push(repo, d);
    const src = readFileSync(join(repo, 'pricing.py'), 'utf8');
    const looping = src.replace('def quote(cart):', 'import time\ntime.sleep(600)\n\n\ndef quote(cart):');
    const patch = join(d, 'slow.diff');
    const { createTwoFilesPatch } = await import('diff');
    writeFileSync(patch, createTwoFilesPatch('a/pricing.py', 'b/pricing.py', src, looping));
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'src', 'main.ts'),
        'verify',
        '--repo',
        repo,
        '--incident',
        join(SERVICES, 'pricing-api', 'incident.json'),
        '--patch',
        patch,
      ],
      {
        stdio: 'ignore',
      },
    );
    const pid = child.pid!;
    let seen: string[] = [];
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await containersOfPid(pid);
    }
    expect(seen.length).toBeGreaterThan(0);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(await containersOfPid(pid)).toEqual([]);
  });

  it('sweeps containers left by a suture process that is gone', async () => {
    const deadPid = 999_999;
    await execa('docker', [
      'create',
      '--label',
      'dev.suture=1',
      '--label',
      `dev.suture.pid=${deadPid}`,
      '--label',
      'dev.suture.run=dead',
      '--network',
      'none',
      'suture-sandbox:bookworm',
      'true',
    ]);
    expect(await containersOfPid(deadPid)).toHaveLength(1);
    expect(await sweepStale()).toBeGreaterThanOrEqual(1);
    expect(await containersOfPid(deadPid)).toEqual([]);
  });
});
