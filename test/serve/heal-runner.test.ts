/**
 * The heal child process: its result is read whole however large (it used to arrive cut past 64 KiB
 * through a pipe), a heal past its timeout or on shutdown is stopped (SIGTERM, then SIGKILL), and the
 * server's token does not reach it. A stand-in program plays the heal.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHealProcess } from '../../src/serve/heal-runner.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';

const dir = tempDir('suture-heal-runner-');
afterAll(() => cleanup(dir));

/** Runs `script` (a Node ES module) as the heal, with the heal's usual arguments after it. */
function run(script: string, extra: { timeoutMs?: number; graceMs?: number; signal?: AbortSignal } = {}) {
  const path = join(dir, `heal-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(path, script);
  const incidentFile = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(incidentFile, '{}');
  const lines: string[] = [];
  const done = runHealProcess({
    repo: dir,
    incidentFile,
    mode: 'observe',
    stateDir: dir,
    push: false,
    timeoutMs: extra.timeoutMs ?? 30_000,
    graceMs: extra.graceMs ?? 10_000,
    ...(extra.signal ? { signal: extra.signal } : {}),
    onLine: (l) => lines.push(l),
    command: [process.execPath, path],
  });
  return { done, lines };
}

describe('heal child process', () => {
  it('reads a large --json result whole, even when the heal exits right after printing it', async () => {
    // status and branch come last: a cut result does not parse
    const big = 'x'.repeat(400_000);
    const { done, lines } = run(
      `process.stderr.write('[suture] step one\\n'); process.stdout.write(JSON.stringify({ candidates: ['${big}'], status: 'proposed', reason: 'ok', branch: 'suture/abc' }) + '\\n'); process.exit(0);`,
    );
    expect(await done).toEqual({ status: 'proposed', detail: 'ok', branch: 'suture/abc', canary: null });
    expect(lines).toEqual(['[suture] step one']);
    // the result file is gone once read
    expect(readdirSync(dir).filter((f) => f.endsWith('.out'))).toEqual([]);
  });

  it('passes the heal arguments and not the server token', async () => {
    process.env.SUTURE_TOKEN = 'server-token-0123456789';
    try {
      const { done } = run(
        `process.stdout.write(JSON.stringify({ status: 'observed', reason: JSON.stringify([process.env.SUTURE_TOKEN ?? null, process.argv.slice(2)]) }));`,
      );
      const [token, args] = JSON.parse((await done).detail) as [string | null, string[]];
      expect(token).toBeNull();
      expect(args).toEqual(expect.arrayContaining(['heal', '--json', '--no-push', '--mode', 'observe']));
    } finally {
      delete process.env.SUTURE_TOKEN;
    }
  });

  it('stops a heal past its timeout, with SIGKILL when SIGTERM is ignored', async () => {
    const t0 = Date.now();
    const { done } = run(`process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`, {
      timeoutMs: 500,
      graceMs: 500,
    });
    expect(await done).toMatchObject({ status: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('stops a heal when the server shuts down', async () => {
    const ctrl = new AbortController();
    const { done } = run(`setInterval(() => {}, 1000);`, { signal: ctrl.signal });
    setTimeout(() => ctrl.abort(), 300);
    expect(await done).toMatchObject({ status: 'stopped' });
  });

  it('a heal that refuses its input (exit 2) is bad_input with its one line', async () => {
    const { done } = run(`process.stderr.write('suture: incident: no service label\\n'); process.exit(2);`);
    expect(await done).toEqual({ status: 'bad_input', detail: 'incident: no service label' });
  });
});
