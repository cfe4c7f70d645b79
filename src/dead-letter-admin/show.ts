// `dlq show`: dead letters one by one with their reason, where they came from, their other headers,
// and the value decoded the way the service decodes the source topic (JSON, Avro through the
// registry, text), or raw with the decoding error when that is what failed. Everything in a dead
// letter came from a producer: every control character is printed escaped, so no key, value, header
// or reason can move the cursor, recolour, retitle or clear the terminal, or forge a line.
import type { Config } from '../config/schema.js';
import type { Decoded } from '../decode/json.js';
import type { RecordDecoders } from '../decode/decoders.js';
import { recordDecoders } from '../transform/topic-plan.js';
import type { Logger } from '../util/logger.js';
import { escapeControl } from '../util/redact.js';
import { bytesAsText, type DeadLetterRecord } from './records.js';

export interface ShownRecord {
  dlq: { topic: string; partition: number; offset: string; timestamp: string };
  key: string | null;
  keyEncoding?: 'base64';
  error: { class: string; type: string; reason: string };
  source: { topic: string; partition: number; offset: string; timestamp: string | null } | null;
  instance: string | null;
  headers: Record<string, string>;
  /** The decoded value (null for a tombstone or when it does not decode). */
  value: unknown;
  /** The raw value, UTF-8 or base64, when it does not decode. */
  raw?: string;
  rawEncoding?: 'utf8' | 'base64';
  decodeError?: string;
}

/** Decodes values with the service's decoders, for the source topic's format. */
export class ValueDecoder {
  readonly #decoders: RecordDecoders;

  constructor(config: Config, logger: Logger, signal: AbortSignal) {
    this.#decoders = recordDecoders(config, logger, signal);
  }

  async decode(record: DeadLetterRecord): Promise<Decoded | null> {
    if (record.value === null) return null;
    const asSource = { topic: record.source?.topic ?? record.topic, partition: record.source?.partition ?? record.partition, offset: record.source?.offset ?? record.offset, timestamp: record.timestamp, key: record.key, value: record.value, headers: new Map<string, Buffer>() };
    try {
      return this.#decoders.decodeSync(asSource) ?? (await this.#decoders.decodeAsync(asSource));
    } catch (error) {
      return { ok: false, errorType: 'undecodable', reason: (error as Error).message };
    }
  }

  close(): Promise<void> {
    return this.#decoders.close();
  }
}

export function shownRecord(record: DeadLetterRecord, decoded: Decoded | null): ShownRecord {
  const key = record.key === null ? null : bytesAsText(record.key);
  const shown: ShownRecord = {
    dlq: { topic: record.topic, partition: record.partition, offset: record.offset.toString(), timestamp: new Date(Number(record.timestamp)).toISOString() },
    key: key?.text ?? null,
    ...(key?.encoding === 'base64' ? { keyEncoding: 'base64' as const } : {}),
    error: { class: record.errorClass, type: record.errorType, reason: record.reason },
    source: record.source
      ? { topic: record.source.topic, partition: record.source.partition, offset: record.source.offset.toString(), timestamp: record.source.timestamp === null ? null : new Date(Number(record.source.timestamp)).toISOString() }
      : null,
    instance: record.instance ?? null,
    headers: Object.fromEntries(record.headers.map(([k, v]) => [k, bytesAsText(v).text])),
    value: decoded?.ok ? decoded.value : null,
  };
  if (record.value !== null && !decoded?.ok) {
    const raw = bytesAsText(record.value);
    shown.raw = raw.text;
    shown.rawEncoding = raw.encoding;
    if (decoded && !decoded.ok) shown.decodeError = `${decoded.errorType}: ${decoded.reason}`;
  }
  return shown;
}

const MAX_RAW = 2000;

export function formatShown(r: ShownRecord): string {
  const lines = [`${r.dlq.topic} ${r.dlq.partition}@${r.dlq.offset}  ${r.dlq.timestamp}  key ${r.key === null ? '(none)' : JSON.stringify(r.key)}${r.keyEncoding ? ' (base64)' : ''}`];
  lines.push(`  error    ${r.error.class} / ${r.error.type}: ${r.error.reason}`);
  lines.push(`  source   ${r.source ? `${r.source.topic} ${r.source.partition}@${r.source.offset} (${r.source.timestamp ?? 'no timestamp'})` : '(no k2e.source headers)'}${r.instance ? `  instance ${r.instance}` : ''}`);
  if (Object.keys(r.headers).length > 0) lines.push(`  headers  ${Object.entries(r.headers).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`);
  if (r.raw !== undefined) {
    const raw = r.raw.length > MAX_RAW ? `${r.raw.slice(0, MAX_RAW)}… (${r.raw.length} characters)` : r.raw;
    lines.push(`  value    (raw ${r.rawEncoding}${r.decodeError ? `, does not decode: ${r.decodeError}` : ''})`, `    ${raw}`);
  } else {
    lines.push(`  value    ${r.value === null ? '(null: a tombstone)' : JSON.stringify(r.value)}`);
  }
  return lines.map(escapeControl).join('\n');
}
