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

export interface RetryOptions extends BackoffOptions {
  /** Ends the retries: the last error is thrown at the next failure, and waits end early. */
  signal?: AbortSignal | undefined;
  /** Attempts in all; unlimited when absent. */
  attempts?: number;
  /** Whether this error is worth another attempt (default: every error). */
  retryable?: (error: unknown) => boolean;
  /** Before each wait: log it. */
  onRetry?: (error: unknown, attempt: number) => void;
  /** A floor under the jittered delay (reconnecting right away helps nobody). */
  minDelayMs?: number;
}

/** Runs `operation` until it succeeds, waiting with backoff and full jitter between failed attempts. */
export async function retryWithBackoff<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const last = options.attempts !== undefined && attempt + 1 >= options.attempts;
      if (last || options.signal?.aborted || (options.retryable && !options.retryable(error))) throw error;
      options.onRetry?.(error, attempt);
      const delay = Math.max(options.minDelayMs ?? 0, backoffDelay(attempt, options));
      await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
}
