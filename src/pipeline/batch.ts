// Cuts a batch from the head of a partition's queue, bounded by documents and bytes, and folds the
// records of one document id into one slot: only one operation per id is sent, the others stand
// behind it as fallbacks. Besides saving work, this keeps retries safe without versioning: only
// failed items are retried, so an earlier version of a document never lands after a later one.
// Partial updates cannot be folded (each changes what the next one applies to): a slot holding one
// is sequential, its records sent one per request, in offset order.
// Records that failed before reaching the sink (undecodable, oversized) travel in the batch too, to
// be dead-lettered in order.
import { type BulkOperation, operationBytes } from '../sink/encoder.js';
import { type Failure, failureOfError } from '../dead-letter/failure.js';
import type { SourceRecord } from '../source/record.js';

export interface PreparedRecord {
  offset: bigint;
  record: SourceRecord;
  op?: BulkOperation;
  failure?: Failure;
  /** Nothing to write (a tombstone with document.nullValues: ignore, a Debezium truncate): acknowledged as is. */
  skip?: Skip;
  /** Bytes this record holds in memory (buffer accounting); fixed when it is queued. */
  bytes: number;
  /** The bytes its operation adds to a bulk body, once known. */
  opBytes?: number;
  /** Set while the record is still being decoded (an Avro schema fetched from the registry). */
  pending?: Promise<void> | undefined;
}

type Skip = 'tombstone' | 'change_event';

/** A record with its operation settled: what a slot holds, and what a bulk body is written from. */
export type WritableRecord = PreparedRecord & { op: BulkOperation; opBytes: number };
export type Outcome = { op: BulkOperation } | { failure: Failure } | { skip: Skip };

/**
 * The records of one document id in a batch, in the order they are tried: the first one's operation
 * is sent; if the engine rejects it for good, it is dead-lettered and the next one is sent instead,
 * so the index ends at the latest version it accepts (for `create`: the first one it accepts). Once
 * one is written, the rest are done too (overwritten, or no-ops for `create`).
 */
export interface Slot {
  candidates: WritableRecord[];
  /**
   * Every candidate is applied, in offset order, one per request: the slot holds a partial update
   * (`update`), which only means something on top of what came before it.
   */
  sequential?: boolean;
}

export interface Batch {
  slots: Slot[];
  /** Records that cannot be indexed, in offset order. */
  failed: PreparedRecord[];
  /** Records acknowledged without a write. */
  skipped: PreparedRecord[];
  bytes: number;
  records: number;
  lastOffset: bigint;
}

/** Wraps a record with its operation, or its failure; a document over `maxBytes` is a failure. */
export function prepare(record: SourceRecord, outcome: Outcome, maxBytes: number): PreparedRecord {
  const prepared: PreparedRecord = { offset: record.offset, record, bytes: 0 };
  settle(prepared, outcome, maxBytes);
  prepared.bytes = prepared.opBytes ?? record.value?.length ?? 0;
  return prepared;
}

/** A record whose outcome is not known yet; `pending` resolves once it is (never rejects). */
export function preparePending(record: SourceRecord, outcome: Promise<Outcome>, maxBytes: number): PreparedRecord {
  const prepared: PreparedRecord = { offset: record.offset, record, bytes: record.value?.length ?? 0 };
  prepared.pending = outcome.then(
    (known) => {
      try {
        settle(prepared, known, maxBytes);
      } catch (error) {
        settle(prepared, { failure: failureOfError('transform', error) }, maxBytes);
      }
      prepared.pending = undefined;
    },
    () => undefined, // stopped while waiting: the record stays unacknowledged and is redelivered
  );
  return prepared;
}

function settle(prepared: PreparedRecord, outcome: Outcome, maxBytes: number): void {
  if ('failure' in outcome) {
    prepared.failure = outcome.failure;
    return;
  }
  if ('skip' in outcome) {
    prepared.skip = outcome.skip;
    return;
  }
  const opBytes = operationBytes(outcome.op);
  if (opBytes > maxBytes) {
    prepared.failure = { errorClass: 'oversize', errorType: 'document_too_large', reason: `document of ${opBytes} bytes exceeds batch.maxBytes (${maxBytes})` };
    return;
  }
  prepared.op = outcome.op;
  prepared.opBytes = opBytes;
}

/**
 * Removes and returns the records of the next batch from `queue`: settled records only, and always at
 * least one (the caller waits for the head to settle first).
 */
export function takeBatch(queue: PreparedRecord[], maxDocs: number, maxBytes: number): Batch {
  const slotsByIndex = new SlotsByIndex();
  const slots: Slot[] = [];
  const failed: PreparedRecord[] = [];
  const skipped: PreparedRecord[] = [];
  let count = 0;
  let bytes = 0;
  for (; count < queue.length && count < maxDocs; count++) {
    const prepared = queue[count]!;
    if (prepared.pending !== undefined) break;
    const next = prepared.opBytes ?? prepared.bytes;
    if (count > 0 && bytes + next > maxBytes) break;
    if (!isWritable(prepared)) {
      (prepared.failure ? failed : skipped).push(prepared);
    } else {
      const op = prepared.op;
      const byId = op.id === undefined ? undefined : slotsByIndex.of(op.index);
      const slot = byId?.get(op.id!);
      if (slot === undefined) {
        const fresh: Slot = op.action === 'update' ? { candidates: [prepared], sequential: true } : { candidates: [prepared] };
        byId?.set(op.id!, fresh);
        slots.push(fresh);
      } else if (slot.sequential || op.action === 'update') {
        // Once an update is involved, every record of the id is applied in turn (folded fallbacks unfold).
        if (!slot.sequential) slot.candidates.sort(byOffset);
        slot.sequential = true;
        slot.candidates.push(prepared);
      } else if (op.action !== 'create') {
        // index and delete decide the document whatever came before: the newest goes first.
        slot.candidates.unshift(prepared);
      } else if (slot.candidates[0]!.op.action === 'delete') {
        // A create after a delete would have to become an index to mean the same: send it in the next batch.
        break;
      } else {
        // A create after a write of the same id is a no-op: it only stands in if the earlier one is rejected.
        slot.candidates.push(prepared);
      }
    }
    bytes += next;
  }
  const taken = queue.splice(0, count);
  return { slots, failed, skipped, bytes, records: taken.length, lastOffset: taken.at(-1)!.offset };
}

/** A settled record with an operation (settle() sets op and opBytes together). */
const isWritable = (prepared: PreparedRecord): prepared is WritableRecord => prepared.op !== undefined;

/** The slots of a batch by index, then id (no key string built per record); usually one index. */
class SlotsByIndex {
  readonly #byIndex = new Map<string, Map<string, Slot>>();
  #lastIndex: string | undefined;
  #last: Map<string, Slot> | undefined;

  of(index: string): Map<string, Slot> {
    if (index === this.#lastIndex) return this.#last!;
    let byId = this.#byIndex.get(index);
    if (byId === undefined) this.#byIndex.set(index, (byId = new Map()));
    this.#lastIndex = index;
    return (this.#last = byId);
  }
}

const byOffset = (a: WritableRecord, b: WritableRecord): number => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0);
