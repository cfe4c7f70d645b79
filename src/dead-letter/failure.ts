// Why a record could not be indexed, and the headers that carry it on the dead-letter topic: the
// vocabulary shared by the pipeline, the transform (versions and ids of re-driven records), the
// producer and the `dlq` tools. No Kafka client here, so importing it costs nothing.
import type { Failure } from '../config/vocabulary.js';
import type { SourceRecord } from '../source/record.js';

export { DLQ_HEADERS, dlqTopicFor, type Failure } from '../config/vocabulary.js';

export interface DeadLetter {
  record: SourceRecord;
  failure: Failure;
}

/** Where records that can never be indexed go (the dead-letter topic in production, a fake in unit tests). */
export interface DeadLetterSink {
  /**
   * Resolves once every record is acknowledged by the dead-letter topic. Rejects with
   * DeadLetterUnavailableError when that did not happen within errors.dlqTimeoutMs, and with
   * DeadLetterAbandonedError when `signal` aborted first: either way nothing may be acknowledged.
   */
  send(failures: readonly DeadLetter[], signal?: AbortSignal): Promise<void>;
  /** Whether the dead-letter topic refused or could not be reached for longer than the bound (absent: never). */
  readonly state?: DeadLetterState;
  close(): Promise<void>;
}

export interface DeadLetterState {
  /** unavailable: a send failed for longer than errors.dlqTimeoutMs and none succeeded since. */
  state: 'ok' | 'unavailable';
  lastError: string | null;
  lastErrorAt: number | null;
}

/** The dead-letter topic did not acknowledge the records within errors.dlqTimeoutMs: hold them, retry later. */
export class DeadLetterUnavailableError extends Error {
  override name = 'DeadLetterUnavailableError';
}

/** The caller stopped waiting (rebalance, shutdown): the records were maybe written, maybe not. */
export class DeadLetterAbandonedError extends Error {
  override name = 'DeadLetterAbandonedError';
}


/**
 * A throw while handling one record (decoding, keys, transform, versions, routing, encoding) is that
 * record's failure, never the member's: it is dead-lettered like bad input, with the error's message,
 * so one hostile record (or a bug it triggers) cannot stop the stream.
 */
export function failureOfError(errorClass: 'decode' | 'transform', error: unknown): Failure {
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { errorClass, errorType: 'internal_error', reason: `handling the record threw ${described.slice(0, 1000)}` };
}
