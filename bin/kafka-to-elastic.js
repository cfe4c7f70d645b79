#!/usr/bin/env node
// Entry point of the `kafka-to-elastic` command; the TypeScript sources are compiled by `npm ci` (prepare).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
