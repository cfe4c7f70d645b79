// Runs the service in a worker thread with a capped V8 heap. The pipeline creates short-lived garbage
// at a high rate; with Node's default (very large) heap limit V8 lets it pile up to hundreds of MB
// before collecting. A cap keeps RSS bounded whatever the backlog (see docs/decisions.md).
// The main thread only forwards SIGTERM/SIGINT and reports the worker's exit code. With `workers: N`
// (src/workers/) the same thread runs each member of the group, named, answering the main thread's
// requests for its status instead of serving HTTP itself.
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Config } from '../config/schema.js';
import { setHeapGrowth, threadResourceLimits } from './thread-limits.js';

interface ThreadData {
  config: Config;
  /** The member's name (`w1`...) when it is one of `workers: N`. */
  member?: string;
  /** ANSI colours in pretty logs (decided in the main thread, which sees the terminal). */
  logColor?: boolean;
}

export interface ServiceThread {
  worker: Worker;
  /** The thread's exit code; rejects with an error the thread threw (it still exits, with code 1). */
  exited: Promise<number>;
  /** Asks the service to stop gracefully (as SIGTERM does). */
  stop(reason: string): void;
}

/** Starts the service in a worker thread (maxHeapMb 0: without a heap cap of its own). */
export function startServiceThread(config: Config, maxHeapMb: number, member?: string, logColor = false): ServiceThread {
  const data: ThreadData = { config, logColor, ...(member ? { member } : {}) };
  const resourceLimits = threadResourceLimits(maxHeapMb, config.maxYoungGenerationMb);
  setHeapGrowth(config.heapGrowthPercent);
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: data, ...(resourceLimits ? { resourceLimits } : {}) });
  const exited = new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', resolve);
  });
  return { worker, exited, stop: (reason) => worker.postMessage({ shutdown: reason }) };
}

/**
 * @param shutdown aborted (with the signal's name) to stop the service; without it, this process's
 *   own SIGTERM/SIGINT are forwarded. A signal that came before the worker exists is forwarded at once.
 */
export async function runInWorker(config: Config, maxHeapMb: number, shutdown?: AbortSignal, logColor = false): Promise<number> {
  const thread = startServiceThread(config, maxHeapMb, undefined, logColor);
  const forward = (signal: string): void => thread.stop(signal);
  const onAbort = (): void => forward(String(shutdown!.reason));
  if (shutdown?.aborted) onAbort();
  else if (shutdown) shutdown.addEventListener('abort', onAbort, { once: true });
  else {
    process.on('SIGTERM', forward);
    process.on('SIGINT', forward);
  }
  try {
    return await thread.exited;
  } finally {
    shutdown?.removeEventListener('abort', onAbort);
    process.off('SIGTERM', forward);
    process.off('SIGINT', forward);
  }
}

if (!isMainThread && parentPort) {
  const { config, member, logColor } = workerData as ThreadData;
  const shutdown = new AbortController();
  parentPort.on('message', (message: { shutdown?: string }) => {
    if (message.shutdown) shutdown.abort(message.shutdown);
  });
  // Only the worker loads the service: the main thread stays a few MB.
  const { runService } = await import('./run.js');
  const options = member ? (await import('./member.js')).memberOptions(member, parentPort) : {};
  const code = await runService(config, shutdown.signal, { ...options, logColor: logColor === true });
  process.exit(code);
}
