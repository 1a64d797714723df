/**
 * `suture demo` as a user runs it: the shortened CI variant of both scenarios ends with exit 0, the
 * promotion, the abort, the MTTR and report paths that exist afterwards; and whether it ends normally or by
 * Ctrl-C, no container and no process it started is left behind.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listContainers } from '../../src/sandbox/docker.ts';
import { cleanup, ROOT, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

function runDemo(
  args: string[],
  state: string,
): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [join(ROOT, 'src', 'main.ts'), 'demo', '--state', state, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    text += c;
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    text += c;
  });
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => text, exit };
}

/** Processes whose command line names the demo's state dir (serve, Prometheus, Alertmanager, heals). */
function processesOf(state: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(state) && !l.includes(' ps '));
}

async function leftovers(state: string) {
  const containers = (await listContainers('dev.suture.demo')).filter((c) => c.labels['dev.suture.demo'] !== 'image');
  return { containers, processes: processesOf(state) };
}

describe('suture demo', () => {
  it('promotes the good fix, aborts and reverts the bad one, prints MTTR and reports, leaves nothing running', async () => {
    const state = tempDir('suture-demo-e2e-');
    made.push(state);
    const run = runDemo(['--short'], state);
    const code = await run.exit;
    const out = run.output();
    expect(out, out).toMatch(/✔ promoted: fixed/);
    expect(out).toMatch(/✔ canary aborted, bump reverted: aborted/);
    const mttr = /MTTR \(first crash → promotion\): ([0-9.]+) s/.exec(out);
    expect(mttr).not.toBeNull();
    const reports = [...out.matchAll(/^report: (.+)$/gm)].map((m) => m[1]!);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    for (const r of reports) expect(existsSync(r), r).toBe(true);
    expect(reports.some((r) => r.endsWith('.html'))).toBe(true);
    expect(code).toBe(0);
    expect(await leftovers(state)).toEqual({ containers: [], processes: [] });
  }, 600_000);

  it('on Ctrl-C in the middle of a heal stops everything it started and exits 130', async () => {
    const state = tempDir('suture-demo-int-');
    made.push(state);
    const run = runDemo(['--scenario', 'good'], state);
    const deadline = Date.now() + 120_000;
    while (!/alert PricingApiErrors firing/.test(run.output()) && Date.now() < deadline && run.child.exitCode === null)
      await new Promise((r) => setTimeout(r, 100));
    expect(run.output()).toMatch(/firing/);
    // the heal is under way (or about to be): serve, a heal, Prometheus, Alertmanager, two containers
    expect(processesOf(state).length).toBeGreaterThan(0);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(130);
    expect(run.output()).toMatch(/demo state kept in/);
    expect(await leftovers(state)).toEqual({ containers: [], processes: [] });
  }, 180_000);
});
