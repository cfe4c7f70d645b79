import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { AvroDecoder, parseWireHeader } from '../../src/decode/avro.js';
import type { SchemaRegistryClient } from '../../src/decode/schema-registry.js';
import { SchemaNotFoundError } from '../../src/decode/schema-registry.js';
import { applyMapping } from '../../src/transform/mapping.js';

const v1 = { type: 'record', name: 'TwitterAvroModel', namespace: 'com.microservices.demo.kafka.avro.model', fields: [
  { name: 'userId', type: 'long' }, { name: 'id', type: 'long' }, { name: 'text', type: 'string' }, { name: 'createdAt', type: 'long' },
] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'lang', type: ['null', 'string'], default: null }] };

/** Confluent wire format: 0, schema id (4 bytes BE), Avro binary. */
function wire(schemaId: number, schema: object, value: object): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, avro.Type.forSchema(schema as avro.Schema).toBuffer(value)]);
}

/** The registry as the decoder sees it: schemas by id. */
function registryWith(schemas: Record<number, object>): SchemaRegistryClient {
  return {
    cached: () => undefined,
    schemaById: async (id: number) => {
      if (!schemas[id]) throw new SchemaNotFoundError(`schema id ${id} is not in the registry`);
      return JSON.stringify(schemas[id]);
    },
  } as unknown as SchemaRegistryClient;
}

describe('AvroDecoder', () => {
  const tweet = { userId: 7, id: 1001, text: 'hello avro', createdAt: 1_700_000_000_000 };

  it('decodes the Confluent wire format with the writer schema from the registry', async () => {
    const decoder = new AvroDecoder(registryWith({ 1: v1 }));
    assert.deepEqual(await decoder.decode(wire(1, v1, tweet)), { ok: true, value: tweet });
    assert.deepEqual(decoder.decodeCached(wire(1, v1, tweet)), { ok: true, value: tweet }, 'the schema is cached after the first record');
  });

  it('resolves v1 and v2 records into a v2 reader schema (evolution)', async () => {
    const decoder = new AvroDecoder(registryWith({ 1: v1, 2: v2 }), v2);
    assert.deepEqual(await decoder.decode(wire(1, v1, tweet)), { ok: true, value: { ...tweet, lang: null } });
    assert.deepEqual(await decoder.decode(wire(2, v2, { ...tweet, lang: 'en' })), { ok: true, value: { ...tweet, lang: 'en' } });
  });

  it('reports unknown schema ids, corrupt payloads and foreign formats as decode errors', async () => {
    const decoder = new AvroDecoder(registryWith({ 1: v1 }));
    const unknown = await decoder.decode(wire(99, v1, tweet));
    assert.equal(unknown.ok, false);
    assert.equal(!unknown.ok && unknown.errorType, 'avro_unknown_schema');
    const corrupt = Buffer.concat([wire(1, v1, tweet).subarray(0, 8), Buffer.from([0xff, 0xff, 0xff])]);
    const decodedCorrupt = await decoder.decode(corrupt);
    assert.equal(!decodedCorrupt.ok && decodedCorrupt.errorType, 'avro_corrupt');
    assert.deepEqual(parseWireHeader(Buffer.from('{"json":1}')), { error: 'magic byte is 123, not 0: not the Confluent Avro wire format' });
    assert.equal(decoder.decodeCached(Buffer.from([0, 0])) !== undefined, true);
  });
});

describe('applyMapping', () => {
  const record = { topic: 't', partition: 3, offset: 42n, timestamp: 1_700_000_000_000n, key: 'k' };

  it('maps the course model TwitterAvroModel to TwitterIndexModel', () => {
    const mapped = applyMapping(
      { userId: 7, id: 1001, text: 'hi', createdAt: 1_700_000_000_000, internal: 'x' },
      { drop: ['internal'], convert: { createdAt: 'epochMillisToIso' }, add: { sourceOffset: '{offset}', sourceTopic: '{topic}' } },
      record,
    );
    assert.deepEqual(mapped, { ok: true, value: { userId: 7, id: 1001, text: 'hi', createdAt: '2023-11-14T22:13:20.000Z', sourceOffset: 42, sourceTopic: 't' } });
  });

  it('keeps, renames and converts, and reports what cannot be converted', () => {
    assert.deepEqual(applyMapping({ a: '5', b: 2, c: 3 }, { keep: ['a', 'b'], convert: { a: 'number' }, rename: { b: 'bee' } }, record), { ok: true, value: { a: 5, bee: 2 } });
    assert.deepEqual(applyMapping({ createdAt: 'yesterday' }, { convert: { createdAt: 'epochMillisToIso' } }, record), {
      ok: false,
      reason: 'field "createdAt" ("yesterday") cannot be converted with epochMillisToIso',
    });
    assert.deepEqual(applyMapping({ when: '2023-11-14T22:13:20.000Z' }, { convert: { when: 'isoToEpochMillis' } }, record), { ok: true, value: { when: 1_700_000_000_000 } });
  });
});
