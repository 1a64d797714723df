/**
 * Runs a private Prometheus (the Debian `prometheus` binary) on a free loopback port with a temp data dir,
 * scraping the given targets every `scrapeInterval`. The local rollout backend and the tests use it; the
 * packaged system service is never touched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SutureError } from '../../errors.ts';
import { freePort, waitForHttp } from '../local/ports.ts';

export interface PrometheusServerOptions {
  /** host:port targets, scraped at /metrics. */
  targets: string[];
  scrapeInterval?: string;
  binary?: string;
  port?: number;
  readyTimeoutMs?: number;
}

export interface PrometheusServer {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startPrometheus(opts: PrometheusServerOptions): Promise<PrometheusServer> {
  for (const t of opts.targets) {
    if (!/^[A-Za-z0-9.\-[\]:]+:[0-9]+$/.test(t))
      throw new SutureError('BAD_CONFIG', `not a host:port scrape target: ${t}`);
  }
  const interval = opts.scrapeInterval ?? '1s';
  const port = opts.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'suture-prom-'));
  const config = [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    '  - job_name: suture',
    `    scrape_timeout: ${interval}`,
    '    static_configs:',
    `      - targets: [${opts.targets.map((t) => JSON.stringify(t)).join(', ')}]`,
    '',
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const binary = opts.binary ?? 'prometheus';
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  // If this process exits without stop() (a crash, a killed test worker), do not leave Prometheus behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      process.off('exit', killOnExit);
      resolve();
    }),
  );
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) =>
      reject(
        new SutureError('BAD_CONFIG', `cannot run ${binary}: ${err.message} (run: bash sandbox/bootstrap.sh)`, {
          cause: err,
        }),
      ),
    ),
  );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([
      waitForHttp(`${url}/-/ready`, opts.readyTimeoutMs ?? 20_000),
      spawnError,
      exited.then(() => {
        throw new SutureError('INTERNAL', `prometheus exited at start: ${stderr.trim().split('\n').pop() ?? ''}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, dataDir: dir, stop };
}
