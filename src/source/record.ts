// The one shape a Kafka record has inside the pipeline, independent of the client library.
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Map<string, Buffer>;
}

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;
