// Picks the decoder of each topic (json, avro, string, bytes) and decodes record values. Avro needs
// the schema registry: decoding is synchronous once a schema id is cached, asynchronous before that,
// and retried with backoff while the registry is unreachable (a record is never dropped for that).
import { readFileSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import type { SourceRecord } from '../source/record.js';
import { backoffSleep } from '../util/backoff.js';
import type { Logger } from '../util/logger.js';
import { AvroDecoder } from './avro.js';
import { type Decoded, decodeJson } from './json.js';
import { RegistryUnavailableError, SchemaRegistryClient } from './schema-registry.js';

export type Format = 'json' | 'avro' | 'string' | 'bytes';

export class RecordDecoders {
  readonly registry: SchemaRegistryClient | undefined;
  readonly #avro: AvroDecoder | undefined;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {
    const usesAvro = config.kafka.topics.some((t) => this.formatOf(t) === 'avro');
    if (usesAvro) {
      if (!config.schemaRegistry) throw new Error('a topic uses the avro format but schemaRegistry.url is not set');
      this.registry = new SchemaRegistryClient(config.schemaRegistry);
      const reader = config.decode.readerSchemaFile ? (JSON.parse(readFileSync(config.decode.readerSchemaFile, 'utf8')) as object) : undefined;
      this.#avro = new AvroDecoder(this.registry, reader);
    }
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
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#avro!.decode(record.value);
      } catch (error) {
        if (!(error instanceof RegistryUnavailableError) || this.signal.aborted) throw error;
        this.logger.warn({ err: error.message, attempt, topic: record.topic, partition: record.partition }, 'schema registry unavailable; retrying');
        await backoffSleep(attempt, this.config.retry, this.signal);
      }
    }
  }

  async close(): Promise<void> {
    await this.registry?.close();
  }
}
