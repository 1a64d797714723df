/**
 * `suture demo`: the loop on one machine. Each demo service (test/fixtures/services) is copied into a fresh
 * git repo with a bare `origin`, its captured production incident is healed, and the resulting branch's
 * diff is shown. Needs only what `npm run demo` bootstraps (Docker, the sandbox image).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { execa } from 'execa';
import { heal } from '../pipeline/heal.ts';
import { stderrProgress } from '../pipeline/progress.ts';
import { packageRoot } from '../sandbox/paths.ts';
import { printLines } from './output.ts';

const SERVICES = ['pricing-api', 'orders-api'];

async function git(cwd: string, ...args: string[]): Promise<string> {
  const env = {
    GIT_AUTHOR_NAME: 'demo',
    GIT_AUTHOR_EMAIL: 'demo@example.com',
    GIT_COMMITTER_NAME: 'demo',
    GIT_COMMITTER_EMAIL: 'demo@example.com',
  };
  return (await execa('git', args, { cwd, env })).stdout;
}

export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description('heal the two demo services end to end on this machine')
    .option('--keep', 'keep the temporary repos for inspection')
    .action(async (o: { keep?: boolean }) => {
      const work = mkdtempSync(join(tmpdir(), 'suture-demo-'));
      const out = (s: string) => printLines([s]);
      try {
        for (const service of SERVICES) {
          const src = join(packageRoot(), 'test', 'fixtures', 'services', service);
          const repo = join(work, service);
          const origin = join(work, `${service}.git`);
          cpSync(src, repo, { recursive: true, filter: (p) => !/(incident|scenario)\.json$|__pycache__/.test(p) });
          await execa('git', ['init', '-q', '--bare', origin]);
          await git(repo, 'init', '-q', '-b', 'main');
          await git(repo, 'add', '-A');
          await git(repo, 'commit', '-q', '-m', `${service}: initial import`);
          await git(repo, 'remote', 'add', 'origin', origin);
          await git(repo, 'push', '-q', 'origin', 'main');
          out(`\n== ${service}: healing the captured production crash`);
          const r = await heal({
            repo,
            incidentFile: join(src, 'incident.json'),
            mode: 'propose',
            stateDir: join(work, 'state'),
            push: true,
            progress: stderrProgress('demo'),
          });
          out(`status: ${r.status} — ${r.reason}`);
          if (r.branch && r.commit) {
            out(`branch ${r.branch} pushed to origin (${r.commit.slice(0, 12)}); the fix:`);
            out(await git(repo, 'show', '--stat', '--format=%s', r.branch));
            out(await git(repo, 'diff', 'main', r.branch, '--', r.diagnosis?.location?.file ?? '.'));
          }
          out(`timings (ms): ${JSON.stringify(r.timings)}`);
          out(`report: ${r.report}`);
        }
        if (o.keep) out(`\nrepos kept in ${work}`);
      } finally {
        if (!o.keep) rmSync(work, { recursive: true, force: true });
      }
    });
}
