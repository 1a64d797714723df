/**
 * `suture serve [--port N]`: the long-running HTTP face of suture — /healthz, /metrics, POST /judge for
 * Argo Rollouts' web metric provider. More features join through `serveRoutes` (e.g. POST /alerts).
 */
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { InputError } from '../errors.ts';
import { openRepo } from '../gitops/repo.ts';
import { defaultStateDir } from '../pipeline/audit.ts';
import { heal } from '../pipeline/heal.ts';
import { stderrProgress } from '../pipeline/progress.ts';
import { type AlertsOptions, alertsRoute } from '../serve/alerts.ts';
import { judgeRoute } from '../serve/judge.ts';
import { type RouteRegistrar, startSutureServer } from '../serve/server.ts';

export interface ServeConfig {
  prometheus: string[];
  /** The repo POST /alerts heals; without it /alerts is not served. */
  alerts?: Omit<AlertsOptions, 'heal' | 'progress'>;
}

/** Every feature route of `suture serve`; add a registrar here to serve a new endpoint. */
export function serveRoutes(config: ServeConfig): RouteRegistrar[] {
  const routes = [judgeRoute({ prometheus: config.prometheus })];
  if (config.alerts) routes.push(alertsRoute({ ...config.alerts, heal, progress: stderrProgress('serve') }));
  return routes;
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('HTTP server: /healthz, /metrics, POST /judge (Argo Rollouts web analysis), POST /alerts')
    .option('--port <n>', 'port to listen on', '8080')
    .option('--repo <dir>', 'application repo that POST /alerts (Alertmanager webhook) heals')
    .addOption(
      new Option('--mode <mode>', 'heal mode for alerts').choices(['observe', 'propose', 'auto']).default('propose'),
    )
    .option('--state <dir>', 'state dir for heals started by alerts (default $SUTURE_STATE or ~/.local/state/suture)')
    .option('--no-push', 'do not push branches made for alerts')
    .option('--host <addr>', 'address to listen on (0.0.0.0 inside a cluster)', '127.0.0.1')
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
      const alerts = o.repo
        ? {
            repo: await openRepo(resolve(o.repo)),
            stateDir: resolve(o.state ?? defaultStateDir()),
            mode: o.mode,
            push: o.push,
          }
        : undefined;
      const server = await startSutureServer({
        port,
        host: o.host,
        routes: serveRoutes({ prometheus, ...(alerts ? { alerts } : {}) }),
      });
      if (!alerts) process.stderr.write('suture serve: no --repo, so POST /alerts is off\n');
      process.stderr.write(`suture serve: listening on ${server.url} (${o.host}:${server.port})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      process.stderr.write('suture serve: stopped\n');
    });
}

interface ServeFlags {
  port: string;
  host: string;
  prometheus: string[];
  repo?: string;
  mode: 'observe' | 'propose' | 'auto';
  state?: string;
  push: boolean;
}

function envList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
