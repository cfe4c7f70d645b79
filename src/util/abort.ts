// Waiting on an AbortSignal without missing one that already fired (events.once would wait forever).

/** Resolves when the signal aborts, at once if it already has. */
export function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
