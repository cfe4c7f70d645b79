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
import type { Failure } from '../sink/dead-letter.js';
import type { SourceRecord } from '../source/record.js';
import { type Batch, type PreparedRecord, takeBatch } from './batch.js';

export interface WorkerContext {
  config: Pick<Config, 'batch' | 'retry'>;
  client: SearchClient;
  inFlight: Semaphore;
  logger: Logger;
  /** Called after records left the worker (acked): frees buffer space and triggers a commit. */
  onAcked(worker: PartitionWorker, records: number, bytes: number): void;
  /** A retriable failure: `requests` is true when the whole request failed (engine unreachable, 429/5xx). */
  onRetry(worker: PartitionWorker, items: number, reason: string, wholeRequest: boolean): void;
  /** A bulk request came back (whatever its items say): the engine answers. */
  onBulk(durationSeconds: number, operations: number, bytes: number): void;
  /** Records acknowledged by the engine (indexed, deleted, superseded), for metrics. */
  onIndexed(worker: PartitionWorker, records: PreparedRecord[]): void;
  /** at-most-once: commit this offset (the batch's last + 1) before sending the batch. */
  commitBeforeSend?: ((offset: bigint) => Promise<void>) | undefined;
  /** A record that can never be indexed: dead-letter / skip it (resolves), or stop (rejects). */
  onFailure(record: SourceRecord, failure: Failure): Promise<void>;
  /** The worker cannot go on: the pipeline stops without committing past the failing record. */
  onFatal(error: Error): void;
}

export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

export const describeFailure = (record: SourceRecord, failure: Failure): string =>
  `${record.topic}[${record.partition}] offset ${record.offset}: ${failure.errorClass === 'rejected' ? 'rejected by the search engine' : failure.errorClass} (${failure.errorType}): ${failure.reason}`;

export class PartitionWorker {
  readonly watermark = new PartitionWatermark();
  readonly #queue: PreparedRecord[] = [];
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  indexedRecords = 0;
  retriedItems = 0;
  failedRecords = 0;
  /** Records acknowledged without a write (tombstones with document.nullValues: ignore). */
  skippedRecords = 0;

  #firstBulkAt: number | undefined;
  #skipBelow: bigint | undefined;
  #pendingBytes = 0;

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
    this.#pendingBytes += record.bytes;
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
      // Records still being decoded (schema fetched from the registry) hold the partition's order.
      await this.#queue[0]!.pending;
      if (this.#stopped) continue;
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
    const skipped: PreparedRecord[] = [];
    while (this.#queue.length > 0 && this.#queue[0]!.offset < below) skipped.push(this.#queue.shift()!);
    if (skipped.length > 0) this.#ack(skipped);
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

  /** Dead-letters the batch's failed records, then sends its operations until all are settled. */
  async #send(batch: Batch): Promise<void> {
    if (batch.skipped.length > 0) {
      this.skippedRecords += batch.skipped.length;
      this.#ack(batch.skipped);
    }
    for (const failed of batch.failed) {
      if (this.#stopped) return;
      await this.ctx.onFailure(failed.record, failed.failure!);
      this.failedRecords++;
      this.#ack([failed]);
    }
    await this.#sendOps(batch.ops, batch.members);
  }

  #ack(records: PreparedRecord[]): void {
    let bytes = 0;
    for (const r of records) {
      this.watermark.ack(r.offset);
      bytes += r.bytes;
    }
    this.#pendingBytes -= bytes;
    this.ctx.onAcked(this, records.length, bytes);
  }

  /** Bytes of the records pushed and not yet acknowledged. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Sends operations until each is acknowledged or dead-lettered; retries only what failed retriably. */
  async #sendOps(firstOps: BulkOperation[], firstMembers: PreparedRecord[][]): Promise<void> {
    let ops = firstOps;
    let members = firstMembers;
    for (let attempt = 0; ops.length > 0; attempt++) {
      if (this.#stopped) return;
      const retryOps: BulkOperation[] = [];
      const retryMembers: PreparedRecord[][] = [];
      let outcomes;
      const started = performance.now();
      try {
        outcomes = await this.ctx.client.bulk(ops);
        let bytes = 0;
        for (const m of members) bytes += m.at(-1)!.bytes;
        this.ctx.onBulk((performance.now() - started) / 1000, ops.length, bytes);
      } catch (error) {
        if (!(error instanceof SearchHttpError)) throw error;
        if (error.status === 413) {
          await this.#splitTooLarge(ops, members, error);
          return;
        }
        if (!error.retriable) throw error;
        this.retriedItems += ops.length;
        this.ctx.onRetry(this, ops.length, error.message, true);
        this.ctx.logger.warn({ topic: this.topic, partition: this.partition, attempt, retrying: ops.length, reason: error.message }, 'bulk request failed; retrying');
        await backoffSleep(attempt, this.ctx.config.retry, this.#abort.signal);
        continue;
      }
      const acked: PreparedRecord[] = [];
      const indexed: PreparedRecord[] = [];
      for (const [i, outcome] of outcomes.entries()) {
        const opMembers = members[i]!;
        if (outcome.kind === 'acked') {
          acked.push(...opMembers);
          indexed.push(...opMembers);
        } else if (outcome.kind === 'retriable') {
          retryOps.push(ops[i]!);
          retryMembers.push(opMembers);
        } else {
          // The superseded versions of this document would have been overwritten: only the last
          // record carries the content the engine refused.
          const rejected = opMembers.at(-1)!;
          await this.ctx.onFailure(rejected.record, { errorClass: 'rejected', errorType: outcome.errorType, reason: `${outcome.status} ${outcome.errorType}: ${outcome.reason}` });
          this.failedRecords++;
          acked.push(...opMembers);
        }
      }
      this.indexedRecords += indexed.length;
      if (indexed.length > 0) this.ctx.onIndexed(this, indexed);
      if (acked.length > 0) this.#ack(acked);
      if (retryOps.length === 0) return;
      this.retriedItems += retryOps.length;
      this.ctx.onRetry(this, retryOps.length, `${retryOps.length} bulk item(s) answered 429/5xx`, false);
      this.ctx.logger.warn({ topic: this.topic, partition: this.partition, attempt, retrying: retryOps.length }, 'bulk items failed; retrying them');
      ops = retryOps;
      members = retryMembers;
      await backoffSleep(attempt, this.ctx.config.retry, this.#abort.signal);
    }
  }

  /** 413 Request Entity Too Large: send each half on its own; a single document that is still too large is a failure. */
  async #splitTooLarge(ops: BulkOperation[], members: PreparedRecord[][], error: SearchHttpError): Promise<void> {
    if (ops.length === 1) {
      const rejected = members[0]!.at(-1)!;
      await this.ctx.onFailure(rejected.record, { errorClass: 'oversize', errorType: 'request_entity_too_large', reason: error.message.slice(0, 500) });
      this.#ack(members[0]!);
      return;
    }
    const half = Math.ceil(ops.length / 2);
    await this.#sendOps(ops.slice(0, half), members.slice(0, half));
    await this.#sendOps(ops.slice(half), members.slice(half));
  }
}
