// Exponential backoff with full jitter: the delay for attempt n is random in [0, min(max, initial * 2^n)].
import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier?: number;
}

export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * (options.multiplier ?? 2) ** attempt);
  return Math.round(ceiling * random());
}

/** Sleeps for the attempt's delay; resolves early (without error) when the signal aborts. */
export async function backoffSleep(attempt: number, options: BackoffOptions, signal?: AbortSignal): Promise<void> {
  await sleep(backoffDelay(attempt, options), undefined, { signal }).catch(() => undefined);
}
