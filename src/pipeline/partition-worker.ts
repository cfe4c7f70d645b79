// Works one partition: records arrive in offset order, leave as bulk requests one at a time (so a
// document's versions reach the index in order), and are acknowledged to the commit watermark only
// when the search engine confirmed them. Partitions run concurrently; a shared semaphore bounds the
// bulk requests in flight across all of them.
import type { Config } from '../config/schema.js';
import { PartitionWatermark } from '../offsets/watermark.js';
import type { BulkOperation } from '../sink/bulk-request.js';
import type { SearchClient } from '../sink/search-client.js';
import { SearchHttpError } from '../sink/search-client.js';
import { backoffSleep } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import type { Semaphore } from '../util/semaphore.js';
import { type Batch, type PreparedRecord, takeBatch } from './batch.js';

export interface WorkerContext {
  config: Pick<Config, 'batch' | 'retry'>;
  client: SearchClient;
  inFlight: Semaphore;
  logger: Logger;
  /** Called after records left the worker (acked): frees buffer space and triggers a commit. */
  onAcked(worker: PartitionWorker, records: number): void;
  onRetry(reason: string): void;
  /** at-most-once: commit this offset (the batch's last + 1) before sending the batch. */
  commitBeforeSend?: ((offset: bigint) => Promise<void>) | undefined;
  /** A record that can never be indexed: the pipeline stops without committing past it. */
  onFatal(error: Error): void;
}

export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

export class PartitionWorker {
  readonly watermark = new PartitionWatermark();
  readonly #queue: PreparedRecord[] = [];
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  indexedRecords = 0;

  #firstBulkAt: number | undefined;
  #skipBelow: bigint | undefined;

  /**
   * @param predecessor after a rebalance, the previous worker of this partition in this instance:
   *   resolves, once its last bulk finished, to the offset below which it acknowledged everything.
   *   This worker sends nothing before that, and skips what is already acknowledged.
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly ctx: WorkerContext,
    private readonly predecessor?: Promise<bigint | undefined>,
  ) {}

  /** When this worker sent its first bulk (epoch ms), for the ownership log. */
  get firstBulkAt(): number | undefined {
    return this.#firstBulkAt;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Queues a record; false when it is already acknowledged (redelivered) and was dropped. */
  push(record: PreparedRecord): boolean {
    if (record.offset <= this.watermark.highest || (this.#skipBelow !== undefined && record.offset < this.#skipBelow)) return false;
    this.watermark.track(record.offset);
    this.#queue.push(record);
    this.#wake?.();
    this.#loop ??= this.#run().catch((error: unknown) => this.ctx.onFatal(error as Error));
    return true;
  }

  /**
   * Stops taking batches and retrying at once; resolves when the bulk in flight has finished.
   * Queued records stay uncommitted and will be redelivered.
   */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async #run(): Promise<void> {
    const { maxDocs, maxBytes, lingerMs } = this.ctx.config.batch;
    if (this.predecessor) this.#skipAcknowledged(await this.predecessor);
    while (!this.#stopped) {
      if (this.#queue.length === 0) await this.#waitForRecords(undefined);
      // Linger a little for a fuller batch, unless one is already full.
      if (this.#queue.length > 0 && this.#queue.length < maxDocs && lingerMs > 0) await this.#waitForRecords(lingerMs, maxDocs);
      if (this.#stopped || this.#queue.length === 0) continue;
      const batch = takeBatch(this.#queue, maxDocs, maxBytes);
      if (this.ctx.commitBeforeSend) await this.ctx.commitBeforeSend(batch.lastOffset + 1n);
      await this.ctx.inFlight.acquire();
      this.#firstBulkAt ??= Date.now();
      try {
        await this.#send(batch);
      } finally {
        this.ctx.inFlight.release();
      }
    }
  }

  /** Drops queued records the predecessor already acknowledged (redelivered after the rebalance). */
  #skipAcknowledged(below: bigint | undefined): void {
    if (below === undefined) return;
    this.#skipBelow = below;
    let skipped = 0;
    while (this.#queue.length > 0 && this.#queue[0]!.offset < below) {
      this.watermark.ack(this.#queue.shift()!.offset);
      skipped++;
    }
    if (skipped > 0) this.ctx.onAcked(this, skipped);
  }

  /** Resolves when `count` records are queued, after `timeoutMs`, or on stop. */
  async #waitForRecords(timeoutMs: number | undefined, count = 1): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      const wake = (): void => {
        if (this.#queue.length >= count || this.#stopped) done();
      };
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = wake;
    });
    this.#wake = undefined;
  }

  /** Sends the batch until every operation is acknowledged; retries only what failed retriably. */
  async #send(batch: Batch): Promise<void> {
    let ops: BulkOperation[] = batch.ops;
    let offsets: bigint[][] = batch.offsets;
    for (let attempt = 0; ; attempt++) {
      if (this.#stopped) return;
      const retryOps: BulkOperation[] = [];
      const retryOffsets: bigint[][] = [];
      try {
        const outcomes = await this.ctx.client.bulk(ops);
        let acked = 0;
        outcomes.forEach((outcome, i) => {
          const opOffsets = offsets[i]!;
          if (outcome.kind === 'acked') {
            for (const offset of opOffsets) this.watermark.ack(offset);
            acked += opOffsets.length;
          } else if (outcome.kind === 'retriable') {
            retryOps.push(ops[i]!);
            retryOffsets.push(opOffsets);
            this.ctx.onRetry(outcome.reason);
          } else {
            throw new PermanentFailure(
              `${this.topic}[${this.partition}] offset ${opOffsets.at(-1)}: rejected by the search engine (${outcome.status} ${outcome.errorType}): ${outcome.reason}`,
            );
          }
        });
        this.indexedRecords += acked;
        if (acked > 0) this.ctx.onAcked(this, acked);
        if (retryOps.length === 0) return;
      } catch (error) {
        if (!(error instanceof SearchHttpError) || !error.retriable) throw error;
        this.ctx.onRetry(error.message);
        retryOps.push(...ops);
        retryOffsets.push(...offsets);
      }
      this.ctx.logger.warn({ topic: this.topic, partition: this.partition, attempt, retrying: retryOps.length }, 'bulk retry');
      ops = retryOps;
      offsets = retryOffsets;
      await backoffSleep(attempt, this.ctx.config.retry, this.#abort.signal);
    }
  }
}
