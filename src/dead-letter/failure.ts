// Why a record could not be indexed, and the headers that carry it on the dead-letter topic: the
// vocabulary shared by the pipeline, the transform (versions and ids of re-driven records), the
// producer and the `dlq` tools. No Kafka client here, so importing it costs nothing.
import type { SourceRecord } from '../source/record.js';

/** Why a record could not be indexed. */
export interface Failure {
  /** decode: not valid input; transform: no id or unconvertible; rejected: the engine refused it; oversize: too large to send. */
  errorClass: 'decode' | 'transform' | 'rejected' | 'oversize';
  /** The engine's error type (mapper_parsing_exception, ...) or our own. */
  errorType: string;
  reason: string;
}

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

export const DLQ_HEADERS = {
  errorClass: 'k2e.error.class',
  errorType: 'k2e.error.type',
  reason: 'k2e.error.reason',
  topic: 'k2e.source.topic',
  partition: 'k2e.source.partition',
  offset: 'k2e.source.offset',
  timestamp: 'k2e.source.timestamp',
  instance: 'k2e.instance',
  /** Set when the record was too large for the dead-letter topic even alone: its original value size in bytes (the value sent is a prefix). */
  valueTruncated: 'k2e.value.truncated',
} as const;

export const dlqTopicFor = (template: string, topic: string): string => template.replaceAll('{topic}', topic);

/**
 * A throw while handling one record (decoding, keys, transform, versions, routing, encoding) is that
 * record's failure, never the member's: it is dead-lettered like bad input, with the error's message,
 * so one hostile record (or a bug it triggers) cannot stop the stream.
 */
export function failureOfError(errorClass: 'decode' | 'transform', error: unknown): Failure {
  const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { errorClass, errorType: 'internal_error', reason: `handling the record threw ${described.slice(0, 1000)}` };
}
