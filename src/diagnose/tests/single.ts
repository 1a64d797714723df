/**
 * The command that runs just the regression test with the repo's own runner, as the repo's command starts
 * it (launcher, environment, configuration options) but without what selects other tests (paths, patterns,
 * markers) or judges the whole run (coverage thresholds, watch mode). Pure.
 */
import { posix } from 'node:path';
import { type ArgItem, parseArgs } from './args.ts';
import { JEST_OPTIONS, MOCHA_OPTIONS, VITEST_OPTIONS } from './collect-node.ts';
import { PYTEST_OPTIONS, unittestArgs } from './collect-python.ts';
import type { Invocation } from './command.ts';
import { titleMarker } from './render-node.ts';
import { joinWords, shellQuote } from './shell.ts';

export interface SingleTarget {
  /** Repo path of the test file. */
  file: string;
  /** Appended to an existing file: a name filter selects it (the marker in its title, or its pytest node id). */
  append?: { fp: string; pythonName?: string; pythonClass?: string };
}

const quoteAlways = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;

const drop = (items: ArgItem[], names: RegExp) => items.filter((a) => a.opt !== undefined && !names.test(a.opt));
const words = (items: ArgItem[]) => items.flatMap((a) => a.words);

function relToCwd(file: string, cwd: string): string {
  return cwd ? posix.relative(cwd, file) : file;
}

export function singleCommand(inv: Invocation, target: SingleTarget): string {
  const file = relToCwd(target.file, inv.cwd);
  const pre = [...(inv.cwd ? [`cd ${shellQuote(inv.cwd)} &&`] : []), ...inv.env.map(shellQuote)].join(' ');
  // the words that name the test (its file, node id or module) are always quoted, whatever they hold
  const cmd = (parts: string[], named: string[]) =>
    [pre, joinWords(parts), ...named.map(quoteAlways)].filter(Boolean).join(' ');
  const fp = target.append?.fp;
  switch (inv.runner) {
    case 'pytest': {
      const kept = drop(
        parseArgs(inv.args, PYTEST_OPTIONS),
        /^(-k|-m|-n|-q|-x|--numprocesses|--dist|--maxprocesses|--deselect|--ignore|--ignore-glob|--lf|--last-failed|--ff|--failed-first|--sw|--stepwise|--stepwise-skip|--cov.*|--no-cov.*|--junit.*|--html|--alluredir|--json-report.*|--maxfail|--looponfail|-f|--pyargs)$/,
      );
      const id = target.append?.pythonName
        ? `${file}::${target.append.pythonClass ? `${target.append.pythonClass}::` : ''}${target.append.pythonName}`
        : file;
      return cmd([...inv.launcher, ...words(kept), '-q'], [id]);
    }
    case 'unittest': {
      const launcher = inv.launcher;
      if (target.append?.pythonClass) {
        const mod = file.replace(/\.py$/, '').split('/').join('.');
        return cmd(launcher, [`${mod}.${target.append.pythonClass}`]);
      }
      const d = unittestArgs(inv).discovery ?? { start: '.', pattern: 'test*.py' };
      return cmd(
        [...launcher, 'discover', '-s', d.start, ...(d.top ? ['-t', d.top] : []), '-p'],
        [posix.basename(file)],
      );
    }
    case 'node-test': {
      const launcher = inv.launcher.filter(
        (w, i, all) =>
          !/^--(experimental-test-coverage|test-coverage-.*|test-only|watch.*|test-shard.*)$/.test(
            w.replace(/=.*$/, ''),
          ) && !/^--(test-coverage-.*|test-shard|test-reporter-destination)$/.test(all[i - 1] ?? ''),
      );
      return cmd([...launcher, ...(fp ? [`--test-name-pattern=${titleMarker(fp)}`] : [])], [file]);
    }
    case 'jest': {
      const kept = drop(
        parseArgs(inv.args, JEST_OPTIONS),
        /^(--testPathPatterns?|--testPathIgnorePatterns|-t|--testNamePattern|--coverage|--collectCoverage|--collectCoverageFrom|--coverageThreshold|--watch|--watchAll|-o|--onlyChanged|--changedSince|--findRelatedTests|--listTests|--shard|--passWithNoTests|--lastCommit|--runTestsByPath|--selectProjects|--ignoreProjects|--json|--outputFile)$/,
      );
      return cmd([...inv.launcher, ...words(kept), ...(fp ? ['-t', titleMarker(fp)] : []), '--runTestsByPath'], [file]);
    }
    case 'vitest': {
      const kept = drop(
        parseArgs(inv.args, VITEST_OPTIONS),
        /^(-t|--testNamePattern|--coverage.*|--watch|-w|--changed|--shard|--passWithNoTests|--related|--run|--dir|--exclude|--include|--project|--reporter|--outputFile)$/,
      );
      return cmd([...inv.launcher, 'run', ...words(kept), ...(fp ? ['-t', titleMarker(fp)] : [])], [file]);
    }
    case 'mocha': {
      const kept = drop(
        parseArgs(inv.args, MOCHA_OPTIONS),
        /^(--spec|-g|--grep|-f|--fgrep|-i|--invert|-w|--watch|--watch-files|--watch-ignore|--forbid-only|--forbid-pending|-R|--reporter|-O|--reporter-options?|--parallel|-p|-j|--jobs)$/,
      );
      // mocha adds command-line files to its configured spec: the title filter keeps the run to suture's test
      const own = fp ?? suiteFp(target.file);
      return cmd([...inv.launcher, ...words(kept), ...(own ? ['--grep', titleMarker(own)] : [])], [file]);
    }
  }
}

/** The fingerprint in a new test file's name (`suture-<fp>.test.js`), for mocha's title filter. */
function suiteFp(file: string): string | undefined {
  return /^(?:test-)?suture[-_]([0-9a-f]{12})\b/.exec(posix.basename(file))?.[1];
}
