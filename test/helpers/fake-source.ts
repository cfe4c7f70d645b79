// What the unit tests' in-process stand-ins for the Kafka source share (pipeline.test.ts,
// dead-letter-hold.test.ts): it keeps the pipeline's handlers, so the fake can call them, and its
// pause state, which the pipeline sets for backpressure. Subclasses say what a commit does and how
// records arrive. (The CPU benchmark has its own, bench/pipeline/replay-source.ts.)
import type { CommitRequest, RecordSource, SourceHandlers } from '../../src/source/kafka-source.js';

export abstract class FakeSource implements RecordSource {
  handlers!: SourceHandlers;
  paused = false;
  async start(handlers: SourceHandlers): Promise<void> {
    this.handlers = handlers;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  abstract commit(offsets: readonly CommitRequest[]): Promise<void>;
  async close(): Promise<void> {}
}
