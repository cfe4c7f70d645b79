// Catch-up progress for `run`: in a terminal, one line redrawn every second on stderr (docs/s, lag,
// ETA); without a terminal, a plain log line every 30 s. Silent when there is no backlog.
import type { Logger } from '../util/logger.js';

export interface ProgressSample {
  indexed: number;
  /** Total lag of the assigned partitions; null when unknown. */
  lag: number | null;
}

export function formatProgress(docsPerSec: number, lag: number, indexed: number, width = 24): string {
  const eta = docsPerSec > 0 ? lag / docsPerSec : Infinity;
  const done = indexed + lag > 0 ? indexed / (indexed + lag) : 1;
  const filled = Math.round(done * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  return `${bar} ${Math.round(docsPerSec).toLocaleString('en-US')} docs/s  lag ${lag.toLocaleString('en-US')}  ETA ${formatDuration(eta)}`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export class Progress {
  #timer: NodeJS.Timeout | undefined;
  #last: { at: number; indexed: number } | undefined;
  #drawn = false;

  constructor(
    private readonly sample: () => ProgressSample | undefined,
    private readonly tty: boolean,
    private readonly logger: Logger,
    private readonly out: NodeJS.WritableStream = process.stderr,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.tty ? 1000 : 30_000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#drawn) this.out.write('\n');
  }

  #tick(): void {
    const now = this.sample();
    if (!now) return;
    const at = Date.now();
    const previous = this.#last;
    this.#last = { at, indexed: now.indexed };
    if (!previous || now.lag === null) return;
    const rate = ((now.indexed - previous.indexed) * 1000) / (at - previous.at);
    if (now.lag === 0) {
      if (this.#drawn && this.tty) {
        this.out.write(`\r\x1b[2Kcaught up: ${now.indexed.toLocaleString('en-US')} documents indexed\n`);
        this.#drawn = false;
      }
      return;
    }
    if (this.tty) {
      this.out.write(`\r\x1b[2K${formatProgress(rate, now.lag, now.indexed)}`);
      this.#drawn = true;
    } else {
      this.logger.info({ docsPerSec: Math.round(rate), lag: now.lag, indexed: now.indexed, etaSeconds: rate > 0 ? Math.round(now.lag / rate) : null }, 'catching up');
    }
  }
}
