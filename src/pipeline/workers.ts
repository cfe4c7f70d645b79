// Makes each partition's worker with what it needs: the dispatcher, the tally it reports to, the
// errors policy, the indices to make sure of, the ordering rules of its topic's versions.
import type { Config } from '../config/schema.js';
import type { TopicPlans } from '../transform/topic-plan.js';
import type { IndexRegistry } from '../sink/index-registry.js';
import type { Logger } from '../util/logger.js';
import type { FailureHandler } from './failure-policy.js';
import { type BulkSink, PartitionWorker, type WorkerContext, type WorkerIndices } from './partition-worker.js';
import type { WorkerEvents } from './tally.js';

export interface WorkerFactoryParts {
  config: Config;
  plans: TopicPlans;
  /** The dispatcher in front of the engine. */
  sink: BulkSink;
  events: WorkerEvents;
  failures: FailureHandler;
  /** Indices created on first use and again when deleted; `routed`: batches name indices other than the fixed one. */
  indices: { registry: IndexRegistry; routed: boolean } | undefined;
  logger: Logger;
  stopSignal: AbortSignal;
  onAcked: WorkerContext['onAcked'];
  onFatal: WorkerContext['onFatal'];
  /** at-most-once: commits before a batch is sent. */
  commitBeforeSend?: WorkerContext['commitBeforeSend'];
}

export class WorkerFactory {
  readonly #indices: WorkerIndices | undefined;

  constructor(private readonly parts: WorkerFactoryParts) {
    const indices = parts.indices;
    this.#indices = indices && {
      ensure: indices.routed ? (names) => indices.registry.ensure(names) : undefined,
      // Deleted while running (writes answered index_not_found_exception): created again from the
      // index definition, as the initialization check would at the next start, instead of holding
      // the partition until a restart. Another instance may do the same at once: "already exists" is fine.
      recreate: (names) => {
        parts.logger.warn({ indices: [...names] }, 'index missing (deleted while running?): creating it again');
        return indices.registry.recreate(names);
      },
    };
  }

  /** @param predecessor the retired worker of the same partition still finishing its last bulk */
  create(topic: string, partition: number, predecessor?: Promise<void>): PartitionWorker {
    const { config, plans } = this.parts;
    return new PartitionWorker(
      topic,
      partition,
      {
        config,
        bulksPerPartition: this.#bulksPerPartition(topic),
        ambiguousWaitMs: config.elastic.ambiguousWriteWaitMs ?? config.elastic.requestTimeoutMs,
        strictlyOrderedVersions: plans.get(topic).options.version === 'offset',
        sink: this.parts.sink,
        logger: this.parts.logger,
        stopSignal: this.parts.stopSignal,
        indices: this.#indices,
        events: this.parts.events,
        failures: this.parts.failures,
        onAcked: this.parts.onAcked,
        onFatal: this.parts.onFatal,
        commitBeforeSend: this.parts.commitBeforeSend,
      },
      predecessor,
    );
  }

  /**
   * Bulks of one partition in flight at once: 2 when the topic's documents carry external versions
   * (the engine keeps their order), else 1, which is what keeps unversioned writes (partial updates
   * above all) in offset order. The config check refuses an explicit value above 1 without versions.
   */
  #bulksPerPartition(topic: string): number {
    const { config, plans } = this.parts;
    const perPartition = config.batch.maxInFlightPerPartition;
    if (perPartition !== 'auto') return perPartition;
    return plans.get(topic).options.version !== 'none' && config.delivery !== 'at-most-once' ? 2 : 1;
  }
}
