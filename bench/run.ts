/**
 * `npm run bench`: runs every bench/<area>.ts (each exports `run(): Promise<void>` and prints its own table),
 * or only the areas named on the command line: `npm run bench -- sandbox policy`.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const areas = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((a) => wanted.length === 0 || wanted.includes(a))
  .sort();

let failed = 0;
for (const area of areas) {
  process.stdout.write(`\n## bench: ${area}\n\n`);
  const started = performance.now();
  try {
    const mod = (await import(join(here, `${area}.ts`))) as { run: () => Promise<void> };
    await mod.run();
  } catch (err) {
    failed++;
    process.stdout.write(`bench ${area} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.stdout.write(`\n(${area}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
process.exit(failed ? 1 : 0);
