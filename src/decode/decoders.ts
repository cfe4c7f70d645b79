// Picks the decoder of each topic (json, avro, string, bytes) and decodes record values, and keys in
// document.keyFormat. Avro (values, or keys with keyFormat avro) needs the schema registry: decoding is
// synchronous once a schema id is cached, asynchronous before that, and retried with backoff while the
// registry is unreachable (a record is never dropped for that). Each topic has its own plan (built
// once per topic by transform/topic-plan.ts): its format, whether its values must be parsed, and which
// of its records use their key.
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { usesAvroValues } from '../config/topic-settings.js';
import type { SourceRecord } from '../source/record.js';
import { DLQ_HEADERS } from '../config/vocabulary.js';
import { retryWithBackoff } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { AvroDecoder, AvroKeyDecoder } from './avro.js';
import { changeKeyFromJson, changeKeyText } from './debezium.js';
import { type Decoded, decodeJson, looksLikeOneLineObject, UNREAD } from './json.js';
import { decodeKeyBytes, type DecodedKey, type DecodedRecord, NO_KEY } from './keys.js';
import { RegistryUnavailableError, SchemaRegistryClient } from './schema-registry.js';

type Format = 'json' | 'avro' | 'string' | 'bytes';

/** How one topic's records are decoded (the part of a topic's plan decoding reads). */
export interface DecodePlan {
  format: Format;
  /** JSON values may go to the engine as their bytes (no mapping, no envelope)... */
  asIs: boolean;
  /** ...and need not even be parsed unless a field is read (id, version, routing, templates, action). */
  readsFields: boolean;
  /** Debezium keys: the document id is the primary key's value. */
  changeKeys: boolean;
  /** Whether a record uses its key (ids, {key}, routing; a tombstone's delete): others are not decoded, so never fail on it. */
  keyNeeded(tombstone: boolean): boolean;
}

/** Every topic's plan (built once per topic). */
export interface DecodePlans {
  get(topic: string): DecodePlan;
}

export class RecordDecoders {
  readonly registry: SchemaRegistryClient | undefined;
  readonly #avro: AvroDecoder | undefined;
  readonly #avroKeys: AvroKeyDecoder | undefined;
  readonly #changeKeys: AvroKeyDecoder | undefined;
  /** decode.maxDepth and decode.maxItems: what one hostile record may cost (docs/configuration.md, "Hostile input"). */
  readonly #limits: { maxDepth: number; maxItems: number };

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
    private readonly plans: DecodePlans,
  ) {
    this.#limits = { maxDepth: config.decode.maxDepth, maxItems: config.decode.maxItems };
    const usesAvro = usesAvroValues(config);
    const avroKeys = config.document.keyFormat === 'avro';
    if (usesAvro || avroKeys) {
      if (!config.schemaRegistry) throw new Error(`${usesAvro ? 'a topic uses the avro format' : 'document.keyFormat is avro'} but schemaRegistry.url is not set`);
      this.registry = new SchemaRegistryClient(config.schemaRegistry);
    }
    if (usesAvro) {
      const reader = config.decode.readerSchemaFile ? (JSON.parse(readFileSync(config.decode.readerSchemaFile, 'utf8')) as object) : undefined;
      this.#avro = new AvroDecoder(this.registry!, reader, this.#limits);
    }
    if (avroKeys) {
      this.#avroKeys = new AvroKeyDecoder(this.registry!, undefined, this.#limits);
      this.#changeKeys = new AvroKeyDecoder(this.registry!, changeKeyText, this.#limits);
    }
  }

  #plan(topic: string): DecodePlan {
    return this.plans.get(topic);
  }

  /** Decodes without I/O, or returns undefined when the registry must be asked first. */
  decodeSync(record: SourceRecord & { value: Buffer }): Decoded | undefined {
    switch (this.#plan(record.topic).format) {
      case 'json':
        return decodeJson(record.value, this.#limits.maxDepth);
      case 'string':
        return { ok: true, value: { value: record.value.toString('utf8') } };
      case 'bytes':
        return { ok: true, value: { value: record.value.toString('base64') } };
      case 'avro':
        return this.#avro!.decodeCached(record.value);
    }
  }

  /** Decodes an Avro record whose schema is not cached yet; waits out registry outages. */
  async decodeAsync(record: SourceRecord & { value: Buffer }): Promise<Decoded> {
    return this.#untilRegistryAnswers(record, () => this.#avro!.decode(record.value));
  }

  /** The key in document.keyFormat without I/O, or undefined when the registry must be asked first. */
  decodeKeySync(record: SourceRecord): DecodedKey | undefined {
    const format = this.config.document.keyFormat;
    const changeKeys = this.#plan(record.topic).changeKeys;
    if (format !== 'avro') {
      const key = decodeKeyBytes(record.key, format);
      // A Debezium key written by the JSON converter: {"schema":…,"payload":{"id":1001}} → "1001".
      return changeKeys && key.ok && key.text !== null && format === 'string' ? { ok: true, text: changeKeyFromJson(key.text) } : key;
    }
    if (record.key === null || record.key.length === 0) return NO_KEY;
    return (changeKeys ? this.#changeKeys! : this.#avroKeys!).decodeCached(record.key);
  }

  /** The key in document.keyFormat, fetching an Avro key's schema; waits out registry outages. */
  async decodeKeyAsync(record: SourceRecord): Promise<DecodedKey> {
    const known = this.decodeKeySync(record);
    if (known) return known;
    const decoder = this.#plan(record.topic).changeKeys ? this.#changeKeys! : this.#avroKeys!;
    return this.#untilRegistryAnswers(record, () => decoder.decode(record.key!));
  }

  /**
   * Key and value, for `buildOperation`, without I/O; undefined when the registry must be asked
   * first (then call `decodeRecordAsync`). The key is decoded only when the record uses it.
   */
  decodeRecordSync(record: SourceRecord): DecodedRecord | undefined {
    const plan = this.#plan(record.topic);
    const decoded = this.#valueSync(record, plan);
    if (decoded === undefined) return undefined;
    if (!usesKey(plan, decoded.value)) return decoded;
    const key = this.decodeKeySync(record);
    if (key === undefined) return undefined;
    decoded.key = key;
    return decoded;
  }

  /** Key and value, for `buildOperation`, fetching schemas from the registry as needed. */
  async decodeRecordAsync(record: SourceRecord): Promise<DecodedRecord> {
    const plan = this.#plan(record.topic);
    const decoded = this.#valueSync(record, plan) ?? { value: await this.decodeAsync(record as SourceRecord & { value: Buffer }), key: undefined };
    if (usesKey(plan, decoded.value)) decoded.key = await this.decodeKeyAsync(record);
    return decoded;
  }

  /** The value (null for a tombstone) and, for JSON sent as is, its bytes; undefined when the registry must be asked. */
  #valueSync(record: SourceRecord, plan: DecodePlan): DecodedRecord | undefined {
    if (record.value === null) return { value: null, key: undefined };
    // A dead letter whose value was cut to fit its topic (re-driven): only the first bytes are left.
    if (record.headers.size > 0 && record.headers.has(DLQ_HEADERS.valueTruncated)) return { value: { ...TRUNCATED }, key: undefined };
    // The hot path: a one-line JSON object nobody reads is sent as it came, never parsed.
    const asIs = plan.asIs && looksLikeOneLineObject(record.value);
    if (asIs && !plan.readsFields) return { value: UNREAD, key: undefined, raw: record.value };
    const value = this.decodeSync(record as SourceRecord & { value: Buffer });
    if (value === undefined) return undefined;
    return { value, key: undefined, raw: asIs && value.ok ? record.value : undefined };
  }

  async #untilRegistryAnswers<T>(record: SourceRecord, attempt: () => Promise<T>): Promise<T> {
    return retryWithBackoff(attempt, {
      ...this.config.retry,
      signal: this.signal,
      retryable: (error) => error instanceof RegistryUnavailableError,
      onRetry: (error, n) => this.logger.warn({ err: (error as Error).message, attempt: n, topic: record.topic, partition: record.partition }, 'schema registry unavailable; retrying'),
    });
  }

  async close(): Promise<void> {
    await this.registry?.close();
  }
}

const TRUNCATED: Decoded = {
  ok: false,
  errorType: 'value_truncated',
  reason: `the value was truncated to fit the dead-letter topic (${DLQ_HEADERS.valueTruncated}): the original is lost, only its first bytes are left`,
};

/** A record that failed to decode needs no key: it fails anyway (class decode). */
const usesKey = (plan: DecodePlan, value: Decoded | null): boolean => (value === null || value.ok) && plan.keyNeeded(value === null);
