/**
 * `suture serve [--port N]`: the long-running HTTP face of suture — /healthz, /metrics, POST /judge for
 * Argo Rollouts' web metric provider. More features join through `serveRoutes` (e.g. POST /alerts).
 */
import type { Command } from 'commander';
import { InputError } from '../errors.ts';
import { judgeRoute } from '../serve/judge.ts';
import { type RouteRegistrar, startSutureServer } from '../serve/server.ts';

export interface ServeConfig {
  prometheus: string[];
}

/** Every feature route of `suture serve`; add a registrar here to serve a new endpoint. */
export function serveRoutes(config: ServeConfig): RouteRegistrar[] {
  return [judgeRoute({ prometheus: config.prometheus })];
}

export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('HTTP server: /healthz, /metrics, POST /judge (Argo Rollouts web analysis)')
    .option('--port <n>', 'port to listen on', '8080')
    .option('--host <addr>', 'address to listen on (0.0.0.0 inside a cluster)', '127.0.0.1')
    .option(
      '--prometheus <url>',
      'Prometheus that POST /judge may query (repeatable; the first is the default; env SUTURE_PROMETHEUS_URL)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .action(async (o: { port: string; host: string; prometheus: string[] }) => {
      const port = Number(o.port);
      if (!/^[0-9]+$/.test(o.port) || port > 65535) throw new InputError(`--port must be 0–65535, got ${o.port}`);
      const prometheus = o.prometheus.length > 0 ? o.prometheus : envList(process.env.SUTURE_PROMETHEUS_URL);
      for (const u of prometheus) {
        if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol))
          throw new InputError(`--prometheus must be an http(s) URL, got ${u}`);
      }
      const server = await startSutureServer({ port, host: o.host, routes: serveRoutes({ prometheus }) });
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

function envList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
