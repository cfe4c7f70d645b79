// A record source that stops at fixed end offsets: `dlq redrive` runs the service's own pipeline on
// the dead-letter topic, and records dead-lettered after the re-drive started (offsets at or past the
// end it saw) are not its business. They are dropped before the pipeline sees them, so they are
// neither indexed nor committed and the next re-drive finds them.
// It also gives each dead letter the identity of the record it stands for (record.origin, from the
// k2e.source.* headers the service wrote), so ids and versions are the original's. Only here: on an
// ordinary topic those headers are whatever a producer chose to write, and are never trusted.
import { DLQ_HEADERS } from '../dead-letter/failure.js';
import type { CommitRequest, RecordSource, SourceHandlers } from '../source/kafka-source.js';
import { partitionKey, type RecordOrigin, type SourceRecord } from '../source/record.js';

export class BoundedSource implements RecordSource {
  #dropped = 0;

  /**
   * @param ends next offset not to deliver, per "topic:partition"; partitions not listed deliver nothing
   * @param sourceTopic the topic whose dead letters these are: only headers naming it give an origin
   */
  constructor(
    private readonly inner: RecordSource,
    private readonly ends: ReadonlyMap<string, bigint>,
    private readonly sourceTopic?: string,
  ) {}

  start(handlers: SourceHandlers, signal?: AbortSignal): Promise<void> {
    return this.inner.start(
      {
        ...handlers,
        onRecord: (record) => {
          const end = this.ends.get(partitionKey(record.topic, record.partition));
          if (end === undefined || record.offset >= end) {
            this.#dropped++;
            return;
          }
          if (this.sourceTopic !== undefined) record.origin = originOf(record, this.sourceTopic);
          handlers.onRecord(record);
        },
        // Never past the end: what lies beyond it is the next re-drive's.
        onSkipped: (topic, partition, next) => {
          const end = this.ends.get(partitionKey(topic, partition));
          if (end !== undefined) handlers.onSkipped(topic, partition, next < end ? next : end);
        },
      },
      signal,
    );
  }

  /** Records past the end offsets received and not delivered. */
  get dropped(): number {
    return this.#dropped;
  }

  pause(): void {
    this.inner.pause();
  }

  resume(): void {
    this.inner.resume();
  }

  get paused(): boolean {
    return this.inner.paused;
  }

  commit(offsets: readonly CommitRequest[]): Promise<void> {
    return this.inner.commit(offsets);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The original record a dead letter names in its k2e.source.* headers, when it is one of `sourceTopic`'s. */
function originOf(record: Pick<SourceRecord, 'headers'>, sourceTopic: string): RecordOrigin | undefined {
  const text = (name: string): string | undefined => record.headers.get(name)?.toString('utf8');
  if (text(DLQ_HEADERS.topic) !== sourceTopic) return undefined;
  const partition = text(DLQ_HEADERS.partition);
  const offset = text(DLQ_HEADERS.offset);
  if (partition === undefined || !/^\d{1,9}$/.test(partition) || offset === undefined || !/^\d{1,19}$/.test(offset)) return undefined;
  const timestamp = text(DLQ_HEADERS.timestamp);
  return { topic: sourceTopic, partition: Number(partition), offset: BigInt(offset), timestamp: timestamp !== undefined && /^-?\d{1,19}$/.test(timestamp) ? BigInt(timestamp) : undefined };
}
