// One partition's parsed record batches → our SourceRecords (pure: no client, no I/O). Control batches
// (transaction markers) and, under read_committed, aborted transactions' batches are skipped; records
// before the offset asked for are dropped (a compressed batch is returned whole, so it can start
// before the fetch offset); the next position is the offset after the last batch, whatever it held.
import type { SourceRecord } from './record.js';
import { DecompressionError, type BatchFormatError, UnsupportedMessageFormatError } from './wire/errors.js';
import type { RecordBatch } from './wire/record-batch.js';

/** Shared by every record without headers (most of them): one Map less per record. */
export const NO_HEADERS: ReadonlyMap<string, Buffer> = new Map();

/**
 * Hands `emit` each record of `batches` (one partition's, in offset order) at or after `from`, except
 * those of control batches and of batches `aborted` marks; returns the next offset to fetch, or
 * undefined when there was no batch (nothing moves).
 */
export function emitBatches(
  topic: string,
  partition: number,
  batches: readonly RecordBatch[],
  aborted: readonly boolean[] | undefined,
  from: bigint,
  emit: (record: SourceRecord) => void,
): bigint | undefined {
  let next: bigint | undefined;
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!;
    const after = batch.nextOffset;
    if (next === undefined || after > next) next = after;
    if (batch.isControl || aborted?.[b] === true || after <= from) continue;
    const baseOffset = batch.baseOffset;
    // A batch written at once shares one timestamp: one bigint for those records.
    let lastMs = Number.NaN;
    let lastTimestamp = 0n;
    for (let i = from > baseOffset ? batch.indexOf(from) : 0; i < batch.count; i++) {
      const offset = baseOffset + BigInt(batch.offsetDelta[i]!);
      const ms = batch.recordTimestamp(i);
      if (ms !== lastMs) {
        lastMs = ms;
        lastTimestamp = BigInt(Math.trunc(ms));
      }
      const key = batch.key(i);
      emit({
        topic,
        partition,
        offset,
        timestamp: lastTimestamp,
        key: key !== null && key.length > 0 ? key : null,
        value: batch.value(i),
        headers: batch.headerCount[i] === 0 ? (NO_HEADERS as Map<string, Buffer>) : (batch.headers(i) as Map<string, Buffer>),
      });
    }
  }
  return next === undefined || next > from ? next : from;
}

/**
 * A batch the parser refused (a codec's data that does not decompress, lengths that do not add up, the
 * legacy message format), as one record standing for all of its offsets: its raw bytes as the value,
 * the failure saying why, at the batch's base offset. Returns the offset after the batch too, or
 * undefined when not even the batch's offsets can be read.
 */
export function unreadableBatch(topic: string, partition: number, records: Buffer, error: BatchFormatError): { record: SourceRecord; next: bigint } | undefined {
  const at = error.position;
  const baseOffset = error.baseOffset;
  if (baseOffset === undefined || records.length < at + 12) return undefined;
  const size = 12 + records.readInt32BE(at + 8);
  const lastOffsetDelta = records.length >= at + 27 ? records.readInt32BE(at + 23) : 0;
  const timestamp = records.length >= at + 35 ? records.readBigInt64BE(at + 27) : -1n;
  const errorType = error instanceof UnsupportedMessageFormatError ? 'unsupported_message_format' : error.cause instanceof DecompressionError && error.cause.reason === 'too-large' ? 'batch_too_large' : 'corrupt_batch';
  const last = baseOffset + BigInt(Math.max(0, lastOffsetDelta));
  return {
    record: {
      topic,
      partition,
      offset: baseOffset,
      timestamp,
      key: null,
      value: records.subarray(at, Math.min(records.length, at + Math.max(size, 12))),
      headers: NO_HEADERS as Map<string, Buffer>,
      unreadable: { errorType, reason: `offsets ${baseOffset}-${last}: ${error.message} (the value is the record batch as the broker sent it)` },
    },
    next: last + 1n,
  };
}
