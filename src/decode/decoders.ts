// Picks the decoder of each topic (json, avro, string, bytes) and decodes record values, and keys in
// document.keyFormat. Avro (values, or keys with keyFormat avro) needs the schema registry: decoding is
// synchronous once a schema id is cached, asynchronous before that, and retried with backoff while the
// registry is unreachable (a record is never dropped for that).
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { SourceRecord } from '../source/record.js';
import { retryWithBackoff } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { keyNeeded, transformOptions, type TransformOptions } from '../transform/to-operation.js';
import { AvroDecoder, AvroKeyDecoder } from './avro.js';
import { type Decoded, decodeJson, looksLikeOneLineObject, UNREAD } from './json.js';
import { decodeKeyBytes, type DecodedKey, type DecodedRecord, NO_KEY } from './keys.js';
import { RegistryUnavailableError, SchemaRegistryClient } from './schema-registry.js';

export type Format = 'json' | 'avro' | 'string' | 'bytes';

export class RecordDecoders {
  readonly registry: SchemaRegistryClient | undefined;
  readonly #avro: AvroDecoder | undefined;
  readonly #avroKeys: AvroKeyDecoder | undefined;
  /** Which records use their key (ids, {key}): others are not decoded, so never fail on it. */
  readonly #transform: TransformOptions;
  /** JSON values go to the engine as their bytes (no mapping); parsed only when a field is read (id, version). */
  readonly #jsonAsIs: boolean;
  readonly #readsFields: boolean;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {
    const usesAvro = config.kafka.topics.some((t) => this.formatOf(t) === 'avro');
    const avroKeys = config.document.keyFormat === 'avro';
    if (usesAvro || avroKeys) {
      if (!config.schemaRegistry) throw new Error(`${usesAvro ? 'a topic uses the avro format' : 'document.keyFormat is avro'} but schemaRegistry.url is not set`);
      this.registry = new SchemaRegistryClient(config.schemaRegistry);
    }
    if (usesAvro) {
      const reader = config.decode.readerSchemaFile ? (JSON.parse(readFileSync(config.decode.readerSchemaFile, 'utf8')) as object) : undefined;
      this.#avro = new AvroDecoder(this.registry!, reader);
    }
    if (avroKeys) this.#avroKeys = new AvroKeyDecoder(this.registry!);
    this.#transform = transformOptions(config);
    this.#jsonAsIs = !this.#transform.mapping;
    this.#readsFields = this.#transform.id.startsWith('field:') || (this.#transform.version ?? 'none').startsWith('field:');
  }

  formatOf(topic: string): Format {
    return this.config.decode.topics?.[topic] ?? this.config.decode.format;
  }

  /** Decodes without I/O, or returns undefined when the registry must be asked first. */
  decodeSync(record: SourceRecord & { value: Buffer }): Decoded | undefined {
    switch (this.formatOf(record.topic)) {
      case 'json':
        return decodeJson(record.value);
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
    if (format !== 'avro') return decodeKeyBytes(record.key, format);
    if (record.key === null || record.key.length === 0) return NO_KEY;
    return this.#avroKeys!.decodeCached(record.key);
  }

  /** The key in document.keyFormat, fetching an Avro key's schema; waits out registry outages. */
  async decodeKeyAsync(record: SourceRecord): Promise<DecodedKey> {
    const known = this.decodeKeySync(record);
    if (known) return known;
    return this.#untilRegistryAnswers(record, () => this.#avroKeys!.decode(record.key!));
  }

  /**
   * Key and value, for `buildOperation`, without I/O; undefined when the registry must be asked
   * first (then call `decodeRecordAsync`). The key is decoded only when the record uses it.
   */
  decodeRecordSync(record: SourceRecord): DecodedRecord | undefined {
    const decoded = this.#valueSync(record);
    if (decoded === undefined) return undefined;
    if (!this.#usesKey(decoded.value)) return decoded;
    const key = this.decodeKeySync(record);
    if (key === undefined) return undefined;
    decoded.key = key;
    return decoded;
  }

  /** Key and value, for `buildOperation`, fetching schemas from the registry as needed. */
  async decodeRecordAsync(record: SourceRecord): Promise<DecodedRecord> {
    const decoded = this.#valueSync(record) ?? { value: await this.decodeAsync(record as SourceRecord & { value: Buffer }), key: undefined };
    if (this.#usesKey(decoded.value)) decoded.key = await this.decodeKeyAsync(record);
    return decoded;
  }

  /** The value (null for a tombstone) and, for JSON sent as is, its bytes; undefined when the registry must be asked. */
  #valueSync(record: SourceRecord): DecodedRecord | undefined {
    if (record.value === null) return { value: null, key: undefined };
    // The hot path: a one-line JSON object nobody reads is sent as it came, never parsed.
    const asIs = this.#jsonAsIs && this.formatOf(record.topic) === 'json' && looksLikeOneLineObject(record.value);
    if (asIs && !this.#readsFields) return { value: UNREAD, key: undefined, raw: record.value };
    const value = this.decodeSync(record as SourceRecord & { value: Buffer });
    if (value === undefined) return undefined;
    return { value, key: undefined, raw: asIs && value.ok ? record.value : undefined };
  }

  /** A record that failed to decode needs no key: it fails anyway (class decode). */
  #usesKey(value: Decoded | null): boolean {
    return (value === null || value.ok) && keyNeeded(this.#transform, value === null);
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
