// The words the configuration is written in, and that the stages above it share: write actions,
// what a tombstone does, key formats, converters, how an engine error counts, why a record failed,
// and the dead-letter topic's names and headers. Here, at the ground floor, so the configuration's
// schema and every stage can use them without importing each other.

/** What a record's document is written with. */
export const WRITE_ACTIONS = ['index', 'create', 'update', 'upsert'] as const;
export type WriteAction = (typeof WRITE_ACTIONS)[number];

/** What a tombstone (null value) does. */
export const NULL_VALUES = ['delete', 'ignore', 'fail'] as const;
export type NullValues = (typeof NULL_VALUES)[number];

/** How record keys become text (document.keyFormat). */
export const KEY_FORMATS = ['string', 'base64', 'hex', 'long', 'avro'] as const;
export type KeyFormat = (typeof KEY_FORMATS)[number];

/** transform.convert's converters. */
export const CONVERTERS = ['epochMillisToIso', 'epochSecondsToIso', 'isoToEpochMillis', 'string', 'number', 'boolean'] as const;
export type Converter = (typeof CONVERTERS)[number];

/** How an engine error counts for the record (errors.classify's values). */
export const ERROR_CLASSES = ['systemic', 'rejected', 'retriable'] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Why a record could not be indexed. */
export interface Failure {
  /** decode: not valid input; transform: no id or unconvertible; rejected: the engine refused it; oversize: too large to send. */
  errorClass: 'decode' | 'transform' | 'rejected' | 'oversize';
  /** The engine's error type (mapper_parsing_exception, ...) or our own. */
  errorType: string;
  reason: string;
}

/** The headers the service adds to a dead letter. */
export const DLQ_HEADERS = {
  errorClass: 'k2e.error.class',
  errorType: 'k2e.error.type',
  reason: 'k2e.error.reason',
  topic: 'k2e.source.topic',
  partition: 'k2e.source.partition',
  offset: 'k2e.source.offset',
  timestamp: 'k2e.source.timestamp',
  instance: 'k2e.instance',
  /** Set when the value was cut to fit the dead-letter topic: the original size in bytes. */
  valueTruncated: 'k2e.value.truncated',
} as const;

/** The dead-letter topic of a source topic (errors.dlqTopic, `{topic}` the source topic). */
export const dlqTopicFor = (template: string, topic: string): string => template.replaceAll('{topic}', topic);
