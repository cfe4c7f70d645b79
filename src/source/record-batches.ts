// One partition's fetched record batches → our SourceRecords (pure: no client, no I/O).
//
// What @platformatic/kafka's MessagesStream does per batch, minus its per-message objects: control
// batches (transaction markers) are skipped; records before the offset asked for are dropped (a
// compressed batch is returned whole, so it can start before the fetch offset); the next position is
// the offset after the last batch, control batches included.
import type { KafkaRecord, RecordsBatch } from '@platformatic/kafka';
import type { SourceRecord } from './record.js';

/** The batch attribute bit of a control batch (KIP-98). */
const IS_CONTROL = 0x20;

/** Shared by every record without headers (most of them): one Map less per record. */
export const NO_HEADERS: ReadonlyMap<string, Buffer> = new Map();

/**
 * Hands `emit` each record of `batches` (one partition's, in offset order) at or after `from`, and
 * returns the next offset to fetch, or undefined when there was no batch (nothing moves).
 */
export function emitBatchRecords(
  topic: string,
  partition: number,
  batches: readonly RecordsBatch[],
  from: bigint,
  emit: (record: SourceRecord) => void,
): bigint | undefined {
  let next: bigint | undefined;
  for (const batch of batches) {
    const firstOffset = batch.firstOffset;
    const after = firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
    if (next === undefined || after > next) next = after;
    if ((batch.attributes & IS_CONTROL) !== 0) continue;
    const firstTimestamp = batch.firstTimestamp;
    for (const record of batch.records) {
      const offset = firstOffset + BigInt(record.offsetDelta);
      if (offset < from) continue;
      emit({
        topic,
        partition,
        offset,
        // A batch written at once shares one timestamp: no new bigint for those records.
        timestamp: record.timestampDelta === 0n ? firstTimestamp : firstTimestamp + record.timestampDelta,
        key: record.key !== null && record.key.length > 0 ? record.key : null,
        value: record.value,
        headers: record.headers.length === 0 ? (NO_HEADERS as Map<string, Buffer>) : headersOf(record.headers),
      });
    }
  }
  return next === undefined || next > from ? next : from;
}

/**
 * Header keys as UTF-8 strings; a repeated key keeps its last value (what the service did with the
 * stream's messages). A null value stays undefined, as the stream gave it; a null key (Kafka's own
 * clients never write one) becomes '' instead of failing the whole fetch.
 */
function headersOf(pairs: KafkaRecord['headers']): Map<string, Buffer> {
  const headers = new Map<string, Buffer>();
  for (const [key, value] of pairs) headers.set(key === null ? '' : key.toString('utf8'), (value ?? undefined) as Buffer);
  return headers;
}
