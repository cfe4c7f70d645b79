// Record keys in document.keyFormat: Avro keys through a fake registry (a canned /schemas/ids/N
// answer), the decoders' sync/async record API, the skip outcome in a batch, and config validation.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { AvroKeyDecoder } from '../../src/decode/avro.js';
import { recordDecoders } from '../../src/transform/topic-plan.js';
import { avroKeyText, canonicalJson } from '../../src/decode/keys.js';
import type { SchemaRegistryClient } from '../../src/decode/schema-registry.js';
import { SchemaNotFoundError } from '../../src/decode/schema-registry.js';
import { prepare, takeBatch } from '../../src/pipeline/batch.js';
import type { SourceRecord } from '../../src/source/record.js';
import { buildOperation, transformOptions } from '../../src/transform/to-operation.js';
import { createLogger } from '../../src/util/logger.js';

/** Confluent wire format: 0, schema id (4 bytes BE), Avro binary. */
function framed(schemaId: number, schema: unknown, value: unknown): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, avro.Type.forSchema(schema as avro.Schema).toBuffer(value)]);
}

function registryWith(schemas: Record<number, unknown>): SchemaRegistryClient {
  return {
    cached: () => undefined,
    schemaById: async (id: number) => {
      if (schemas[id] === undefined) throw new SchemaNotFoundError(`schema id ${id} is not in the registry`);
      return JSON.stringify(schemas[id]);
    },
  } as unknown as SchemaRegistryClient;
}

const userKey = { type: 'record', name: 'UserKey', fields: [{ name: 'tenant', type: 'string' }, { name: 'id', type: 'long' }] };
const userKeyReordered = { ...userKey, fields: [...userKey.fields].reverse() };

describe('AvroKeyDecoder', () => {
  const decoder = new AvroKeyDecoder(registryWith({ 1: 'string', 2: 'long', 3: userKey, 4: userKeyReordered, 5: { type: 'long' }, 6: 'bytes' }));

  it('decodes primitives to their string form, longs exactly', async () => {
    assert.deepEqual(await decoder.decode(framed(1, 'string', 'user-7')), { ok: true, text: 'user-7' });
    assert.deepEqual(await decoder.decode(framed(2, 'long', 42)), { ok: true, text: '42' });
    assert.deepEqual(await decoder.decode(framed(2, 'long', -1)), { ok: true, text: '-1' });
    // Past 2^53 avsc's default long throws; a rounded long would merge two keys. Written by hand:
    // 2^53 + 1 as a zig-zag varint.
    const big = Buffer.concat([Buffer.from([0, 0, 0, 0, 5]), zigzagVarint(2n ** 53n + 1n)]);
    assert.deepEqual(await decoder.decode(big), { ok: true, text: '9007199254740993' });
    assert.deepEqual(await decoder.decode(framed(6, 'bytes', Buffer.from([0xff, 0]))), { ok: true, text: '/wA=' });
  });

  it('decodes a record to canonical JSON: the same key whatever the writer field order', async () => {
    const a = await decoder.decode(framed(3, userKey, { tenant: 'acme', id: 7 }));
    const b = await decoder.decode(framed(4, userKeyReordered, { id: 7, tenant: 'acme' }));
    assert.deepEqual(a, { ok: true, text: '{"id":7,"tenant":"acme"}' });
    assert.deepEqual(b, a);
  });

  it('is synchronous once the schema is known', async () => {
    const fresh = new AvroKeyDecoder(registryWith({ 1: 'string' }));
    const key = framed(1, 'string', 'k');
    assert.equal(fresh.decodeCached(key), undefined, 'needs the registry first');
    await fresh.decode(key);
    assert.deepEqual(fresh.decodeCached(key), { ok: true, text: 'k' });
  });

  it('reports keys that are not framed Avro, unknown schemas and corrupt payloads', async () => {
    assert.equal((await decoder.decode(Buffer.from('plain-key'))).ok, false);
    assert.deepEqual(errorType(await decoder.decode(Buffer.from('plain-key'))), 'avro_key_wire_format');
    assert.deepEqual(errorType(await decoder.decode(framed(99, 'string', 'k'))), 'avro_key_unknown_schema');
    assert.deepEqual(errorType(await decoder.decode(Buffer.from([0, 0, 0, 0, 1, 0x7f]))), 'avro_key_corrupt');
  });
});

describe('canonical key text', () => {
  it('sorts object keys at every level and keeps bigints exact', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2n ** 60n, null], c: 'x' } }), '{"a":{"c":"x","d":[1152921504606846976,null]},"b":1}');
    assert.equal(avroKeyText(null), null);
    assert.equal(avroKeyText(true), 'true');
    assert.equal(avroKeyText({ string: 'u' }), '{"string":"u"}');
  });
});

describe('RecordDecoders: keys for the sync and async prepare', () => {
  let server: Server;
  let registryUrl = '';
  const served = { 11: 'long', 12: userKey } as Record<number, unknown>;
  let requests = 0;
  before(async () => {
    server = createServer((req, res) => {
      requests++;
      const id = Number(/\/schemas\/ids\/(\d+)$/.exec(req.url ?? '')?.[1]);
      if (served[id] === undefined) {
        res.writeHead(404).end('{"error_code":40403}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ schema: JSON.stringify(served[id]) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const logger = createLogger('silent');
  const rec = (key: Buffer | null, value: string | null, offset = 0n): SourceRecord => ({ topic: 't', partition: 0, offset, timestamp: 0n, key, value: value === null ? null : Buffer.from(value), headers: new Map() });
  const decodersFor = (flags: string[]) => {
    const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'i' }, flags });
    return { config, decoders: recordDecoders(config, logger, new AbortController().signal), options: transformOptions(config) };
  };

  it('keyFormat avro: undefined from the sync path until the schema is fetched, then sync', async () => {
    const { decoders, options } = decodersFor(['--document.keyFormat=avro', `--schemaRegistry.url=${registryUrl}`]);
    try {
      const key = framed(11, 'long', 9);
      const record = rec(key, '{"a":1}');
      assert.equal(decoders.decodeRecordSync(record), undefined);
      const decoded = await decoders.decodeRecordAsync(record);
      assert.deepEqual(decoded.key, { ok: true, text: '9' });
      assert.deepEqual(buildOperation(record, decoded, options), { ok: true, op: { action: 'index', index: 'i', id: '9', source: Buffer.from('{"a":1}'), version: 0n } });
      assert.deepEqual(decoders.decodeRecordSync(rec(framed(11, 'long', 10), null)), { value: null, key: { ok: true, text: '10' } }, 'cached now');
      const composite = await decoders.decodeRecordAsync(rec(framed(12, userKey, { tenant: 't1', id: 3 }), null));
      assert.deepEqual(buildOperation(rec(null, null), composite, options), { ok: true, op: { action: 'delete', index: 'i', id: '{"id":3,"tenant":"t1"}', version: 0n } });
      const unknown = await decoders.decodeRecordAsync(rec(framed(13, 'long', 1), '{}'));
      assert.deepEqual(errorType(buildOperation(rec(null, null), unknown, options)), 'avro_key_unknown_schema');
    } finally {
      await decoders.close();
    }
  });

  it('decodes the key only when the record uses it (no registry call, no failure otherwise)', async () => {
    const before = requests;
    const { decoders, options } = decodersFor(['--document.keyFormat=avro', `--schemaRegistry.url=${registryUrl}`, '--document.id=coordinate', '--document.nullValues=ignore']);
    try {
      assert.deepEqual(decoders.decodeRecordSync(rec(framed(11, 'long', 1), '{"a":1}')), { value: { ok: true, value: {} }, key: undefined, raw: Buffer.from('{"a":1}') });
      const tombstone = decoders.decodeRecordSync(rec(framed(11, 'long', 1), null));
      assert.deepEqual(buildOperation(rec(null, null), tombstone!, options), { ok: true, skip: 'tombstone' });
      assert.equal(requests, before);
    } finally {
      await decoders.close();
    }
  });

  it('keyFormat long with a JSON value: sync, exact ids; a wrong length is a transform failure', async () => {
    const { decoders, options } = decodersFor(['--document.keyFormat=long']);
    const key = Buffer.alloc(8);
    key.writeBigInt64BE(-5n);
    const record = rec(key, '{"a":1}');
    assert.deepEqual(buildOperation(record, decoders.decodeRecordSync(record)!, options), { ok: true, op: { action: 'index', index: 'i', id: '-5', source: Buffer.from('{"a":1}'), version: 0n } });
    const short = rec(Buffer.from([1, 2]), '{"a":1}');
    const failed = buildOperation(short, decoders.decodeRecordSync(short)!, options);
    assert.deepEqual(failed.ok ? undefined : [failed.errorClass, failed.errorType], ['transform', 'invalid_key_encoding']);
    await decoders.close();
  });

  it('a value that fails to decode stays a decode failure (its key is not read)', () => {
    const { decoders, options } = decodersFor([]);
    const record = rec(Buffer.from([0xff]), '{bad');
    const decoded = decoders.decodeRecordSync(record)!;
    assert.equal(decoded.key, undefined);
    const result = buildOperation(record, decoded, options);
    assert.deepEqual(result.ok ? undefined : [result.errorClass, result.errorType], ['decode', 'invalid_json']);
  });
});

describe('the skip outcome in a batch', () => {
  it('is neither an operation nor a failure: acknowledged apart', () => {
    const rec = (offset: bigint, value: string | null): SourceRecord => ({ topic: 't', partition: 0, offset, timestamp: 0n, key: null, value: value === null ? null : Buffer.from(value), headers: new Map() });
    const queue = [
      prepare(rec(0n, '{}'), { op: { action: 'index', index: 'i', id: 'a', source: '{}' } }, 1000),
      prepare(rec(1n, null), { skip: 'tombstone' }, 1000),
      prepare(rec(2n, '{}'), { failure: { errorClass: 'transform', errorType: 'x', reason: 'y' } }, 1000),
    ];
    const batch = takeBatch(queue, 10, 1_000_000);
    assert.deepEqual(batch.skipped.map((r) => r.offset), [1n]);
    assert.deepEqual(batch.failed.map((r) => r.offset), [2n]);
    assert.deepEqual(batch.slots.map((s) => s.candidates.map((r) => r.offset)), [[0n]]);
  });
});

describe('config: document.nullValues and document.keyFormat', () => {
  const env = { K2E_TOPICS: 't', K2E_INDEX: 'i' };
  it('default to delete and string', () => {
    const config = loadConfig({ env });
    assert.equal(config.document.nullValues, 'delete');
    assert.equal(config.document.keyFormat, 'string');
    assert.equal(loadConfig({ env, flags: ['--document.nullValues=ignore', '--document.keyFormat=long'] }).document.keyFormat, 'long');
  });

  it('name the allowed values', () => {
    assert.throws(() => loadConfig({ env, flags: ['--document.nullValues=drop'] }), (e: Error) => e instanceof ConfigError && /--document.nullValues \(document.nullValues\) is "drop": expected delete .*, ignore .* or fail/.test(e.message));
    assert.throws(() => loadConfig({ env, flags: ['--document.keyFormat=utf16'] }), (e: Error) => e instanceof ConfigError && /--document.keyFormat \(document.keyFormat\) is "utf16": expected string \(UTF-8\), base64, hex, long .* or avro/.test(e.message));
  });

  it('keyFormat avro needs the schema registry', () => {
    const config = loadConfig({ env, flags: ['--document.keyFormat=avro'] });
    assert.throws(() => recordDecoders(config, createLogger('silent'), new AbortController().signal), /document.keyFormat is avro but schemaRegistry.url is not set/);
  });
});

function errorType(result: { ok: boolean; errorType?: string }): string | undefined {
  return result.ok ? undefined : result.errorType;
}

/** Avro's long encoding: zig-zag, then base-128 varint. */
function zigzagVarint(n: bigint): Buffer {
  let z = n >= 0n ? n << 1n : (-n << 1n) - 1n;
  const bytes: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) b |= 0x80;
    bytes.push(b);
  } while (z > 0n);
  return Buffer.from(bytes);
}
