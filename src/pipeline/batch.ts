// Cuts a batch from the head of a partition's queue, bounded by documents and bytes, and keeps only
// the last operation per document id: earlier ones would be overwritten anyway, and a retry of an
// earlier one must never land after a later one that already succeeded.
import type { BulkOperation } from '../sink/bulk-request.js';
import { operationBytes } from '../sink/bulk-request.js';

export interface PreparedRecord {
  offset: bigint;
  op: BulkOperation;
  bytes: number;
}

export interface Batch {
  /** Operations to send, one per distinct (index, id). */
  ops: BulkOperation[];
  /** For each op, every offset it stands for (the superseded ones and its own). */
  offsets: bigint[][];
  bytes: number;
  records: number;
  lastOffset: bigint;
}

export function prepare(offset: bigint, op: BulkOperation): PreparedRecord {
  return { offset, op, bytes: operationBytes(op) };
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
  const offsets: bigint[][] = [];
  for (const record of taken) {
    const key = record.op.id === undefined ? undefined : `${record.op.index}\u0000${record.op.id}`;
    const slot = key === undefined ? undefined : slotById.get(key);
    if (slot === undefined) {
      if (key !== undefined) slotById.set(key, ops.length);
      ops.push(record.op);
      offsets.push([record.offset]);
    } else {
      ops[slot] = record.op;
      offsets[slot]!.push(record.offset);
    }
  }
  return { ops, offsets, bytes, records: taken.length, lastOffset: taken.at(-1)!.offset };
}
