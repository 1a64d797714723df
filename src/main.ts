#!/usr/bin/env node
// Process entry point for the `suture` bin: run the CLI and exit with its status.
import { main, reportError } from './cli.ts';

main(process.argv).then(
  (code) => process.exit(code),
  (err) => process.exit(reportError(err)),
);
