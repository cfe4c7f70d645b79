// The V8 limits of a service thread, apart from run-worker.ts (which starts the service when it is
// loaded in a worker thread), so benchmarks can run a pipeline under the same limits.
import { setFlagsFromString } from 'node:v8';
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

/**
 * Sets V8's heap growing factor (1 + percent/100) for the heaps of this process, before the service
 * thread starts. V8 reads the flag at every full collection, so it applies to every isolate; 0 leaves
 * V8's own choice. With a heap cap V8 picks a small factor (1.3-2.0, scaled by the cap against the
 * machine's default heap size: heap-controller.cc MaxGrowingFactor), so a capped thread that keeps
 * thousands of records alive for a second runs a full collection every few MB of promoted records.
 */
export function setHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
