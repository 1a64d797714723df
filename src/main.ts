#!/usr/bin/env node
// Process entry point for the `suture` bin: run the CLI and exit with its status.
import { main, reportError } from './cli.ts';
import { terminating } from './sandbox/docker.ts';

// After SIGINT/SIGTERM the cleanup handler exits (130/143) once the containers are gone; not before.
main(process.argv).then(
  (code) => terminating() || process.exit(code),
  (err) => terminating() || process.exit(reportError(err)),
);
