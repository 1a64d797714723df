/**
 * `suture demo`: the whole loop on one machine (src/demo/run.ts). Prints a live step list, the MTTR and
 * the report paths; exits 0 when every scenario ended as it should (the good fix promoted, the bad one
 * aborted), 1 otherwise. Ctrl-C stops everything it started before exiting.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { runDemo, type Scenario } from '../demo/run.ts';
import { InputError } from '../errors.ts';
import { printLines } from './output.ts';

const EXPECTED: Record<Scenario, string> = { good: 'fixed', bad: 'aborted' };

export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description('the whole loop on one machine: alert → heal → merge → canary promoted, then a bad fix aborted')
    .option('--scenario <name>', 'run one scenario: good (fix promoted) or bad (fix aborted, reverted)')
    .option('--short', 'CI variant: tighter time limits')
    .option('--state <dir>', 'where the demo keeps its repos, reports and logs (default: a new temp dir)')
    .action(async (o: { scenario?: string; short?: boolean; state?: string }) => {
      if (o.scenario !== undefined && o.scenario !== 'good' && o.scenario !== 'bad')
        throw new InputError(`--scenario must be good or bad, not ${JSON.stringify(o.scenario)}`);
      const scenarios: Scenario[] = o.scenario ? [o.scenario as Scenario] : ['good', 'bad'];
      const stateDir = o.state ?? mkdtempSync(join(tmpdir(), 'suture-demo-'));
      const controller = new AbortController();
      // Ctrl-C (or a TERM from CI) stops the demo; runDemo's cleanup then stops what it started.
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const out = (s: string) => printLines([s]);
      try {
        const outcomes = await runDemo({
          scenarios,
          stateDir,
          out,
          signal: controller.signal,
          scenarioTimeoutMs: o.short ? 180_000 : 300_000,
        });
        // The good fix must also have been promoted (a merge without a canary is not the loop's end).
        const wrong = outcomes.filter(
          (x) => x.status !== EXPECTED[x.scenario] || (x.scenario === 'good' && x.mttrMs === null),
        );
        if (wrong.length > 0) {
          process.exitCode = 1;
          out(
            `demo: ${wrong.map((x) => `${x.scenario} ended ${x.status}${x.mttrMs === null && x.status === 'fixed' ? ' without a promotion' : ''}, expected ${EXPECTED[x.scenario]}`).join('; ')}`,
          );
        }
      } catch (err) {
        // Interrupted: runDemo has stopped what it started; that is the answer to Ctrl-C, not a failure.
        if (!controller.signal.aborted) throw err;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        if (controller.signal.aborted) {
          out('demo: interrupted; everything it started is stopped');
          process.exitCode = 130;
        }
      }
    });
}
