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
  bytes: number;
}

export interface Batch {
  /** Operations to send, one per distinct (index, id). */
  ops: BulkOperation[];
  /** For each op, the records it stands for: the superseded ones, then its own (last). */
  members: PreparedRecord[][];
  /** Records that cannot be indexed, in offset order. */
  failed: PreparedRecord[];
  bytes: number;
  records: number;
  lastOffset: bigint;
}

/** Wraps a record with its operation, or its failure; a document over `maxBytes` is a failure. */
export function prepare(record: SourceRecord, outcome: { op: BulkOperation } | { failure: Failure }, maxBytes: number): PreparedRecord {
  if ('failure' in outcome) return { offset: record.offset, record, failure: outcome.failure, bytes: record.value?.length ?? 0 };
  const bytes = operationBytes(outcome.op);
  if (bytes > maxBytes) {
    const failure: Failure = { errorClass: 'oversize', errorType: 'document_too_large', reason: `document of ${bytes} bytes exceeds batch.maxBytes (${maxBytes})` };
    return { offset: record.offset, record, failure, bytes: record.value?.length ?? 0 };
  }
  return { offset: record.offset, record, op: outcome.op, bytes };
}

/** Removes and returns the records of the next batch from `queue`; always takes at least one. */
export function takeBatch(queue: PreparedRecord[], maxDocs: number, maxBytes: number): Batch {
  let count = 0;
  let bytes = 0;
  while (count < queue.length && count < maxDocs) {
    const next = queue[count]!.bytes;
    if (count > 0 && bytes + next > maxBytes) break;
    bytes += next;
    count++;
  }
  const taken = queue.splice(0, count);
  const slotById = new Map<string, number>();
  const ops: BulkOperation[] = [];
  const members: PreparedRecord[][] = [];
  const failed: PreparedRecord[] = [];
  for (const prepared of taken) {
    const op = prepared.op;
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
  return { ops, members, failed, bytes, records: taken.length, lastOffset: taken.at(-1)!.offset };
}
