// One record → what the worker queues: its bulk operation, its failure (dead-lettered in order) or a
// skip. Decoding and transforming are synchronous when they can be (JSON, cached Avro schemas), else
// pending until the schema registry answered. Whatever one record makes throw (a hostile value, or a
// bug it triggers) is that record's failure, never the member's: nothing escapes `prepare`.
import type { Config } from '../config/schema.js';
import { failureOfError } from '../dead-letter/failure.js';
import type { RecordDecoders } from '../decode/decoders.js';
import type { TopicPlans } from '../transform/topic-plan.js';
import type { SourceRecord } from '../source/record.js';
import { IndexBudget } from '../transform/index-budget.js';
import { buildOperation, type Transformed, type TransformOptions } from '../transform/to-operation.js';
import { type Outcome, prepare, type PreparedRecord, preparePending } from './batch.js';

// An operation passes as it is (`{ ok, op }` is an Outcome): no second object per record.
const outcomeOf = (t: Transformed): Outcome =>
  !t.ok ? { failure: { errorClass: t.errorClass, errorType: t.errorType, reason: t.reason } } : t.skip ? { skip: t.skip } : t;

/**
 * decode.maxRecordBytes' default (or batch.maxBytes when larger): far above any document (a transform
 * may shrink a record below batch.maxBytes, so that is no bound), far below what parsing could cost a
 * 128 MiB heap.
 */
const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;

export class RecordPreparer {
  readonly #maxBytes: number;
  /** decode.maxRecordBytes: a larger record is dead-lettered without being decoded. */
  readonly #maxRecordBytes: number;
  readonly #indexBudget: IndexBudget;

  /** @param stopSignal aborted when the service stops: a record still waiting for the registry is left unacknowledged */
  constructor(
    config: Pick<Config, 'batch' | 'decode' | 'elastic'>,
    private readonly decoders: RecordDecoders,
    private readonly plans: TopicPlans,
    private readonly stopSignal: AbortSignal,
  ) {
    this.#maxBytes = config.batch.maxBytes;
    this.#maxRecordBytes = config.decode.maxRecordBytes ?? Math.max(DEFAULT_MAX_RECORD_BYTES, config.batch.maxBytes);
    this.#indexBudget = new IndexBudget(config.elastic.maxIndices);
  }

  prepare(record: SourceRecord): PreparedRecord {
    const maxBytes = this.#maxBytes;
    if (record.unreadable) return prepare(record, { failure: { errorClass: 'decode', ...record.unreadable } }, maxBytes);
    const size = (record.value?.length ?? 0) + (record.key?.length ?? 0);
    if (size > this.#maxRecordBytes) {
      const reason = `record of ${size} bytes (key and value) exceeds decode.maxRecordBytes (${this.#maxRecordBytes}): it could never be indexed`;
      return prepare(record, { failure: { errorClass: 'oversize', errorType: 'record_too_large', reason } }, maxBytes);
    }
    let stage: 'decode' | 'transform' = 'decode';
    const failed = (error: unknown): Outcome => {
      // Stopped while waiting for the registry: the record stays unacknowledged (redelivered).
      if (this.stopSignal.aborted) throw error;
      return { failure: failureOfError(stage, error) };
    };
    try {
      const options = this.plans.get(record.topic).options;
      const decoded = this.decoders.decodeRecordSync(record);
      if (decoded) {
        stage = 'transform';
        return prepare(record, this.#withinBudget(outcomeOf(buildOperation(record, decoded, options)), options), maxBytes);
      }
      const outcome = this.decoders.decodeRecordAsync(record).then((d): Outcome => {
        stage = 'transform';
        return this.#withinBudget(outcomeOf(buildOperation(record, d, options)), options);
      });
      return preparePending(record, outcome.catch(failed), maxBytes);
    } catch (error) {
      return prepare(record, { failure: failureOfError(stage, error) }, maxBytes);
    }
  }

  /** Writes to names a template produced count against elastic.maxIndices (deletes create nothing). */
  #withinBudget(outcome: Outcome, options: TransformOptions): Outcome {
    if (options.target === undefined || !('op' in outcome) || outcome.op.action === 'delete') return outcome;
    const failure = this.#indexBudget.admit(outcome.op.index);
    return failure ? { failure } : outcome;
  }
}
