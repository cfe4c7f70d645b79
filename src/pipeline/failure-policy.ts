// errors.policy for records that can never be indexed: dead-letter them (the default), skip them
// (logged and counted), or stop the service without committing past the first one.
import type { Config } from '../config/schema.js';
import type { DeadLetter, DeadLetterSink, Failure } from '../dead-letter/failure.js';
import type { SourceRecord } from '../source/record.js';
import type { Logger } from '../util/logger.js';
import type { PipelineTally } from './tally.js';

/** What a worker does with records that can never be indexed. */
export interface FailureHandler {
  /**
   * Dead-letters or skips them (resolves), or stops (rejects with PermanentFailure). Rejects with
   * DeadLetterUnavailableError while the dead-letter topic does not take them, and with
   * DeadLetterAbandonedError once `signal` aborted: the records are then not acknowledged.
   */
  handle(failures: readonly DeadLetter[], signal: AbortSignal): Promise<void>;
}

export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

export const describeFailure = (record: SourceRecord, failure: Failure): string =>
  `${record.topic}[${record.partition}] offset ${record.offset}: ${failure.errorClass === 'rejected' ? 'rejected by the search engine' : failure.errorClass} (${failure.errorType}): ${failure.reason}`;

export class FailurePolicy implements FailureHandler {
  constructor(
    private readonly policy: Config['errors']['policy'],
    private readonly deadLetters: DeadLetterSink,
    private readonly tally: PipelineTally,
    private readonly logger: Logger,
  ) {}

  async handle(failures: readonly DeadLetter[], signal: AbortSignal): Promise<void> {
    const policy = this.policy;
    if (policy === 'fail') throw new PermanentFailure(describeFailure(failures[0]!.record, failures[0]!.failure));
    // Counted once delivered: a send that gave up is tried again.
    if (policy === 'dlq') await this.deadLetters.send(failures, signal);
    this.tally.failures(failures, policy === 'dlq' ? 'dead_lettered' : 'skipped');
    for (const { record, failure } of failures) {
      const fields = { topic: record.topic, partition: record.partition, offset: String(record.offset), ...failure };
      if (policy === 'skip') this.logger.error(fields, `skipped: ${describeFailure(record, failure)}`);
      else this.logger.warn(fields, `dead-lettered: ${describeFailure(record, failure)}`);
    }
  }
}
