// Runs the service in a worker thread with a capped V8 heap. The pipeline creates short-lived garbage
// at a high rate; with Node's default (very large) heap limit V8 lets it pile up to hundreds of MB
// before collecting. A cap keeps RSS bounded whatever the backlog (see docs/decisions.md).
// The main thread only forwards SIGTERM/SIGINT and reports the worker's exit code.
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Config } from '../config/schema.js';

/**
 * @param shutdown aborted (with the signal's name) to stop the service; without it, this process's
 *   own SIGTERM/SIGINT are forwarded. A signal that came before the worker exists is forwarded at once.
 */
export async function runInWorker(config: Config, maxHeapMb: number, shutdown?: AbortSignal): Promise<number> {
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: config, resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
  const forward = (signal: string): void => worker.postMessage({ shutdown: signal });
  const onAbort = (): void => forward(String(shutdown!.reason));
  if (shutdown?.aborted) onAbort();
  else if (shutdown) shutdown.addEventListener('abort', onAbort, { once: true });
  else {
    process.on('SIGTERM', forward);
    process.on('SIGINT', forward);
  }
  try {
    return await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', resolve);
    });
  } finally {
    shutdown?.removeEventListener('abort', onAbort);
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
  }
}

if (!isMainThread && parentPort) {
  const shutdown = new AbortController();
  parentPort.on('message', (message: { shutdown?: string }) => {
    if (message.shutdown) shutdown.abort(message.shutdown);
  });
  // Only the worker loads the service: the main thread stays a few MB.
  const { runService } = await import('./run.js');
  const code = await runService(workerData as Config, shutdown.signal);
  process.exit(code);
}
