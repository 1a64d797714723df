#!/usr/bin/env node
// Process entry point for the `suture` bin: run the CLI and exit with its status.
import { main, reportError } from './cli.ts';
import { terminating } from './sandbox/docker.ts';

/**
 * Resolves once everything written to `stream` so far has left the process (or the stream failed: a
 * closed pipe). Writes to a pipe are asynchronous, so exiting without this cut `--json` output at 64 KiB.
 */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.once('error', () => resolve());
    stream.write('', () => resolve());
  });
}

async function exit(code: number): Promise<void> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  // After SIGINT/SIGTERM the cleanup handler exits (130/143) once the containers are gone; not before.
  if (!terminating()) process.exit(code);
}

// A reader that stops early (`suture … | head`) is not our failure: stop writing and finish as usual.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

main(process.argv).then(exit, (err) => exit(reportError(err)));
