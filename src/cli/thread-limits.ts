// The V8 limits of a service thread, apart from run-worker.ts (which starts the service when it is
// loaded in a worker thread), so benchmarks can run a pipeline under the same limits.
import type { ResourceLimits } from 'node:worker_threads';

/**
 * The V8 limits of a service thread: the old generation capped at maxHeapMb (none when 0). The young
 * generation (where every record's short-lived objects start) is V8's own size unless youngMb says
 * otherwise: smaller means less RSS and more GC CPU (docs/benchmarks.md).
 */
export function threadResourceLimits(maxHeapMb: number, youngMb: number): ResourceLimits | undefined {
  if (maxHeapMb <= 0) return undefined;
  return { maxOldGenerationSizeMb: maxHeapMb, ...(youngMb > 0 ? { maxYoungGenerationSizeMb: youngMb } : {}) };
}
