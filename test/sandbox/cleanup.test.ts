/**
 * Cleanup without Ryuk: SIGTERM mid-verification removes the run's containers; stale ones are swept, and
 * only those (the engine may be shared: another host's or a live process's containers are kept).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { buildDemoServiceImage } from '../../src/canary/local/demo-image.ts';
import { sweepStale } from '../../src/sandbox/docker.ts';
import { bootId, hostId, processStartTime } from '../../src/sandbox/ownership.ts';
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

  it("one sweep for every role: a killed process's canary service containers are swept like its sandboxes", async () => {
    await buildDemoServiceImage({ tag: 'suture-canary-demo:healthy', errorRate: 0 });
    const d = tempDir();
    made.push(d);
    // A local rollout, paused indefinitely, in a process of its own (and its own process group, so its
    // Prometheus dies with it).
    const script = join(d, 'rollout.mjs');
    writeFileSync(
      script,
      `import { startLocalRollout } from ${JSON.stringify(join(ROOT, 'src/canary/local/rollout.ts'))};
import { parseRolloutPlan } from ${JSON.stringify(join(ROOT, 'src/canary/local/steps.ts'))};
const plan = parseRolloutPlan(\`apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: { name: sweep }
spec:
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {}
\`);
const image = 'suture-canary-demo:healthy';
const r = await startLocalRollout({ service: 'sweep', plan, stable: { image, version: 'v1' },
  canary: { image, version: 'v2' }, bucketSeconds: 1, analysisTimeoutSeconds: 600 });
console.log('ready ' + r.id);
setInterval(() => {}, 1000);
`,
    );
    const child = spawn(process.execPath, [script], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = child.pid!;
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the rollout did not start in 60 s')), 60_000);
        child.stdout!.on('data', (b: Buffer) => {
          if (b.toString().includes('ready')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      expect(await containersOfPid(pid)).toHaveLength(2); // stable and canary, owned like every container
    } finally {
      process.kill(-pid, 'SIGKILL');
      await exited;
    }
    await sweepStale();
    expect(await containersOfPid(pid)).toEqual([]);
  }, 120_000);

  it('sweeps only containers whose owner is provably gone: this host, and a dead or reused pid', async () => {
    const me = { host: hostId(), boot: bootId() };
    const started = processStartTime(process.pid)!;
    const make = async (name: string, labels: Record<string, string>) => {
      const args = Object.entries({ 'dev.suture': '1', 'dev.suture.run': `test-${name}`, ...labels }).flatMap(
        ([k, v]) => ['--label', `${k}=${v}`],
      );
      const { stdout } = await execa('docker', [
        'create',
        ...args,
        '--network',
        'none',
        'suture-sandbox:bookworm',
        'true',
      ]);
      return stdout.trim();
    };
    const ids = {
      otherHost: await make('other-host', { ...owner('0123456789abcdef', me.boot, 999_999, '1') }),
      legacy: await make('legacy', { 'dev.suture.pid': '999999' }),
      deadPid: await make('dead', owner(me.host, me.boot, 999_999, '1')),
      reusedPid: await make('reused', owner(me.host, me.boot, process.pid, `${started}1`)),
      earlierBoot: await make('boot', owner(me.host, 'an-earlier-boot', process.pid, started)),
      liveOwner: await make('live', owner(me.host, me.boot, process.pid, started)),
    };
    try {
      await sweepStale();
      const { stdout } = await execa('docker', ['ps', '-aq', '--no-trunc', '--filter', 'label=dev.suture']);
      const left = new Set(stdout.trim().split('\n'));
      expect(Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, left.has(id)]))).toEqual({
        otherHost: true,
        legacy: true,
        deadPid: false,
        reusedPid: false,
        earlierBoot: false,
        liveOwner: true,
      });
    } finally {
      await execa('docker', ['rm', '-f', ...Object.values(ids)], { reject: false });
    }
  });
});

function owner(host: string, boot: string, pid: number, started: string): Record<string, string> {
  return {
    'dev.suture.host': host,
    'dev.suture.boot': boot,
    'dev.suture.pid': String(pid),
    'dev.suture.started': started,
  };
}
