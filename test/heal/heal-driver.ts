/**
 * `heal` with a provider, in a child process: `node heal-driver.ts REPO INCIDENT STATE PROVIDERS [MODE]`.
 * The CLI chooses its provider from the operator's config; this runs the same pipeline with the tests'
 * file-backed provider (test/gitops/fake-provider.ts) so a test can count proposals across processes, one
 * of them killed with SUTURE_TEST_CRASH_AT. Prints the result as one JSON line.
 */
import { heal, type Mode } from '../../src/pipeline/heal.ts';
import { fakeProvider } from '../gitops/fake-provider.ts';

const [repo, incidentFile, stateDir, providers, mode = 'propose'] = process.argv.slice(2);
if (!repo || !incidentFile || !stateDir || !providers)
  throw new Error('usage: heal-driver REPO INCIDENT STATE PROVIDERS');
const result = await heal({
  repo,
  incidentFile,
  stateDir,
  mode: mode as Mode,
  push: true,
  progress: (line) => process.stderr.write(`${line}\n`),
  provider: fakeProvider(providers),
});
process.stdout.write(`${JSON.stringify(result)}\n`);
