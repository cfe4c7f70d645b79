// A record of a dead-letter topic as the dlq tools see it: the original key, value and headers, plus
// why it failed and where it came from (the k2e.* headers the service adds, src/dead-letter/failure.ts).
import { DLQ_HEADERS } from '../dead-letter/failure.js';

export interface DeadLetterRecord {
  /** Where it sits in the dead-letter topic. */
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
  errorClass: string;
  errorType: string;
  reason: string;
  /** The record it stands for; absent when a header is missing (not written by this service). */
  source: { topic: string; partition: number; offset: bigint; timestamp: bigint | null } | undefined;
  instance: string | undefined;
  /** Headers other than ours, as the producer of the original record set them. */
  headers: [string, Buffer][];
}

export interface RawRecord {
  topic: string;
  partition: number;
  offset: bigint;
  timestamp: bigint;
  key: Buffer | null | undefined;
  value: Buffer | null | undefined;
  /** In record order; a name can repeat (a record dead-lettered twice carries both sets). */
  headers: Iterable<[Buffer | string, Buffer]>;
}

const OURS: ReadonlySet<string> = new Set(Object.values(DLQ_HEADERS));

export function parseDeadLetter(raw: RawRecord): DeadLetterRecord {
  const all = [...raw.headers].map(([k, v]): [string, Buffer] => [k.toString(), v]);
  const text = (name: string, which: 'first' | 'last'): string | undefined => {
    const found = all.filter(([k]) => k === name);
    return (which === 'first' ? found[0] : found.at(-1))?.[1].toString('utf8');
  };
  // The failure is the latest one; the source is the first one set, i.e. the original record even
  // when a re-driven record failed again and was dead-lettered a second time.
  const sourceTopic = text(DLQ_HEADERS.topic, 'first');
  const sourcePartition = text(DLQ_HEADERS.partition, 'first');
  const sourceOffset = text(DLQ_HEADERS.offset, 'first');
  const sourceTimestamp = text(DLQ_HEADERS.timestamp, 'first');
  const source =
    sourceTopic !== undefined && sourcePartition !== undefined && /^\d+$/.test(sourcePartition) && sourceOffset !== undefined && /^\d+$/.test(sourceOffset)
      ? { topic: sourceTopic, partition: Number(sourcePartition), offset: BigInt(sourceOffset), timestamp: sourceTimestamp !== undefined && /^-?\d+$/.test(sourceTimestamp) ? BigInt(sourceTimestamp) : null }
      : undefined;
  return {
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
    timestamp: raw.timestamp,
    key: raw.key && raw.key.length > 0 ? raw.key : null,
    value: raw.value ?? null,
    errorClass: text(DLQ_HEADERS.errorClass, 'last') ?? 'unknown',
    errorType: text(DLQ_HEADERS.errorType, 'last') ?? 'unknown',
    reason: text(DLQ_HEADERS.reason, 'last') ?? '',
    source,
    instance: text(DLQ_HEADERS.instance, 'last'),
    headers: all.filter(([k]) => !OURS.has(k)),
  };
}

/** Bytes as text when they are valid UTF-8, else base64 (and which one it is). */
export function bytesAsText(bytes: Buffer): { text: string; encoding: 'utf8' | 'base64' } {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? { text, encoding: 'utf8' } : { text: bytes.toString('base64'), encoding: 'base64' };
}
