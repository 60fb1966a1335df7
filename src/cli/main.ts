#!/usr/bin/env node
import { EXIT_CODES, runCli } from './run.js';

// process.exit() and not process.exitCode, because standard input would keep the process alive
// after a signal. It also runs the DiskBuffer's exit hook, which writes any pending batch.
runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`resilient-syslog: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT_CODES.internal);
  },
);
