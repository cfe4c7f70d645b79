// Confluent wire format: magic byte 0, a 4-byte big-endian schema id, then Avro binary written with
// that schema. The writer schema comes from the registry (cached); when a reader schema is given, the
// record is resolved into it (schema evolution: added fields with defaults, promotions, ...).
import avro from 'avsc';
import { type AvroLimits, checkAvroBounds, needsBounds } from './avro-bounds.js';
import type { Decoded } from './json.js';
import { avroKeyText, type DecodedKey } from './keys.js';
import { SchemaNotFoundError, type SchemaRegistryClient } from './schema-registry.js';

const MAGIC = 0;

export function parseWireHeader(value: Buffer): { schemaId: number } | { error: string } {
  if (value.length < 5) return { error: `${value.length} bytes: too short for the Confluent Avro wire format (magic byte + schema id)` };
  if (value[0] !== MAGIC) return { error: `magic byte is ${value[0]}, not 0: not the Confluent Avro wire format` };
  return { schemaId: value.readUInt32BE(1) };
}

/** decode.maxItems and decode.maxDepth's defaults. */
const DEFAULT_AVRO_LIMITS: AvroLimits = { maxItems: 1_000_000, maxDepth: 256 };

export class AvroDecoder {
  readonly #types = new Map<number, avro.Type>();
  readonly #resolvers = new Map<number, ReturnType<avro.Type["createResolver"]>>();
  /** Writer schemas whose values are walked by checkAvroBounds before avsc decodes them. */
  readonly #bounded = new Set<number>();
  readonly #reader: avro.Type | undefined;

  constructor(
    private readonly registry: SchemaRegistryClient,
    readerSchema?: object,
    private readonly limits: AvroLimits = DEFAULT_AVRO_LIMITS,
  ) {
    this.#reader = readerSchema ? avro.Type.forSchema(readerSchema as avro.Schema, { logicalTypes: {} }) : undefined;
  }

  /** Decodes without I/O when the writer schema is cached; undefined means "needs the registry". */
  decodeCached(value: Buffer): Decoded | undefined {
    const header = parseWireHeader(value);
    if ('error' in header) return { ok: false, errorType: 'avro_wire_format', reason: header.error };
    if (!this.#types.has(header.schemaId) && this.registry.cached(header.schemaId) === undefined) return undefined;
    return this.#decodeWith(header.schemaId, this.registry.cached(header.schemaId)!, value);
  }

  /** Decodes, fetching the writer schema when needed. Registry outages throw (the caller retries). */
  async decode(value: Buffer): Promise<Decoded> {
    const cached = this.decodeCached(value);
    if (cached) return cached;
    const { schemaId } = parseWireHeader(value) as { schemaId: number };
    let schema: string;
    try {
      schema = await this.registry.schemaById(schemaId);
    } catch (error) {
      if (error instanceof SchemaNotFoundError) return { ok: false, errorType: 'avro_unknown_schema', reason: error.message };
      throw error;
    }
    return this.#decodeWith(schemaId, schema, value);
  }

  #decodeWith(schemaId: number, schema: string, value: Buffer): Decoded {
    let writer = this.#types.get(schemaId);
    try {
      if (!writer) {
        writer = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
        this.#types.set(schemaId, writer);
        if (needsBounds(writer)) this.#bounded.add(schemaId);
        if (this.#reader) this.#resolvers.set(schemaId, this.#reader.createResolver(writer));
      }
    } catch (error) {
      return { ok: false, errorType: 'avro_schema_incompatible', reason: `schema ${schemaId} cannot be read${this.#reader ? ' into the reader schema' : ''}: ${(error as Error).message}` };
    }
    if (this.#bounded.has(schemaId)) {
      const problem = checkAvroBounds(writer, value, 5, this.limits);
      if (problem) return { ok: false, errorType: problem.errorType, reason: `schema ${schemaId}: ${problem.reason}` };
    }
    try {
      const resolver = this.#resolvers.get(schemaId);
      const decoded: unknown = resolver ? this.#reader!.fromBuffer(value.subarray(5), resolver) : writer.fromBuffer(value.subarray(5));
      if (decoded === null || typeof decoded !== 'object') return { ok: false, errorType: 'avro_not_a_record', reason: `schema ${schemaId} is not a record` };
      return { ok: true, value: toPlain(decoded) as Record<string, unknown> };
    } catch (error) {
      return { ok: false, errorType: 'avro_corrupt', reason: `payload does not match schema ${schemaId}: ${(error as Error).message}` };
    }
  }
}

// Longs as bigint: avsc's default long throws past 2^53 ("potential precision loss") and a rounded long
// would make two keys one id. avsc hands fromBuffer the long as 8 little-endian bytes.
const exactLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (n: number | string) => BigInt(n),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});

/** Every `long` of a key schema ("long" or {"type": "long", ...}) is read exactly. */
const exactLongs = (schema: avro.Schema): avro.Type | undefined =>
  schema === 'long' || (typeof schema === 'object' && !Array.isArray(schema) && (schema as { type?: unknown }).type === 'long') ? exactLong : undefined;

/**
 * Confluent-framed Avro keys → text for document ids. Keys are read with their writer schema only (the
 * reader schema is for values); any schema is fine, a primitive key being the common case.
 */
export class AvroKeyDecoder {
  readonly #types = new Map<number, avro.Type>();
  readonly #bounded = new Set<number>();

  /** @param textOf the decoded key → its text (Debezium keys: the primary key's value) */
  constructor(
    private readonly registry: SchemaRegistryClient,
    private readonly textOf: (value: unknown) => string | null = avroKeyText,
    private readonly limits: AvroLimits = DEFAULT_AVRO_LIMITS,
  ) {}

  /** Decodes without I/O when the writer schema is cached; undefined means "needs the registry". */
  decodeCached(key: Buffer): DecodedKey | undefined {
    const header = parseWireHeader(key);
    if ('error' in header) return keyFailure('avro_key_wire_format', `key: ${header.error} (document.keyFormat: avro)`);
    const schema = this.registry.cached(header.schemaId);
    if (!this.#types.has(header.schemaId) && schema === undefined) return undefined;
    return this.#decodeWith(header.schemaId, schema ?? '', key);
  }

  /** Decodes, fetching the writer schema when needed. Registry outages throw (the caller retries). */
  async decode(key: Buffer): Promise<DecodedKey> {
    const cached = this.decodeCached(key);
    if (cached) return cached;
    const { schemaId } = parseWireHeader(key) as { schemaId: number };
    let schema: string;
    try {
      schema = await this.registry.schemaById(schemaId);
    } catch (error) {
      if (error instanceof SchemaNotFoundError) return keyFailure('avro_key_unknown_schema', `key: ${error.message}`);
      throw error;
    }
    return this.#decodeWith(schemaId, schema, key);
  }

  #decodeWith(schemaId: number, schema: string, key: Buffer): DecodedKey {
    let type = this.#types.get(schemaId);
    try {
      if (!type) {
        type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema, { typeHook: exactLongs });
        this.#types.set(schemaId, type);
        if (needsBounds(type)) this.#bounded.add(schemaId);
      }
    } catch (error) {
      return keyFailure('avro_key_schema_invalid', `key schema ${schemaId} cannot be parsed: ${(error as Error).message}`);
    }
    if (this.#bounded.has(schemaId)) {
      const problem = checkAvroBounds(type, key, 5, this.limits);
      if (problem) return keyFailure(`avro_key_${problem.errorType}`, `key schema ${schemaId}: ${problem.reason}`);
    }
    try {
      return { ok: true, text: this.textOf(type.fromBuffer(key.subarray(5))) };
    } catch (error) {
      return keyFailure('avro_key_corrupt', `key does not match schema ${schemaId}: ${(error as Error).message}`);
    }
  }
}

const keyFailure = (errorType: string, reason: string): DecodedKey => ({ ok: false, errorType, reason });

/** avsc returns class instances, Buffers for bytes and bigint-free longs; make JSON-ready plain data. */
function toPlain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toPlain(v);
    return out;
  }
  return value;
}
