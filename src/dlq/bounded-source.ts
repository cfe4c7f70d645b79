// A record source that stops at fixed end offsets: `dlq redrive` runs the service's own pipeline on
// the dead-letter topic, and records dead-lettered after the re-drive started (offsets at or past the
// end it saw) are not its business. They are dropped before the pipeline sees them, so they are
// neither indexed nor committed and the next re-drive finds them.
import type { CommitRequest, RecordSource, SourceHandlers } from '../source/kafka-source.js';
import { partitionKey } from '../source/record.js';

export class BoundedSource implements RecordSource {
  #dropped = 0;

  /** @param ends next offset not to deliver, per "topic:partition"; partitions not listed deliver nothing */
  constructor(
    private readonly inner: RecordSource,
    private readonly ends: ReadonlyMap<string, bigint>,
  ) {}

  start(handlers: SourceHandlers, signal?: AbortSignal): Promise<void> {
    return this.inner.start(
      {
        ...handlers,
        onRecord: (record) => {
          const end = this.ends.get(partitionKey(record.topic, record.partition));
          if (end !== undefined && record.offset < end) handlers.onRecord(record);
          else this.#dropped++;
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
