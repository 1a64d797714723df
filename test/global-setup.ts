/**
 * Every temp dir the suite makes (test repos, state dirs, the git adapter's shadow dirs, sandbox inputs)
 * lands under one directory that is removed when the run ends, so a run leaves nothing behind in /tmp even
 * when a test or a worker dies before its own cleanup.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'suture-vitest-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
