// The CPU benchmark's stand-in for the Kafka source: no group, no fetching, only what the pipeline
// sees of a source. It assigns every partition at once, hands over prebuilt records in fetch-sized
// runs (each a fresh object over a shared buffer, as the fetch loop makes them), stops while paused,
// and keeps the last commit of each partition so the benchmark knows when everything is done.
import type { CommitRequest, RecordSource, SourceHandlers } from '../../src/source/kafka-source.js';
import { NO_HEADERS } from '../../src/source/record-batches.js';
import type { SourceRecord } from '../../src/source/record.js';

/** One partition's keys and values, back to back in one buffer (as a fetched batch holds them). */
export interface PartitionData {
  bytes: Buffer;
  /** Per record: key start, key end (= value start), value end. */
  bounds: Uint32Array;
  count: number;
}

export class ReplaySource implements RecordSource {
  readonly committed = new Map<number, bigint>();
  #handlers: SourceHandlers | undefined;
  #paused = false;
  #wake: (() => void) | undefined;

  constructor(
    private readonly topic: string,
    private readonly data: PartitionData[],
  ) {}

  get paused(): boolean {
    return this.#paused;
  }
  async start(handlers: SourceHandlers): Promise<void> {
    this.#handlers = handlers;
  }
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    this.#paused = false;
    this.#wake?.();
  }
  async commit(offsets: readonly CommitRequest[]): Promise<void> {
    for (const o of offsets) this.committed.set(o.partition, o.offset);
  }
  async close(): Promise<void> {}

  /** Like the fetch loop: runs of ~1,000 records per partition, round robin, yielding between runs. */
  async replay(): Promise<void> {
    const handlers = this.#handlers;
    if (!handlers) throw new Error('replay before start');
    const { topic } = this;
    handlers.onAssigned({ partitions: this.data.map((_, p) => `${topic}:${p}`), generation: 1, memberId: 'bench' });
    const next = this.data.map(() => 0);
    const timestamp = BigInt(Date.now());
    for (let more = true; more; ) {
      more = false;
      for (let partition = 0; partition < this.data.length; partition++) {
        const { bytes, bounds, count } = this.data[partition]!;
        const end = Math.min(count, next[partition]! + 1000);
        for (let i = next[partition]!; i < end; i++) {
          const at = i * 3;
          const record: SourceRecord = { topic, partition, offset: BigInt(i), timestamp, key: bytes.subarray(bounds[at], bounds[at + 1]), value: bytes.subarray(bounds[at + 1], bounds[at + 2]), headers: NO_HEADERS as Map<string, Buffer> };
          handlers.onRecord(record);
        }
        next[partition] = end;
        if (end < count) more = true;
        while (this.#paused) await new Promise<void>((resolve) => (this.#wake = resolve));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
}
