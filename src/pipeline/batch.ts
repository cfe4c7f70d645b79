// Cuts a batch from the head of a partition's queue, bounded by documents and bytes, and keeps only
// the last operation per document id: earlier ones would be overwritten anyway, and a retry of an
// earlier one must never land after a later one that already succeeded. Records that failed before
// reaching the sink (undecodable, oversized) travel in the batch too, to be dead-lettered in order.
import type { BulkOperation } from '../sink/bulk-request.js';
import { operationBytes } from '../sink/bulk-request.js';
import type { Failure } from '../sink/dead-letter.js';
import type { SourceRecord } from '../source/record.js';

export interface PreparedRecord {
  offset: bigint;
  record: SourceRecord;
  op?: BulkOperation;
  failure?: Failure;
  /** Nothing to write (a tombstone with document.nullValues: ignore): acknowledged as is. */
  skip?: 'tombstone';
  /** Bytes this record holds in memory (buffer accounting); fixed when it is queued. */
  bytes: number;
  /** Bytes its operation adds to a bulk body, once known. */
  opBytes?: number;
  /** Set while the record is still being decoded (an Avro schema fetched from the registry). */
  pending?: Promise<void> | undefined;
}

export type Outcome = { op: BulkOperation } | { failure: Failure } | { skip: 'tombstone' };

export interface Batch {
  /** Operations to send, one per distinct (index, id). */
  ops: BulkOperation[];
  /** For each op, the records it stands for: the superseded ones, then its own (last). */
  members: PreparedRecord[][];
  /** Records that cannot be indexed, in offset order. */
  failed: PreparedRecord[];
  /** Records with nothing to write, to acknowledge. */
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
      settle(prepared, known, maxBytes);
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
  const bytes = operationBytes(outcome.op);
  if (bytes > maxBytes) {
    prepared.failure = { errorClass: 'oversize', errorType: 'document_too_large', reason: `document of ${bytes} bytes exceeds batch.maxBytes (${maxBytes})` };
    return;
  }
  prepared.op = outcome.op;
  prepared.opBytes = bytes;
}

/**
 * Removes and returns the records of the next batch from `queue`: settled records only, and always at
 * least one (the caller waits for the head to settle first).
 */
export function takeBatch(queue: PreparedRecord[], maxDocs: number, maxBytes: number): Batch {
  let count = 0;
  let bytes = 0;
  while (count < queue.length && count < maxDocs && queue[count]!.pending === undefined) {
    const next = queue[count]!.opBytes ?? queue[count]!.bytes;
    if (count > 0 && bytes + next > maxBytes) break;
    bytes += next;
    count++;
  }
  const taken = queue.splice(0, count);
  const slotById = new Map<string, number>();
  const ops: BulkOperation[] = [];
  const members: PreparedRecord[][] = [];
  const failed: PreparedRecord[] = [];
  const skipped: PreparedRecord[] = [];
  for (const prepared of taken) {
    const op = prepared.op;
    if (prepared.skip) {
      skipped.push(prepared);
      continue;
    }
    if (op === undefined) {
      failed.push(prepared);
      continue;
    }
    const key = op.id === undefined ? undefined : `${op.index}\u0000${op.id}`;
    const slot = key === undefined ? undefined : slotById.get(key);
    if (slot === undefined) {
      if (key !== undefined) slotById.set(key, ops.length);
      ops.push(op);
      members.push([prepared]);
    } else {
      ops[slot] = op;
      members[slot]!.push(prepared);
    }
  }
  return { ops, members, failed, skipped, bytes, records: taken.length, lastOffset: taken.at(-1)!.offset };
}
