// What a pipeline is made of: build.ts makes every part, the Pipeline wires them.
import type { DeadLetterSink } from '../dead-letter/failure.js';
import type { RecordDecoders } from '../decode/decoders.js';
import type { Committer } from '../offsets/committer.js';
import type { BulkTransport } from '../sink/bulk-dispatcher.js';
import type { IndexRegistry } from '../sink/index-registry.js';
import type { RecordSource } from '../source/kafka-source.js';
import type { TopicPlans } from '../transform/topic-plan.js';
import type { MemberPartitions } from './assignment.js';
import type { BufferGate } from './buffer-gate.js';
import type { FailureHandler } from './failure-policy.js';
import type { BulkSink, PartitionWorker } from './partition-worker.js';
import type { RecordPreparer } from './prepare-record.js';
import type { PipelineTally } from './tally.js';

/** Everything a pipeline is made of (see build.ts). */
export interface PipelineParts {
  source: RecordSource;
  sink: BulkTransport & { close(): Promise<void> };
  deadLetters: DeadLetterSink;
  decoders: RecordDecoders;
  /** Each topic's plan: how its records are decoded and transformed. */
  plans: TopicPlans;
  /** Indices created on first use and again when deleted while running (none for data streams); `routed`: records name indices other than the fixed one. */
  indices: { registry: IndexRegistry; routed: boolean } | undefined;
  /** Aborted when the pipeline stops (the parts made with its signal end their waits). */
  stop: AbortController;
  /** This member's partitions and their workers across rebalances. */
  partitions: MemberPartitions<PartitionWorker>;
  /** What flows through, for /status and /metrics; the workers report to it. */
  tally: PipelineTally;
  /** The dispatcher in front of the engine: several partitions' batches in one bulk. */
  dispatcher: BulkSink;
  /** errors.policy for records that can never be indexed. */
  failures: FailureHandler;
  /** Commits what the partitions say is committable. */
  committer: Committer;
  /** Pauses fetching while too much is held in memory. */
  gate: BufferGate;
  /** Decode + transform of each record, contained: whatever one record makes throw is its own failure. */
  preparer: RecordPreparer;
}
