// Waiting on an AbortSignal without missing one that already fired (events.once would wait forever).

/** Resolves when the signal aborts, at once if it already has. */
export function abortedPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/**
 * A signal that aborts when any of `signals` does, and `dispose` to detach it from them (unlike
 * AbortSignal.any, nothing stays registered on a long-lived signal after the caller is done).
 */
export function anySignal(signals: readonly AbortSignal[]): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  for (const s of signals) {
    if (s.aborted) {
      controller.abort();
      break;
    }
    s.addEventListener('abort', abort, { once: true });
  }
  return { signal: controller.signal, dispose: () => signals.forEach((s) => s.removeEventListener('abort', abort)) };
}
