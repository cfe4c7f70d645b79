// What every in-process stand-in for the Kafka source shares (the pipeline unit tests' scripted
// source, the CPU benchmark's replay source): it keeps the pipeline's handlers, so the fake can call
// them, and its pause state, which the pipeline sets for backpressure. Subclasses say what a commit
// does and how records arrive.
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
