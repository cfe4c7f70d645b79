// Commits each partition's watermark to the group, one commit request at a time: acks that arrive
// while a commit is in flight, or within `minIntervalMs` of the last one, are folded into the next, so
// commits never pile up (at 20 bulks a second, a commit per bulk was 20 writes a second to the group's
// offsets topic for what one a second says as well). flush() and the final commit never wait.
import { type CommitRequest, partitionKey } from '../source/record.js';
import { type BackoffOptions, retryWithBackoff } from '../util/backoff.js';
import type { PartitionWatermark } from './watermark.js';

export interface CommitTarget {
  readonly topic: string;
  readonly partition: number;
  readonly watermark: PartitionWatermark;
}

/** Where commits go: the group (the record source). */
export interface OffsetCommits {
  commit(offsets: readonly CommitRequest[]): Promise<void>;
}

/** What may be committed now (the member's partitions: nothing while the group rebalances). */
export interface CommitTargets {
  committable(): Iterable<CommitTarget>;
}

export interface CommitterOptions {
  /** The shortest time between two commits (ms); 0: commit as soon as the previous one is done. */
  minIntervalMs?: number;
  /** A commit failed (not fatal: the next acknowledgement tries again). */
  onError(error: Error): void;
  /** A commit went through, after `seconds`. */
  onCommitted?(offsets: readonly CommitRequest[], seconds: number): void;
}

export class Committer {
  /** Last offset committed per partition key. */
  readonly committed = new Map<string, bigint>();
  #inFlight: Promise<void> | undefined;
  #again = false;
  /** A flush is waiting: the next commit goes without spacing. */
  #urgent = false;
  #lastSentAt = -Infinity;
  /** Ends the spacing wait early (flush, final commit). */
  #hurry: (() => void) | undefined;

  readonly #minIntervalMs: number;

  constructor(
    private readonly commits: OffsetCommits,
    private readonly targets: CommitTargets,
    private readonly options: CommitterOptions,
  ) {
    this.#minIntervalMs = options.minIntervalMs ?? 0;
  }

  /** Requests a commit soon; returns the promise of the commit that will include current acks. */
  request(): Promise<void> {
    this.#again = true;
    this.#inFlight ??= this.#commitLoop();
    return this.#inFlight;
  }

  /** Drops what it remembers of partitions this member no longer owns. */
  forget(notOwned: (key: string) => boolean): void {
    for (const key of [...this.committed.keys()]) if (notOwned(key)) this.committed.delete(key);
  }

  /** Commits whatever is acknowledged now, without waiting out the interval; resolves once done. */
  flush(): Promise<void> {
    this.#skipSpacing();
    return this.request();
  }

  /**
   * The last commit before leaving the group: retried with backoff a few times, and unlike every
   * other commit its failure is reported (rejects), so a stop never claims to be clean when the
   * group will re-read records that were indexed.
   */
  async finalCommit(backoff: BackoffOptions, attempts = 4): Promise<void> {
    this.#skipSpacing();
    await this.#inFlight;
    await retryWithBackoff(
      async () => {
        const offsets = this.#changedOffsets();
        if (offsets.length === 0) return;
        await this.#send(offsets);
      },
      { ...backoff, attempts, onRetry: (error) => this.options.onError(error as Error) },
    ).catch((error: Error) => {
      throw new Error(`final offset commit failed after ${attempts} attempts: ${error.message}`, { cause: error });
    });
  }

  async #commitLoop(): Promise<void> {
    try {
      while (this.#again) {
        const spacing = this.#spacing();
        if (spacing) await spacing; // (no await when there is no wait: the commit starts in this turn)
        this.#again = false;
        this.#urgent = false;
        await this.#commit(this.#changedOffsets());
      }
    } finally {
      // Cleared in the same step as the last check of #again: a request can never slip in between
      // (it would set #again on a loop that already decided to end, and be lost).
      this.#inFlight = undefined;
    }
  }

  /** The next commit goes without waiting out the interval (and a wait under way ends now). */
  #skipSpacing(): void {
    this.#urgent = true;
    this.#hurry?.();
  }

  /** Waits until minIntervalMs after the last commit sent, unless a flush hurries it. */
  #spacing(): Promise<void> | undefined {
    const wait = this.#lastSentAt + this.#minIntervalMs - performance.now();
    if (wait <= 0 || this.#urgent) return undefined;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#hurry = undefined;
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.#hurry = done;
    });
  }

  async #commit(offsets: CommitRequest[]): Promise<void> {
    if (offsets.length === 0) return;
    this.#lastSentAt = performance.now();
    try {
      await this.#send(offsets);
    } catch (error) {
      // Not fatal: the next ack retries the commit; a crash now means redelivery, never loss.
      this.options.onError(error as Error);
    }
  }

  async #send(offsets: CommitRequest[]): Promise<void> {
    const started = performance.now();
    await this.commits.commit(offsets);
    for (const o of offsets) this.committed.set(partitionKey(o.topic, o.partition), o.offset);
    this.options.onCommitted?.(offsets, (performance.now() - started) / 1000);
  }

  #changedOffsets(targets: Iterable<CommitTarget> = this.targets.committable()): CommitRequest[] {
    const changed: CommitRequest[] = [];
    for (const { topic, partition, watermark } of targets) {
      const offset = watermark.committableOffset();
      if (offset !== undefined && this.committed.get(partitionKey(topic, partition)) !== offset) changed.push({ topic, partition, offset });
    }
    return changed;
  }
}
