// The limits that keep one hostile record from costing more than one dead letter (issue 23): JSON
// nesting, Avro block counts and depth, index names a template produces, producer-chosen pipelines,
// and the containment of whatever a record makes throw.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { loadConfig } from '../../src/config/load.js';
import { checkAvroBounds, needsBounds } from '../../src/decode/avro-bounds.js';
import { AvroDecoder } from '../../src/decode/avro.js';
import { recordDecoders, TopicPlans } from '../../src/transform/topic-plan.js';
import { decodeJson, nestingBeyond } from '../../src/decode/json.js';
import { SchemaRegistryClient } from '../../src/decode/schema-registry.js';
import { RecordPreparer } from '../../src/pipeline/prepare-record.js';
import { classifyItem } from '../../src/sink/bulk-response.js';
import type { SourceRecord } from '../../src/source/record.js';
import { IndexBudget } from '../../src/transform/index-budget.js';
import { compileTarget, resolveTarget } from '../../src/transform/target.js';
import { createLogger } from '../../src/util/logger.js';

const deep = (levels: number): Buffer => Buffer.from(`{"x":${'['.repeat(levels)}${']'.repeat(levels)}}`);

describe('JSON nesting', () => {
  it('finds the byte where nesting passes the limit, ignoring brackets inside strings', () => {
    assert.equal(nestingBeyond(deep(10), 20), undefined, 'short values are not scanned');
    assert.equal(nestingBeyond(deep(10), 8), 5 + 7);
    assert.equal(nestingBeyond(deep(300), 256), 5 + 255, 'the 257th opening bracket (the object is the first)');
    assert.equal(nestingBeyond(Buffer.from(`{"s":"${'['.repeat(600)}"}`), 256), undefined, 'brackets in a string');
    assert.equal(nestingBeyond(Buffer.from(`{"s":"\\"${'['.repeat(600)}"}`), 256), undefined, 'after an escaped quote still in the string');
    assert.equal(nestingBeyond(Buffer.from(`{"s":"\\\\",${'"a":['.repeat(300)}1${']'.repeat(300)}}`), 256) !== undefined, true, 'an escaped backslash ends no string');
  });

  it('refuses too deep JSON as decode/too_deep before parsing', () => {
    const decoded = decodeJson(deep(20_000));
    assert.equal(decoded.ok, false);
    assert.equal(!decoded.ok && decoded.errorType, 'too_deep');
    assert.equal(decodeJson(deep(200), 256).ok, true);
    assert.equal(decodeJson(deep(200), 100).ok, false);
  });
});

describe('Avro bounds', () => {
  const limits = { maxItems: 1000, maxDepth: 20 };
  const zigzag = (n: number): Buffer => {
    const bytes: number[] = [];
    let v = n >= 0 ? n * 2 : -n * 2 - 1;
    while (v >= 0x80) {
      bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    bytes.push(v);
    return Buffer.from(bytes);
  };
  const nulls = avro.Type.forSchema({ type: 'record', name: 'R', fields: [{ name: 'a', type: { type: 'array', items: 'null' } }] });

  it('refuses a block count of zero-width items past maxItems (the 10-byte bomb)', () => {
    const bomb = Buffer.concat([zigzag(50_000_000), zigzag(0)]);
    assert.deepEqual(checkAvroBounds(nulls, bomb, 0, limits)?.errorType, 'too_many_items');
    assert.equal(checkAvroBounds(nulls, nulls.toBuffer({ a: new Array(1000).fill(null) }), 0, limits), undefined);
  });

  it('refuses a block whose items cannot fit in the bytes left', () => {
    const ints = avro.Type.forSchema({ type: 'array', items: 'int' });
    const lying = Buffer.concat([zigzag(500), zigzag(1), zigzag(0)]);
    assert.equal(checkAvroBounds(ints, lying, 0, limits)?.errorType, 'avro_corrupt');
    const maps = avro.Type.forSchema({ type: 'map', values: 'string' });
    assert.equal(checkAvroBounds(maps, Buffer.concat([zigzag(-400), zigzag(3), Buffer.from('abc')]), 0, limits)?.errorType, 'avro_corrupt');
    assert.equal(checkAvroBounds(maps, maps.toBuffer({ a: 'x', b: 'y' }), 0, limits), undefined);
  });

  it('bounds the depth of recursive records and leaves flat schemas alone', () => {
    const list = avro.Type.forSchema({ type: 'record', name: 'Node', fields: [{ name: 'v', type: 'int' }, { name: 'next', type: ['null', 'Node'] }] });
    assert.equal(needsBounds(list), true);
    let value: { v: number; next: unknown } = { v: 0, next: null };
    for (let i = 1; i < 30; i++) value = { v: i, next: value };
    const bytes = list.toBuffer(value);
    assert.equal(checkAvroBounds(list, bytes, 0, limits)?.errorType, 'too_deep');
    assert.equal(checkAvroBounds(list, bytes, 0, { ...limits, maxDepth: 100 }), undefined);
    const flat = avro.Type.forSchema({ type: 'record', name: 'F', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: ['null', 'long'] }] });
    assert.equal(needsBounds(flat), false);
  });

  it('the decoder answers too_many_items instead of allocating', () => {
    const schema = JSON.stringify({ type: 'record', name: 'Bomb', fields: [{ name: 'n', type: 'int' }, { name: 'a', type: { type: 'array', items: 'null' } }] });
    const registry = new (class extends SchemaRegistryClient {
      override cached(id: number): string | undefined {
        return id === 7 ? schema : undefined;
      }
    })({ url: 'http://127.0.0.1:1' });
    const decoder = new AvroDecoder(registry, undefined, { maxItems: 1_000_000, maxDepth: 256 });
    const header = Buffer.from([0, 0, 0, 0, 7]);
    const decoded = decoder.decodeCached(Buffer.concat([header, zigzag(1), zigzag(50_000_000), zigzag(0)]));
    assert.equal(decoded?.ok, false);
    assert.equal(decoded && !decoded.ok && decoded.errorType, 'too_many_items');
    const good = decoder.decodeCached(Buffer.concat([header, zigzag(1), zigzag(2), zigzag(0)]));
    assert.deepEqual(good, { ok: true, value: { n: 1, a: [null, null] } });
  });
});

describe('names producers choose', () => {
  it('elastic.maxIndices admits the first names and refuses new ones past the cap', () => {
    const budget = new IndexBudget(2);
    assert.equal(budget.admit('a'), undefined);
    assert.equal(budget.admit('b'), undefined);
    assert.equal(budget.admit('a'), undefined);
    assert.equal(budget.admit('c')?.errorType, 'too_many_indices');
    assert.equal(budget.size, 2);
  });

  it('elastic.allowedIndices refuses other template names, or hands them to the fallback', () => {
    const record = { topic: 'orders', timestamp: 0n, headers: new Map<string, Buffer>() };
    const target = compileTarget({ index: 'orders-{field:region}', allowedIndices: 'orders-(eu|us)' });
    assert.deepEqual(resolveTarget(target, { record, key: null, value: { region: 'eu' } }), { ok: true, index: 'orders-eu' });
    const refused = resolveTarget(target, { record, key: null, value: { region: 'mars' } });
    assert.equal(refused.ok, false);
    assert.equal(!refused.ok && refused.errorType, 'index_not_allowed');
    const withFallback = compileTarget({ index: 'orders-{field:region}', fallbackIndex: 'orders-unrouted', allowedIndices: 'orders-(eu|us)' });
    assert.deepEqual(resolveTarget(withFallback, { record, key: null, value: { region: 'mars' } }), { ok: true, index: 'orders-unrouted' });
  });

  it('a missing pipeline the record named is the record\'s (rejected); a configured one holds (systemic)', () => {
    const item = { status: 400, error: { type: 'illegal_argument_exception', reason: 'pipeline with id [evil-enrich] does not exist' } };
    assert.equal(classifyItem(item, { action: 'index', pipeline: 'evil-enrich', pipelineFromRecord: true }).kind, 'rejected');
    assert.equal(classifyItem(item, { action: 'index', pipeline: 'evil-enrich' }).kind, 'systemic');
    // The index's default pipeline missing, while the record named another: the cluster's problem.
    assert.equal(classifyItem(item, { action: 'index', pipeline: 'good-enrich', pipelineFromRecord: true }).kind, 'systemic');
    const target = compileTarget({ index: 'x', pipeline: '{field:kind}-enrich' });
    assert.equal(target.pipelineFromRecord, true);
    assert.equal(compileTarget({ index: 'x', pipeline: '{topic}-enrich' }).pipelineFromRecord, false);
  });
});

describe('record preparation contains what a record makes throw', () => {
  const record = (value: Buffer | null, key: string | null = 'k'): SourceRecord => ({ topic: 't', partition: 0, offset: 5n, timestamp: 1n, key: key === null ? null : Buffer.from(key), value, headers: new Map() });
  const preparer = (flags: string[]): RecordPreparer => {
    const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'i' }, flags });
    const plans = new TopicPlans(config);
    return new RecordPreparer(config, recordDecoders(config, createLogger('silent'), new AbortController().signal, plans), plans, new AbortController().signal);
  };

  it('deep JSON is too_deep by default; allowed that deep, the throw of the serializer is internal_error', () => {
    const withTransform = preparer(['--transform.drop=pad']);
    assert.equal(withTransform.prepare(record(deep(20_000))).failure?.errorType, 'too_deep');
    const allowed = preparer(['--transform.drop=pad', '--decode.maxDepth=1000000']);
    const failure = allowed.prepare(record(deep(200_000))).failure;
    assert.equal(failure?.errorClass, 'transform');
    assert.equal(failure?.errorType, 'internal_error');
    assert.match(failure?.reason ?? '', /RangeError/);
    assert.ok(withTransform.prepare(record(Buffer.from('{"a":1,"pad":2}'))).op, 'a good record still becomes an operation');
  });

  it('a record larger than decode.maxRecordBytes is refused unread', () => {
    const small = preparer(['--decode.maxRecordBytes=100']);
    const prepared = small.prepare(record(Buffer.from(`{"a":"${'x'.repeat(200)}"}`)));
    assert.equal(prepared.failure?.errorClass, 'oversize');
    assert.equal(prepared.failure?.errorType, 'record_too_large');
  });
});
