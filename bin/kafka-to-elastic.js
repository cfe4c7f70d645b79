#!/usr/bin/env node
// Entry point of the `kafka-to-elastic` command; the TypeScript sources are compiled by `npm ci` (prepare),
// and an installed package ships them compiled (dist/src).
// For `run`, SIGTERM/SIGINT are caught before anything else loads: loading the modules takes about a
// second, and a signal in that window must stop the service cleanly (exit 0), not kill it.
const shutdown = new AbortController();
let loaded = false;
if (process.argv[2] === 'run') {
  const onSignal = (signal) => {
    // Nothing has started yet (no group joined, nothing to flush): stop now rather than after loading.
    if (!loaded) {
      process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), signal, msg: 'stopped before starting' })}\n`);
      process.exit(0);
    }
    shutdown.abort(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

const { main } = await import('../dist/src/cli/main.js');
loaded = true;
main(process.argv.slice(2), shutdown.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
