// Property tests (fast-check): whatever bytes a producer writes (keys, values, headers, timestamps),
// under each way the service can be configured to read them, record preparation ends every record as
// exactly one operation, one failure (a dead letter) or one skip, and nothing throws out; an operation
// always encodes into a well-formed bulk line pair. The seed is printed; replay a failure with
// FC_SEED=<seed> (and fast-check's printed path) to get the same inputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import fc from 'fast-check';
import { loadConfig } from '../../src/config/load.js';
import { AvroDecoder } from '../../src/decode/avro.js';
import { recordDecoders, TopicPlans } from '../../src/transform/topic-plan.js';
import { SchemaRegistryClient } from '../../src/decode/schema-registry.js';
import type { PreparedRecord } from '../../src/pipeline/batch.js';
import { RecordPreparer } from '../../src/pipeline/prepare-record.js';
import { bulkBody, encode } from '../../src/sink/bulk-request.js';
import type { SourceRecord } from '../../src/source/record.js';
import { createLogger } from '../../src/util/logger.js';
import { testSeed } from '../helpers/random.js';

const seed = testSeed('prepare properties (fast-check)', ['FC_SEED']);
const runs = (numRuns: number) => ({ seed, numRuns });

/** Configurations that read records in every way the transform can. */
const CONFIGS: Record<string, string[]> = {
  'pass-through': [],
  'transform + field id + routing': ['--transform.drop=pad', '--transform.rename.a=b', '--document.id=field:id', '--document.routing=field:region', '--document.version=none'],
  'templates from fields, key and headers': ['--elastic.index={field:region}-{key}-{header:h}', '--elastic.fallbackIndex=unrouted', '--elastic.maxIndices=50', '--document.version=none'],
  'dated index from a field, version from a field': ['--elastic.index=ev-{field:ts|yyyy.MM.dd}', '--document.version=field:version', '--document.id=field:id'],
  'action field, upserts': ['--document.actionField=op', '--document.version=none'],
  debezium: ['--decode.envelope=debezium'],
  'data stream, coordinate ids': ['--elastic.dataStream.dataset={field:kind}', '--document.id=coordinate', '--elastic.index='],
  'long keys, header versions': ['--document.keyFormat=long', '--document.version=header:v'],
  'hex keys, timestamp versions': ['--document.keyFormat=hex', '--document.version=timestamp'],
  'string values': ['--decode.format=string', '--document.id=coordinate'],
};

function preparerFor(flags: string[]): RecordPreparer {
  const env: Record<string, string> = { K2E_TOPICS: 't' };
  const withoutIndex = flags.includes('--elastic.index=');
  if (!withoutIndex) env.K2E_INDEX = 'i';
  const config = loadConfig({ env, flags: flags.filter((f) => f !== '--elastic.index=') });
  const signal = new AbortController().signal;
  const plans = new TopicPlans(config);
  return new RecordPreparer(config, recordDecoders(config, createLogger('silent'), signal, plans), plans, signal);
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const text = fc.string({ unit: 'binary', maxLength: 80 });
const nested = fc.integer({ min: 0, max: 2000 }).map((d) => `{"id":"n","x":${'['.repeat(d)}${']'.repeat(d)}}`);
/** Objects with the fields the configurations read, holding anything. */
const fieldy = fc
  .record(
    {
      id: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.jsonValue()),
      region: fc.oneof(fc.constantFrom('eu', 'us', 'EU', 'a b', '..', '', 'x'.repeat(300)), text, fc.jsonValue()),
      kind: fc.oneof(fc.constantFrom('web', 'Web', '-x', ''), text),
      ts: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constant(-1e20)),
      version: fc.oneof(fc.nat(), fc.bigInt({ min: -5n, max: 2n ** 64n }).map(String), fc.string(), fc.double()),
      op: fc.oneof(fc.constantFrom('index', 'create', 'update', 'upsert', 'delete', 'c', 'u', 'd', 'r', 't'), text),
      after: fc.oneof(fc.constant(null), fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
      before: fc.oneof(fc.constant(null), fc.dictionary(fc.string(), fc.jsonValue())),
      pad: fc.jsonValue(),
      a: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));
const value = fc.oneof(
  fc.constant(null),
  bytes(300),
  fc.json().map((j) => j),
  fieldy,
  fieldy.map((j) => `{"schema":{},"payload":${j}}`),
  nested,
  fc.string({ unit: 'grapheme', maxLength: 200 }).map((s) => `{${s}}`),
  text.map((s) => `{"a":"${s}"}`),
);
const key = fc.oneof(fc.constant(null), fc.string({ maxLength: 40 }), bytes(16), fc.string({ minLength: 500, maxLength: 700 }));
const headers = fc.dictionary(
  fc.oneof(fc.constantFrom('h', 'v', 'k2e.source.topic', 'k2e.source.partition', 'k2e.source.offset', 'authorization'), fc.string({ maxLength: 10 })),
  bytes(20),
  { maxKeys: 4 },
);
const record: fc.Arbitrary<SourceRecord> = fc
  .record({
    key,
    value: value.map((v) => (v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(v))),
    headers,
    timestamp: fc.oneof(fc.bigInt({ min: -1n, max: 2n ** 63n - 1n }), fc.constant(1_767_225_600_000n)),
    offset: fc.bigInt({ min: 0n, max: 2n ** 62n }),
  })
  .map((r) => ({
    topic: 't',
    partition: 0,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : Buffer.isBuffer(r.key) ? r.key : Buffer.from(r.key),
    value: r.value,
    headers: new Map(Object.entries(r.headers)),
  }));

/** Exactly one outcome; an operation encodes into NDJSON the engine can frame. */
function assertOneOutcome(prepared: PreparedRecord): void {
  assert.equal(prepared.pending, undefined, 'JSON records are prepared synchronously');
  const outcomes = [prepared.op !== undefined, prepared.failure !== undefined, prepared.skip !== undefined].filter(Boolean).length;
  assert.equal(outcomes, 1, `exactly one of op, failure, skip: ${JSON.stringify({ op: prepared.op?.action, failure: prepared.failure, skip: prepared.skip })}`);
  if (prepared.failure) {
    assert.ok(['decode', 'transform', 'oversize'].includes(prepared.failure.errorClass));
    // Contained, but a throw is a bug: every kind of bad input has a failure type of its own.
    assert.notEqual(prepared.failure.errorType, 'internal_error', prepared.failure.reason);
    assert.ok(prepared.failure.errorType.length > 0 && prepared.failure.reason.length > 0);
    return;
  }
  if (!prepared.op) return;
  const body = bulkBody([encode(prepared.op)]).toString('utf8');
  assert.ok(body.endsWith('\n'));
  const lines = body.slice(0, -1).split('\n');
  assert.equal(lines.length, prepared.op.action === 'delete' ? 1 : 2, 'one action line, and one source line unless a delete');
  const action = JSON.parse(lines[0]!) as Record<string, { _index: string }>;
  assert.equal(Object.keys(action)[0], prepared.op.action);
  assert.ok(action[prepared.op.action]!._index.length > 0);
}

describe('record preparation, for any input (property)', () => {
  for (const [name, flags] of Object.entries(CONFIGS)) {
    it(`${name}: one operation, failure or skip per record; nothing throws`, () => {
      const preparer = preparerFor(flags);
      fc.assert(
        fc.property(record, (r) => assertOneOutcome(preparer.prepare(r))),
        runs(250),
      );
    });
  }
});

describe('Avro decoding, for any bytes (property)', () => {
  const schemas = [
    { type: 'record', name: 'Tweet', fields: [{ name: 'id', type: 'long' }, { name: 'text', type: 'string' }, { name: 'tags', type: { type: 'array', items: 'string' } }] },
    { type: 'record', name: 'Nulls', fields: [{ name: 'a', type: { type: 'array', items: 'null' } }, { name: 'm', type: { type: 'map', values: ['null', 'int'] } }] },
    { type: 'record', name: 'Node', fields: [{ name: 'v', type: 'int' }, { name: 'next', type: ['null', 'Node'] }] },
    { type: 'record', name: 'Mixed', fields: [{ name: 'f', type: { type: 'fixed', name: 'F', size: 4 } }, { name: 'e', type: { type: 'enum', name: 'E', symbols: ['A', 'B'] } }, { name: 'd', type: 'double' }, { name: 'b', type: 'bytes' }] },
  ];
  const samples = [
    { id: 1n, text: 'hello', tags: ['a', 'b'] },
    { a: [null, null, null], m: { x: 1, y: null } },
    { v: 1, next: { v: 2, next: { v: 3, next: null } } },
    { f: Buffer.from('abcd'), e: 'B', d: 1.5, b: Buffer.from([1, 2, 3]) },
  ];
  const registry = new (class extends SchemaRegistryClient {
    override cached(id: number): string | undefined {
      const schema = schemas[id];
      return schema === undefined ? undefined : JSON.stringify(schema);
    }
  })({ url: 'http://127.0.0.1:1' });
  const decoder = new AvroDecoder(registry, undefined, { maxItems: 10_000, maxDepth: 64 });
  const encoded = schemas.map((schema, id) => {
    const type = avro.Type.forSchema(schema as avro.Schema, { typeHook: (s) => (s === 'long' ? avro.types.LongType.__with({ fromBuffer: (b: Buffer) => b.readBigInt64LE(0), toBuffer: (n: bigint) => { const buf = Buffer.alloc(8); buf.writeBigInt64LE(n); return buf; }, fromJSON: BigInt, toJSON: Number, isValid: (n: unknown) => typeof n === 'bigint', compare: () => 0 }) : undefined) });
    const header = Buffer.from([0, 0, 0, 0, id]);
    return Buffer.concat([header, type.toBuffer(samples[id])]);
  });

  it('every mutation of a valid value decodes or fails as a value; none throws, none allocates past maxItems', () => {
    const mutation = fc.record({
      schema: fc.nat({ max: schemas.length - 1 }),
      edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
      tail: bytes(12),
      cut: fc.nat({ max: 40 }),
    });
    fc.assert(
      fc.property(mutation, ({ schema, edits, tail, cut }) => {
        const value = Buffer.concat([encoded[schema]!, tail]);
        for (const { at, byte } of edits) value[5 + (at % Math.max(1, value.length - 5))] = byte;
        const input = value.subarray(0, Math.max(5, value.length - cut));
        const decoded = decoder.decodeCached(input);
        assert.ok(decoded !== undefined, 'the schema is cached');
        if (!decoded.ok) assert.ok(decoded.errorType.length > 0);
      }),
      runs(2000),
    );
  });
});
