/** Test helpers for `suture serve` run as a user runs it: a free port, polling, and the server process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../helpers/repo.ts';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Polls `fn` every 100 ms until it returns something other than undefined (errors count as undefined). */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ServeProcess {
  base: string;
  proc: ChildProcess;
  stderr: () => string;
  /** stderr as the JSON lines `suture serve` logs (throws on a line that is not JSON). */
  logLines: () => Array<Record<string, unknown>>;
  /** SIGTERM, then wait for the exit (SIGKILL after 20 s); resolves with the exit code. */
  stop: () => Promise<number | null>;
}

/** Starts `suture serve --port <free> …args` and waits until /healthz answers. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const port = await freePort();
  const { SUTURE_TOKEN: _, ...inherited } = process.env;
  const proc = spawn(process.execPath, [join(ROOT, 'src', 'main.ts'), 'serve', '--port', String(port), ...args], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  await until('suture serve', async () => {
    if (proc.exitCode !== null) throw new Error(`suture serve exited ${proc.exitCode}: ${err}`);
    return (await fetch(`${base}/healthz`)).ok ? true : undefined;
  });
  return {
    base,
    proc,
    stderr: () => err,
    logLines: () =>
      err
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      // A server that does not stop in 20 s is killed, so a hung one cannot hang the tests.
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      return exited.finally(() => clearTimeout(timer));
    },
  };
}
