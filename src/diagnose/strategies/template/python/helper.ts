/**
 * The python3 helper process (helper-source.ts): started on first use, fed one JSON line per request,
 * closed when the heal's diagnosis is done. A missing python3 fails the heal with one clear line.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { SutureError } from '../../../../errors.ts';
import type { PyNode } from './ast.ts';
import { HELPER_SOURCE } from './helper-source.ts';

/** Sources bigger than this are not parsed (a generated or vendored file, not the team's code). */
export const MAX_SOURCE = 2 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

export type ParseResult = { ok: true; tree: PyNode } | { ok: false; error: string };

interface Pending {
  resolve: (r: { ok: boolean; tree?: PyNode; error?: string; python?: number[] }) => void;
  reject: (e: Error) => void;
}

export class PythonParser {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private pending = new Map<number, Pending>();
  private next = 1;
  private failure: Error | undefined;
  /** The helper's Python version (minor of 3.x), known after the first answer. */
  hostMinor = 11;

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const python = process.env.SUTURE_PYTHON || 'python3';
    const proc = spawn(python, ['-I', '-S', '-c', HELPER_SOURCE], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    // A helper that failed to start or died: the 'error'/'close' handlers report it, not a stray EPIPE.
    proc.stdin.on('error', () => undefined);
    proc.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    proc.on('error', (err: NodeJS.ErrnoException) => {
      this.fail(
        err.code === 'ENOENT'
          ? new SutureError(
              'SANDBOX',
              `${python} not found on PATH: suture needs python3 (3.8 or newer) to parse Python sources`,
            )
          : new SutureError('SANDBOX', `cannot start ${python}: ${err.message}`),
      );
    });
    proc.on('close', (code) => {
      this.fail(
        new SutureError(
          'SANDBOX',
          `the python3 parser exited (${code ?? 'signal'}): ${stderr.trim().split('\n').pop() ?? ''}`,
        ),
      );
    });
    createInterface({ input: proc.stdout }).on('line', (line) => {
      let msg: { id?: number; ok?: boolean; tree?: PyNode; error?: string; python?: number[] };
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id!);
      if (Array.isArray(msg.python) && msg.python[0] === 3) this.hostMinor = Number(msg.python[1]);
      p.resolve(msg as { ok: boolean });
    });
    this.proc = proc;
    return proc;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    this.proc = undefined;
  }

  private request(body: Record<string, unknown>): Promise<{ ok: boolean; tree?: PyNode; error?: string }> {
    if (this.failure) return Promise.reject(this.failure);
    const proc = this.start();
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SutureError('SANDBOX', 'the python3 parser did not answer in time'));
      }, TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          if (Array.isArray(r.python) && r.python[0] === 3 && Number(r.python[1]) < 8) {
            reject(
              new SutureError(
                'SANDBOX',
                `python3 is 3.${r.python[1]}: suture needs 3.8 or newer to parse Python sources`,
              ),
            );
          } else resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      proc.stdin.write(`${JSON.stringify({ id, ...body })}\n`);
    });
  }

  /** The syntax tree of `source`, or why it does not parse. */
  async parse(source: string, featureVersion?: [number, number]): Promise<ParseResult> {
    if (source.length > MAX_SOURCE) return { ok: false, error: `the file is over ${MAX_SOURCE} characters` };
    const r = await this.request({ source, ...(featureVersion ? { featureVersion } : {}) });
    return r.ok && r.tree ? { ok: true, tree: r.tree } : { ok: false, error: r.error ?? 'unparseable' };
  }

  /** Undefined when `source` parses (at `featureVersion`), else the syntax error. */
  async check(source: string, featureVersion?: [number, number]): Promise<string | undefined> {
    const r = await this.request({ source, checkOnly: true, ...(featureVersion ? { featureVersion } : {}) });
    return r.ok ? undefined : (r.error ?? 'unparseable');
  }

  close(): void {
    const proc = this.proc;
    this.proc = undefined;
    this.failure ??= new SutureError('INTERNAL', 'the python3 parser was closed');
    if (proc) {
      proc.stdin.end();
      proc.kill();
    }
  }
}
