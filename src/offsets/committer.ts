// Commits each partition's watermark to the group, one commit request at a time: acks that arrive
// while a commit is in flight are folded into the next one, so commits never pile up.
import type { CommitRequest } from '../source/kafka-source.js';
import { partitionKey } from '../source/record.js';
import { type BackoffOptions, retryWithBackoff } from '../util/backoff.js';
import type { PartitionWatermark } from './watermark.js';

export interface CommitTarget {
  topic: string;
  partition: number;
  watermark: PartitionWatermark;
}

export class Committer {
  /** Last offset committed per partition key. */
  readonly committed = new Map<string, bigint>();
  #inFlight: Promise<void> | undefined;
  #again = false;

  constructor(
    private readonly targets: () => Iterable<CommitTarget>,
    private readonly send: (offsets: CommitRequest[]) => Promise<void>,
    private readonly onError: (error: Error) => void,
  ) {}

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

  /** Waits for any commit in flight, then commits whatever is acknowledged now. */
  async flush(): Promise<void> {
    await this.#inFlight;
    await this.request();
  }

  /**
   * The last commit before leaving the group: retried with backoff a few times, and unlike every
   * other commit its failure is reported (rejects), so a stop never claims to be clean when the
   * group will re-read records that were indexed.
   */
  async finalCommit(backoff: BackoffOptions, attempts = 4): Promise<void> {
    await this.#inFlight;
    await retryWithBackoff(
      async () => {
        const offsets = this.#changedOffsets();
        if (offsets.length === 0) return;
        await this.send(offsets);
        for (const o of offsets) this.committed.set(partitionKey(o.topic, o.partition), o.offset);
      },
      { ...backoff, attempts, onRetry: (error) => this.onError(error as Error) },
    ).catch((error: Error) => {
      throw new Error(`final offset commit failed after ${attempts} attempts: ${error.message}`, { cause: error });
    });
  }

  async #commitLoop(): Promise<void> {
    try {
      while (this.#again) {
        this.#again = false;
        await this.#commit(this.#changedOffsets());
      }
    } finally {
      // Cleared in the same step as the last check of #again: a request can never slip in between
      // (it would set #again on a loop that already decided to end, and be lost).
      this.#inFlight = undefined;
    }
  }

  async #commit(offsets: CommitRequest[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.send(offsets);
      for (const o of offsets) this.committed.set(partitionKey(o.topic, o.partition), o.offset);
    } catch (error) {
      // Not fatal: the next ack retries the commit; a crash now means redelivery, never loss.
      this.onError(error as Error);
    }
  }

  #changedOffsets(targets: Iterable<CommitTarget> = this.targets()): CommitRequest[] {
    const changed: CommitRequest[] = [];
    for (const { topic, partition, watermark } of targets) {
      const offset = watermark.committableOffset();
      if (offset !== undefined && this.committed.get(partitionKey(topic, partition)) !== offset) changed.push({ topic, partition, offset });
    }
    return changed;
  }
}
