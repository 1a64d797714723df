/**
 * `suture serve [--port N]`: the long-running HTTP face of suture — /healthz, /metrics, POST /judge for
 * Argo Rollouts' web metric provider, POST /alerts for Alertmanager. More features join through
 * `serveRoutes`. Callers authenticate with a bearer token (required beyond loopback).
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { InputError } from '../errors.ts';
import { openRepo } from '../gitops/repo.ts';
import { defaultStateDir } from '../pipeline/audit.ts';
import {
  type AlertsOptions,
  alertsRoute,
  DEFAULT_ALERT_LIMITS,
  DEFAULT_RETENTION,
  prepareAlerts,
} from '../serve/alerts.ts';
import { isLoopbackHost } from '../serve/auth.ts';
import { judgeRoute } from '../serve/judge.ts';
import { jsonLogger, type Logger } from '../serve/log.ts';
import { type RouteRegistrar, startSutureServer } from '../serve/server.ts';

export interface ServeConfig {
  prometheus: string[];
  /** The repo POST /alerts heals; without it /alerts is not served. */
  alerts?: Omit<AlertsOptions, 'log'>;
}

/** Every feature route of `suture serve`; add a registrar here to serve a new endpoint. */
export function serveRoutes(config: ServeConfig, log: Logger): RouteRegistrar[] {
  const routes = [judgeRoute({ prometheus: config.prometheus })];
  if (config.alerts) routes.push(alertsRoute({ ...config.alerts, log }));
  return routes;
}

export function registerServeCommands(program: Command): void {
  const d = DEFAULT_ALERT_LIMITS;
  program
    .command('serve')
    .description('HTTP server: /healthz, /metrics, POST /judge (Argo Rollouts web analysis), POST /alerts')
    .option('--port <n>', 'port to listen on', '8080')
    .option('--host <addr>', 'address to listen on (0.0.0.0 inside a cluster; needs a token)', '127.0.0.1')
    .option('--token-file <file>', 'file holding the bearer token callers must send (or env SUTURE_TOKEN)')
    .option('--repo <dir>', 'application repo that POST /alerts (Alertmanager webhook) heals')
    .addOption(
      new Option('--mode <mode>', 'heal mode for alerts').choices(['observe', 'propose', 'auto']).default('propose'),
    )
    .option('--state <dir>', 'state dir for heals started by alerts (default $SUTURE_STATE or ~/.local/state/suture)')
    .option('--no-push', 'do not push branches made for alerts')
    .option('--max-alerts <n>', 'alerts one POST /alerts may carry', String(d.maxAlerts))
    .option('--queue-size <n>', 'alerts that may wait for a heal before POST /alerts answers 429', String(d.queueSize))
    .option('--max-heals <n>', 'heals running at once', String(d.concurrency))
    .option('--heal-timeout <minutes>', 'stop a heal still running after this', String(d.healTimeoutMs / 60_000))
    .option('--keep-incidents <n>', 'incident files kept after their heals', String(DEFAULT_RETENTION.keep))
    .option(
      '--keep-incidents-days <d>',
      'incident files older than this are removed',
      String(DEFAULT_RETENTION.maxAgeMs / 86_400_000),
    )
    .option(
      '--prometheus <url>',
      'Prometheus that POST /judge may query (repeatable; the first is the default; env SUTURE_PROMETHEUS_URL)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action(async (o: ServeFlags) => {
      const port = Number(o.port);
      if (!/^[0-9]+$/.test(o.port) || port > 65535) throw new InputError(`--port must be 0–65535, got ${o.port}`);
      const prometheus = o.prometheus.length > 0 ? o.prometheus : envList(process.env.SUTURE_PROMETHEUS_URL);
      for (const u of prometheus) {
        if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol))
          throw new InputError(`--prometheus must be an http(s) URL, got ${u}`);
      }
      // What the server says goes out as JSON lines (src/serve/log.ts); bad usage stays one plain line.
      const log = jsonLogger();
      const token = await loadToken(o.tokenFile, log);
      const retention = {
        keep: count('--keep-incidents', o.keepIncidents, 0, 100_000),
        maxAgeMs: count('--keep-incidents-days', o.keepIncidentsDays, 0, 3650) * 86_400_000,
      };
      const limits = {
        maxAlerts: count('--max-alerts', o.maxAlerts, 1, 1000),
        queueSize: count('--queue-size', o.queueSize, 1, 10_000),
        concurrency: count('--max-heals', o.maxHeals, 1, 16),
        healTimeoutMs: count('--heal-timeout', o.healTimeout, 1, 24 * 60) * 60_000,
      };
      let alerts: ServeConfig['alerts'];
      if (o.repo) {
        const stateDir = resolve(o.state ?? defaultStateDir());
        alerts = {
          repo: await openRepo(resolve(o.repo)),
          stateDir,
          mode: o.mode,
          push: o.push,
          limits,
          retention,
        };
        await prepareAlerts(stateDir, retention);
      }
      const server = await startSutureServer({
        port,
        host: o.host,
        ...(token !== undefined ? { token } : {}),
        routes: serveRoutes({ prometheus, ...(alerts ? { alerts } : {}) }, log),
      });
      if (token === undefined && isLoopbackHost(o.host)) {
        log.warn(
          'no token (--token-file or SUTURE_TOKEN): any local process, containers on the host network included, may call POST /alerts, POST /judge and /metrics',
        );
      }
      if (!alerts) log.info('no --repo, so POST /alerts is off');
      log.info(`listening on ${server.url} (${o.host}:${server.port})`, { url: server.url });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      log.info('stopped');
    });
}

interface ServeFlags {
  port: string;
  host: string;
  tokenFile?: string;
  prometheus: string[];
  repo?: string;
  mode: 'observe' | 'propose' | 'auto';
  state?: string;
  push: boolean;
  maxAlerts: string;
  queueSize: string;
  maxHeals: string;
  healTimeout: string;
  keepIncidents: string;
  keepIncidentsDays: string;
}

/**
 * The bearer token: from --token-file (as Kubernetes mounts a Secret; surrounding whitespace trimmed, as
 * Prometheus trims `credentials_file`), else SUTURE_TOKEN, else none. Its format is checked by the server.
 */
async function loadToken(file: string | undefined, log: Logger): Promise<string | undefined> {
  if (file === undefined) {
    const env = process.env.SUTURE_TOKEN;
    if (env === undefined) return undefined;
    if (env.trim() === '') throw new InputError('SUTURE_TOKEN is set but empty');
    return env.trim();
  }
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) throw new InputError(`--token-file ${file}: not a readable file`);
  if (st.size > 4096) throw new InputError(`--token-file ${file}: larger than 4 KiB, not a token`);
  const token = (await readFile(file, 'utf8')).trim();
  if (!token) throw new InputError(`--token-file ${file} is empty`);
  if ((st.mode & 0o077) !== 0) {
    const mode = (st.mode & 0o777).toString(8);
    log.warn(`${file} is readable by others (mode ${mode}): chmod 600 it`);
  }
  return token;
}

function count(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || n < min || n > max) throw new InputError(`${flag} must be ${min}–${max}, got ${v}`);
  return n;
}

function envList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
