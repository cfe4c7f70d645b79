// The one shape a Kafka record has inside the pipeline, independent of the client library.
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Map<string, Buffer>;
  /**
   * The record a re-driven dead letter stands for (`dlq redrive` only): ids and versions are those of
   * the original record. Never taken from headers of ordinary records, which any producer can forge.
   */
  origin?: RecordOrigin | undefined;
  /**
   * Set when the source could not read the record batch this record stands for (its raw bytes are the
   * value, its offset the batch's first): dead-lettered as it is (class decode).
   */
  unreadable?: { errorType: string; reason: string } | undefined;
}

export interface RecordOrigin {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp?: bigint | undefined;
}

/** The one key of a topic-partition ("topic:partition") used in every map of the service. */
export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/** The inverse of partitionKey (topic names may contain ':' only before the last one). */
export function splitPartitionKey(key: string): { topic: string; partition: number } {
  const at = key.lastIndexOf(':');
  return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
}

/** An offset to commit for a partition: the next offset to consume (Kafka commit semantics). */
export interface CommitRequest {
  topic: string;
  partition: number;
  offset: bigint;
}
