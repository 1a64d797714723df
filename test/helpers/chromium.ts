/**
 * Headless Chromium (Debian's `chromium`, installed by sandbox/bootstrap.d/40-chromium.sh) driven over the
 * Chrome DevTools Protocol on `--remote-debugging-pipe`: JSON messages separated by NUL, commands written to
 * the browser's fd 3, answers and events read from its fd 4. No port, no npm dependency.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--remote-debugging-pipe',
];

/** The chromium binary: $SUTURE_CHROMIUM, else `chromium` / `chromium-browser` on PATH, else null. */
export function findChromium(): string | null {
  const env = process.env.SUTURE_CHROMIUM;
  if (env) return env;
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

export class Browser {
  private readonly proc: ChildProcess;
  private readonly profile: string;
  private readonly out: Writable;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly events: CdpEvent[] = [];
  private readonly listeners = new Set<(e: CdpEvent) => void>();

  private constructor(proc: ChildProcess, profile: string) {
    this.proc = proc;
    this.profile = profile;
    this.out = proc.stdio[3] as Writable;
    let buffer = '';
    (proc.stdio[4] as Readable).setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let end = buffer.indexOf('\0');
      while (end >= 0) {
        this.dispatch(JSON.parse(buffer.slice(0, end)));
        buffer = buffer.slice(end + 1);
        end = buffer.indexOf('\0');
      }
    });
    proc.on('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('chromium exited'));
      this.pending.clear();
    });
  }

  static launch(): Browser {
    const bin = findChromium();
    if (!bin)
      throw new Error('chromium is not installed: run `bash sandbox/bootstrap.sh` (it installs Debian’s chromium)');
    const profile = mkdtempSync(join(tmpdir(), 'suture-chromium-'));
    const proc = spawn(bin, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    });
    return new Browser(proc, profile);
  }

  private dispatch(msg: {
    id?: number;
    result?: unknown;
    error?: { message: string };
    method?: string;
    params?: Record<string, unknown>;
    sessionId?: string;
  }): void {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(`CDP: ${msg.error.message}`));
      else p?.resolve(msg.result);
      return;
    }
    if (msg.method) {
      const e = {
        method: msg.method,
        params: msg.params ?? {},
        ...(msg.sessionId ? { sessionId: msg.sessionId } : {}),
      };
      this.events.push(e);
      for (const l of this.listeners) l(e);
    }
  }

  send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 30_000,
  ): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`CDP ${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.out.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  /** Resolves with the first event matching `pred` (from now on). */
  waitFor(pred: (e: CdpEvent) => boolean, timeoutMs = 30_000): Promise<CdpEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`no matching CDP event in ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (e: CdpEvent) => {
        if (!pred(e)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(e);
      };
      this.listeners.add(listener);
    });
  }

  /** Opens `url` in a new tab of the given size and waits for its load event. */
  async open(url: string, size = { width: 1280, height: 900 }): Promise<Page> {
    const { targetId } = await this.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    for (const m of ['Page.enable', 'Runtime.enable', 'Log.enable']) await this.send(m, {}, sessionId);
    await this.send('Emulation.setDeviceMetricsOverride', { ...size, deviceScaleFactor: 1, mobile: false }, sessionId);
    const loaded = this.waitFor((e) => e.method === 'Page.loadEventFired' && e.sessionId === sessionId);
    await this.send('Page.navigate', { url }, sessionId);
    await loaded;
    return new Page(this, sessionId);
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) resolve();
      else this.proc.once('exit', () => resolve());
    });
    await this.send('Browser.close', {}, undefined, 5_000).catch(() => undefined);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  private readonly browser: Browser;
  readonly sessionId: string;

  constructor(browser: Browser, sessionId: string) {
    this.browser = browser;
    this.sessionId = sessionId;
  }

  /** Evaluates `expression` in the page (DevTools evaluation is not subject to the page's CSP). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.browser.send<{ result: { value?: T }; exceptionDetails?: { text: string } }>(
      'Runtime.evaluate',
      { expression, returnByValue: true },
      this.sessionId,
    );
    if (r.exceptionDetails) throw new Error(`evaluate: ${r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** This page's events so far (console messages, log entries, exceptions). */
  events(): CdpEvent[] {
    return this.browser.events.filter((e) => e.sessionId === this.sessionId);
  }

  /** A PNG of the whole page, written to `path`. */
  async screenshot(path: string): Promise<void> {
    const m = await this.browser.send<{ cssContentSize: { width: number; height: number } }>(
      'Page.getLayoutMetrics',
      {},
      this.sessionId,
    );
    const { width, height } = m.cssContentSize;
    const shot = await this.browser.send<{ data: string }>(
      'Page.captureScreenshot',
      {
        format: 'png',
        captureBeyondViewport: true,
        clip: { x: 0, y: 0, width: Math.ceil(width), height: Math.ceil(height), scale: 1 },
      },
      this.sessionId,
    );
    writeFileSync(path, Buffer.from(shot.data, 'base64'));
  }
}
