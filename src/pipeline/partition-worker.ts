// Works one partition for as long as this instance owns it (across rebalances that leave it here):
// records arrive in offset order, leave as batches one at a time (two with external versions, which
// keep the order in the engine), and are acknowledged to the commit watermark only when the search
// engine confirmed them (or they were dead-lettered). Partitions run concurrently; the dispatcher
// (sink/bulk-dispatcher.ts) combines their batches into requests and bounds the requests in flight.
//
// States: running; suspended while the group rebalances (no new bulk starts, a retry loop stops after
// the request in flight, its records go back to the head of the queue); retired when the partition
// moved away or the service stops (the same, and the worker is dropped). A worker that continues
// after a rebalance keeps everything it holds, so nothing is re-read and nothing is skipped.
//
// Why one file of ~500 lines: a partition's batches, their attempts, and what must wait for what (a
// predecessor's last bulk, a bulk in flight sharing a document, an unanswered bulk) are one loop's
// state; what an answer decides is pure and apart (settle.ts, batch.ts).
import type { Config } from '../config/schema.js';
import { PartitionWatermark } from '../offsets/watermark.js';
import type { EncodedOperation } from '../sink/encoder.js';
import type { ItemOutcome } from '../sink/bulk-response.js';
import { SearchHttpError } from '../sink/search-client.js';
import { DeadLetterAbandonedError, DeadLetterUnavailableError, type Failure } from '../dead-letter/failure.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffSleep } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { type Batch, type PreparedRecord, type Slot, takeBatch } from './batch.js';
import type { FailureHandler } from './failure-policy.js';
import { type OpenSlot, settle, tooLarge } from './settle.js';
import type { RetryKind, WorkerEvents } from './tally.js';

/** The search engine as a worker sees it; unit tests inject a scripted one. */
export interface BulkSink {
  /** One outcome per operation; whole-request failures throw SearchHttpError. */
  bulk(ops: readonly EncodedOperation[]): Promise<ItemOutcome[]>;
}

/** How a failed request counts: the engine unreachable, refusing requests (credentials, privileges), or failing this one retriably. */
function retryKindOf(error: SearchHttpError): RetryKind {
  if (error.failure?.kind === 'systemic') return 'systemic';
  if (error.status === undefined) return 'unreachable';
  return error.retriable ? 'retriable' : 'systemic';
}

export interface WorkerContext {
  config: Pick<Config, 'batch' | 'retry'>;
  /** Bulks of one partition in flight at once: more than 1 only when external versions keep writes in order. */
  bulksPerPartition: number;
  /**
   * After a bulk whose fate is unknown (SearchHttpError.ambiguous), how long newer unversioned writes
   * of its documents wait, so a late landing of the old request cannot overwrite them.
   */
  ambiguousWaitMs?: number;
  /**
   * Whether the versions of one partition's documents strictly grow with the offset (`offset`
   * versions): then its bulks in flight may share documents, the engine orders them. With other
   * strategies two writes of a document may carry the same version (a timestamp, a field), or none
   * (a tombstone's delete under `field:`), and a bulk sharing a document with one in flight waits.
   */
  strictlyOrderedVersions?: boolean;
  /** The dispatcher: it combines batches of several partitions into one request and bounds requests in flight. */
  sink: BulkSink;
  logger: Logger;
  /** What the worker reports as it goes (tally.ts). */
  events: WorkerEvents;
  /** errors.policy for records that can never be indexed (failure-policy.ts). */
  failures: FailureHandler;
  /** Indices made sure of before writes (routed names) and created again when found missing; none for data streams. */
  indices?: WorkerIndices | undefined;
  /** Records left the worker for good (indexed, superseded, dead-lettered, skipped): frees buffer space, triggers a commit. */
  onAcked(worker: PartitionWorker, records: number, bytes: number): void;
  /** at-most-once: commit this offset (the batch's last + 1) before sending the batch. */
  commitBeforeSend?: ((worker: PartitionWorker, offset: bigint) => Promise<void>) | undefined;
  /** The worker cannot go on: the pipeline stops without committing past the failing record. */
  onFatal(error: Error): void;
  /** Aborted when the pipeline stops: ends even the retries of a batch that must be finished. */
  stopSignal: AbortSignal;
}

export interface WorkerIndices {
  /** With routed indices: resolves once these indices exist (undefined when all are known); absent for one fixed index. */
  ensure?: ((indices: ReadonlySet<string>) => Promise<void> | undefined) | undefined;
  /** Writes found these indices missing (deleted while running): create them again before the retry. */
  recreate(indices: ReadonlySet<string>): Promise<void>;
}

type WorkerState = 'running' | 'suspended' | 'retired';


export class PartitionWorker {
  readonly watermark = new PartitionWatermark();
  readonly #queue: PreparedRecord[] = [];
  #state: WorkerState = 'running';
  /** Aborted whenever the worker leaves `running`: ends backoff waits at once. */
  #pause = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** This partition's bulks in flight. */
  readonly #sending = new Set<Promise<void>>();
  #failed = false;
  #pendingBytes = 0;
  #firstBulkAt: number | undefined;
  #lastBulkAt: number | undefined;
  /**
   * Unversioned document ids of a bulk whose fate is unknown, and until when writes that come after
   * them wait (the engine may still apply the old request; nothing in an unversioned write stops it
   * from overwriting a newer one).
   */
  #ambiguous: { until: number; ids: Set<string> } | undefined;
  /** Document ids of this partition's bulks in flight, where versions may tie (see strictlyOrderedVersions). */
  readonly #idsInFlight: Set<string>[] = [];
  /** Last time a record arrived or was acknowledged (for stall detection). */
  lastProgressAt = Date.now();
  indexedRecords = 0;
  supersededRecords = 0;
  retriedItems = 0;
  failedRecords = 0;
  /** Records acknowledged without a write (tombstones with document.nullValues: ignore). */
  skippedRecords = 0;

  /**
   * @param predecessor a retired worker of the same partition in this instance that may still have a
   *   bulk in flight: this one sends nothing before it finished, so writes stay in order.
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly ctx: WorkerContext,
    private readonly predecessor?: Promise<unknown>,
  ) {}

  /** When this worker sent its first bulk (epoch ms), for the ownership log. */
  get firstBulkAt(): number | undefined {
    return this.#firstBulkAt;
  }

  /** When this worker last started a bulk request (epoch ms): after it, it only waited for answers. */
  get lastBulkAt(): number | undefined {
    return this.#lastBulkAt;
  }

  get queued(): number {
    return this.#queue.length;
  }

  get state(): WorkerState {
    return this.#state;
  }

  /** The next offset this worker expects: it holds or has finished everything before it. */
  get position(): bigint | undefined {
    return this.watermark.highest >= 0n ? this.watermark.highest + 1n : undefined;
  }

  /** What may be committed for this partition: the first unacknowledged offset (see PartitionWatermark). */
  get committable(): bigint | undefined {
    return this.watermark.committableOffset();
  }

  /** Bytes of the records pushed and not yet acknowledged. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Queues a record; false when this worker already has it (or is retired) and it was dropped. */
  push(record: PreparedRecord): boolean {
    if (this.#state === 'retired' || record.offset <= this.watermark.highest) return false;
    this.watermark.track(record.offset);
    this.#pendingBytes += record.bytes;
    this.#queue.push(record);
    this.lastProgressAt = Date.now();
    // Only the first record and a full batch can end a wait; other pushes need not wake the loop.
    if (this.#queue.length === 1 || this.#queue.length >= this.ctx.config.batch.maxDocs) this.#wake?.();
    this.#loop ??= this.#run().catch((error: unknown) => this.ctx.onFatal(error as Error));
    return true;
  }

  /**
   * The source moved past offsets below `next` that held no record (transaction markers, aborted
   * transactions): the commit may reach `next` once everything before it is acknowledged.
   */
  skipTo(next: bigint): void {
    if (this.#state === 'retired' || next - 1n <= this.watermark.highest) return;
    this.watermark.skipTo(next);
    this.lastProgressAt = Date.now();
    if (this.watermark.pendingCount === 0) this.ctx.onAcked(this, 0, 0);
  }

  /** The group rebalances: start no bulk, stop retrying after the request in flight. */
  suspend(): void {
    if (this.#state !== 'running') return;
    this.#state = 'suspended';
    this.#pause.abort();
    this.#wake?.();
  }

  /** The partition stayed here: go on with everything held. */
  resume(): void {
    if (this.#state !== 'suspended') return;
    this.#state = 'running';
    this.#pause = new AbortController();
    this.lastProgressAt = Date.now();
    this.#wake?.();
  }

  /** The partition moved away or the service stops: resolves once the bulk in flight has finished. */
  async retire(): Promise<void> {
    this.#state = 'retired';
    this.#pause.abort();
    this.#wake?.();
    await this.#loop;
  }

  get #running(): boolean {
    return this.#state === 'running';
  }

  /**
   * Whether a batch's attempts end here: a batch that must finish (committed before sending) ends
   * only when the service stops; any other when the worker stops running (its records are requeued).
   */
  #halted(mustFinish: boolean): boolean {
    return mustFinish ? this.ctx.stopSignal.aborted : !this.#running;
  }

  /** What cuts a backoff wait short, by the same rule as #halted. */
  #backoffSignal(mustFinish: boolean): AbortSignal {
    return mustFinish ? this.ctx.stopSignal : this.#pause.signal;
  }

  async #run(): Promise<void> {
    const { maxDocs, lingerMs } = this.ctx.config.batch;
    const perPartition = this.ctx.bulksPerPartition;
    const canSend = (): boolean => this.#running && !this.#failed && this.#queue.length > 0 && this.#sending.size < perPartition;
    if (this.predecessor) await this.predecessor;
    try {
      while (this.#state !== 'retired' && !this.#failed) {
        if (!canSend()) {
          await this.#waitUntil(() => this.#state === 'retired' || this.#failed || canSend());
          continue;
        }
        // Linger a little for a fuller batch, unless one is already full.
        if (this.#queue.length < maxDocs && lingerMs > 0) await this.#waitUntil(() => !this.#running || this.#queue.length >= maxDocs, lingerMs);
        if (!canSend()) continue;
        // Records still being decoded (schema fetched from the registry) hold the partition's order.
        await this.#queue[0]!.pending;
        if (!canSend()) continue;
        const sending: Promise<void> = this.#sendNext()
          .catch((error: unknown) => {
            // Nothing after a record that may not be skipped is sent; it stays unacknowledged.
            this.#failed = true;
            this.ctx.onFatal(error as Error);
          })
          .finally(() => {
            this.#sending.delete(sending);
            this.#wake?.();
          });
        this.#sending.add(sending);
        // One at a time unless versions let the engine keep the order (bulksPerPartition > 1).
        if (perPartition === 1) await sending;
      }
    } finally {
      await Promise.all(this.#sending);
    }
  }

  /** Resolves when `condition` holds at a wake-up, after `timeoutMs`, or at once if it holds now. */
  async #waitUntil(condition: () => boolean, timeoutMs?: number): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        if (condition()) done();
      };
    });
    this.#wake = undefined;
  }

  async #sendNext(): Promise<void> {
    // This partition's other bulks in flight (this one joins #sending once this call returns).
    const others = [...this.#sending];
    const batch = takeBatch(this.#queue, this.ctx.config.batch.maxDocs, this.ctx.config.batch.maxBytes);
    const ids = this.ctx.bulksPerPartition > 1 && !this.ctx.strictlyOrderedVersions ? idsOf(batch.slots) : undefined;
    if (ids) {
      // Sharing a document with a bulk in flight whose version may tie with this one's: after it.
      if (this.#idsInFlight.some((inFlight) => overlap(inFlight, ids))) await Promise.all(others);
      this.#idsInFlight.push(ids);
    }
    try {
      await this.#sendBatch(batch);
    } finally {
      if (ids) this.#idsInFlight.splice(this.#idsInFlight.indexOf(ids), 1);
    }
  }

  async #sendBatch(batch: Batch): Promise<void> {
    let mustFinish = false;
    if (this.ctx.commitBeforeSend) {
      try {
        await this.ctx.commitBeforeSend(this, batch.lastOffset + 1n);
      } catch (error) {
        this.#requeue(recordsOf(batch));
        this.ctx.logger.warn({ topic: this.topic, partition: this.partition, err: error }, 'commit before sending failed (at-most-once); retrying');
        await backoffSleep(0, this.ctx.config.retry, this.#pause.signal);
        return;
      }
      // Committed: this batch is the only copy left, so it is sent whatever happens next, short of the
      // service stopping (a rebalance or a partition moving away must not drop it).
      mustFinish = true;
    }
    this.#firstBulkAt ??= Date.now();
    if (batch.skipped.length > 0) {
      this.skippedRecords += batch.skipped.length;
      const tombstones = batch.skipped.filter((r) => r.skip === 'tombstone').length;
      if (tombstones > 0) this.ctx.events.tombstonesIgnored(this.topic, tombstones);
      this.#ack(batch.skipped);
    }
    if (batch.failed.length > 0 && !(await this.#deadLetter(batch.failed.map((r) => ({ prepared: r, failure: r.failure! })), mustFinish))) {
      this.#requeue([...batch.failed, ...batch.slots.flatMap((s) => s.candidates)]);
      return;
    }
    if (!(await this.#ensureIndices(batch.slots, mustFinish)) || !(await this.#afterAmbiguous(batch.slots, mustFinish))) {
      this.#requeue(batch.slots.flatMap((s) => s.candidates));
      return;
    }
    const unfinished = await this.#sendSlots(batch.slots, mustFinish);
    if (unfinished.length > 0) this.#requeue(unfinished);
  }

  /**
   * Routed indices: the batch's indices are created before its first write (deletes create none).
   * A failure holds the partition like a refused bulk: retried with backoff until the engine answers
   * and accepts. False when the worker stopped running meanwhile (the batch goes back to the queue).
   */
  async #ensureIndices(slots: readonly Slot[], mustFinish: boolean): Promise<boolean> {
    const ensure = this.ctx.indices?.ensure;
    if (!ensure || slots.length === 0) return true;
    const names = new Set<string>();
    for (const slot of slots) for (const c of slot.candidates) if (c.op.action !== 'delete') names.add(c.op.index);
    for (let attempt = 0; ; attempt++) {
      if (this.#halted(mustFinish)) return false;
      try {
        await ensure(names);
        return true;
      } catch (error) {
        if (!(error instanceof SearchHttpError)) throw error;
        const kind = retryKindOf(error);
        this.retriedItems += slots.length;
        this.ctx.events.retried(this.topic, this.partition, slots.length, error.message, kind);
        this.ctx.logger.warn({ topic: this.topic, partition: this.partition, attempt, reason: error.message }, 'creating an index failed; holding the partition and retrying');
        await backoffSleep(attempt, this.ctx.config.retry, this.#backoffSignal(mustFinish));
      }
    }
  }

  /**
   * A batch writing (unversioned) a document that an ambiguous bulk also wrote waits until that bulk's
   * bound has passed. False when the worker stopped running meanwhile.
   */
  async #afterAmbiguous(slots: readonly Slot[], mustFinish: boolean): Promise<boolean> {
    const ambiguous = this.#ambiguous;
    if (ambiguous === undefined) return true;
    const wait = ambiguous.until - Date.now();
    if (wait <= 0) {
      this.#ambiguous = undefined;
      return true;
    }
    const overlaps = slots.some((s) => s.candidates.some((c) => c.op.version === undefined && c.op.id !== undefined && ambiguous.ids.has(c.op.id)));
    if (!overlaps) return true;
    this.ctx.logger.warn({ topic: this.topic, partition: this.partition, waitMs: wait }, 'a newer write of documents an unanswered bulk also wrote waits, so a late landing of that bulk cannot overwrite it');
    await sleep(wait, undefined, { signal: this.#backoffSignal(mustFinish) }).catch(() => undefined);
    if (this.#halted(mustFinish)) return false;
    if (this.#ambiguous === ambiguous) this.#ambiguous = undefined;
    return true;
  }

  /** Remembers the unversioned ids of a bulk whose fate is unknown (see #afterAmbiguous). */
  #rememberAmbiguous(ops: readonly EncodedOperation[]): void {
    const waitMs = this.ctx.ambiguousWaitMs ?? 0;
    if (waitMs <= 0) return;
    const ids = this.#ambiguous?.ids ?? new Set<string>();
    for (const { op } of ops) if (op.version === undefined && op.id !== undefined) ids.add(op.id);
    if (ids.size > 0) this.#ambiguous = { until: Date.now() + waitMs, ids };
  }

  /** Records of an unfinished batch go back into the queue, which stays in offset order (several batches may come back). */
  #requeue(records: PreparedRecord[]): void {
    this.#queue.unshift(...records);
    this.#queue.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  }

  /**
   * Sends the slots' operations until each slot is settled; retries only what failed retriably.
   * Returns the records of the slots left unsettled because the worker stopped running.
   */
  async #sendSlots(first: OpenSlot[], mustFinish: boolean): Promise<PreparedRecord[]> {
    let slots = first;
    for (let attempt = 0; slots.length > 0; ) {
      if (this.#halted(mustFinish)) return slots.flatMap((s) => s.candidates);
      // A slot's head is a settled record: it has its operation and action line.
      const ops: EncodedOperation[] = slots.map((s) => s.candidates[0]!);
      let outcomes: ItemOutcome[];
      this.#lastBulkAt = Date.now();
      try {
        outcomes = await this.ctx.sink.bulk(ops);
      } catch (error) {
        if (!(error instanceof SearchHttpError)) throw error;
        if (error.status === 413) {
          const split = tooLarge(slots, error.message);
          if ('halves' in split) {
            const [first, second] = split.halves;
            const left = await this.#sendSlots(first, mustFinish);
            if (left.length > 0) return [...left, ...second.flatMap((s) => s.candidates)];
            return this.#sendSlots(second, mustFinish);
          }
          if (!(await this.#deadLetter([split.rejected], mustFinish))) return slots.flatMap((s) => s.candidates);
          slots = split.rest;
          continue;
        }
        if (!error.retriable) throw error;
        if (error.ambiguous) this.#rememberAmbiguous(ops);
        const kind = retryKindOf(error);
        this.retriedItems += ops.length;
        this.ctx.events.retried(this.topic, this.partition, ops.length, error.message, kind);
        this.ctx.logger.warn({ topic: this.topic, partition: this.partition, attempt, retrying: ops.length, reason: error.message }, kind === 'systemic' ? 'the search engine refuses the bulk request (credentials or privileges?); holding the partition and retrying' : 'bulk request failed; retrying');
        await backoffSleep(attempt++, this.ctx.config.retry, this.#backoffSignal(mustFinish));
        continue;
      }
      slots = await this.#settle(slots, outcomes, attempt, mustFinish);
      if (slots.some((s) => s.retry)) await backoffSleep(attempt++, this.ctx.config.retry, this.#backoffSignal(mustFinish));
    }
    return [];
  }

  /** Performs what one bulk response decided (settle.ts); returns the slots still to send (`retry` when they need a backoff first). */
  async #settle(slots: OpenSlot[], outcomes: ItemOutcome[], attempt: number, mustFinish: boolean): Promise<OpenSlot[]> {
    const { indexed, superseded, rejected, next, retrying, systemic, missingIndices } = settle(slots, outcomes);
    // Not dead-lettered because the worker stopped: they go back with the slots left (#sendSlots returns them).
    if (rejected.length > 0 && !(await this.#deadLetter(rejected, mustFinish))) for (const r of rejected) next.push({ candidates: [r.prepared], sequential: false });
    if (missingIndices && this.ctx.indices) {
      await this.ctx.indices.recreate(missingIndices).catch((error: unknown) => this.ctx.logger.warn({ topic: this.topic, partition: this.partition, err: error }, 'creating a missing index again failed; retrying'));
    }
    this.indexedRecords += indexed.length;
    this.supersededRecords += superseded.length;
    if (indexed.length > 0 || superseded.length > 0) {
      this.ctx.events.indexed(this.topic, indexed, superseded.length);
      this.#ack(superseded.length === 0 ? indexed : [...indexed, ...superseded]);
    }
    if (retrying > 0) {
      this.retriedItems += retrying;
      this.ctx.events.retried(this.topic, this.partition, retrying, systemic ?? `${retrying} bulk item(s) answered 429/5xx`, systemic ? 'systemic' : 'retriable');
      this.ctx.logger.warn(
        { topic: this.topic, partition: this.partition, attempt, retrying, ...(systemic ? { reason: systemic } : {}) },
        systemic ? 'the search engine refuses writes for a cluster-side reason; holding the partition and retrying' : 'bulk items failed; retrying them',
      );
    }
    return next;
  }

  /**
   * Dead-letters (or skips) records together, then acknowledges them. While the dead-letter topic does
   * not take them the partition is held here (nothing after them is sent) and the send is tried again
   * with backoff. False when the worker stopped first: nothing was acknowledged, the caller puts the
   * records back.
   */
  async #deadLetter(failures: { prepared: PreparedRecord; failure: Failure }[], mustFinish: boolean): Promise<boolean> {
    const deadLetters = failures.map((f) => ({ record: f.prepared.record, failure: f.failure }));
    for (let attempt = 0; ; attempt++) {
      if (this.#halted(mustFinish)) return false;
      try {
        await this.ctx.failures.handle(deadLetters, this.#backoffSignal(mustFinish));
        break;
      } catch (error) {
        if (error instanceof DeadLetterAbandonedError) return false;
        if (!(error instanceof DeadLetterUnavailableError)) throw error;
        this.ctx.logger.error({ topic: this.topic, partition: this.partition, attempt, records: failures.length, reason: error.message }, 'dead letters not delivered: holding the partition (nothing acknowledged) and retrying');
        await backoffSleep(attempt, this.ctx.config.retry, this.#backoffSignal(mustFinish));
      }
    }
    this.failedRecords += failures.length;
    this.#ack(failures.map((f) => f.prepared));
    return true;
  }

  #ack(records: readonly PreparedRecord[]): void {
    let bytes = 0;
    for (const r of records) {
      this.watermark.ack(r.offset);
      bytes += r.bytes;
    }
    this.#pendingBytes -= bytes;
    this.lastProgressAt = Date.now();
    this.ctx.onAcked(this, records.length, bytes);
  }
}

function recordsOf(batch: Batch): PreparedRecord[] {
  return [...batch.slots.flatMap((s) => s.candidates), ...batch.failed, ...batch.skipped];
}

function idsOf(slots: readonly Slot[]): Set<string> {
  const ids = new Set<string>();
  for (const slot of slots) for (const c of slot.candidates) if (c.op.id !== undefined) ids.add(c.op.id);
  return ids;
}

function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  for (const id of small) if (large.has(id)) return true;
  return false;
}
