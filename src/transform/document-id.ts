// Deterministic document ids: redelivery of a record overwrites its document instead of adding one,
// which makes at-least-once delivery exactly-once in the index.
import type { SourceRecord } from '../source/record.js';

/** The Kafka key when the record has one, else its coordinate topic-partition-offset. */
export function documentId(record: Pick<SourceRecord, 'topic' | 'partition' | 'offset' | 'key'>): string {
  if (record.key !== null && record.key.length > 0) return record.key.toString('utf8');
  return `${record.topic}-${record.partition}-${record.offset}`;
}
