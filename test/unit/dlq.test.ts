// The pure parts of the dlq tools: reading our headers (also of a record dead-lettered twice), the
// summary counts, the re-drive's configuration, the bounded source, and ids of re-driven records.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { BoundedSource } from '../../src/dead-letter-admin/bounded-source.js';
import { parseDeadLetter } from '../../src/dead-letter-admin/records.js';
import { chooseSourceTopic, RedriveError, redriveConfig } from '../../src/dead-letter-admin/redrive.js';
import { SummaryBuilder } from '../../src/dead-letter-admin/summary.js';
import type { RecordSource, SourceHandlers } from '../../src/source/kafka-source.js';
import type { SourceRecord } from '../../src/source/record.js';
import { coordinateId, documentId } from '../../src/transform/document-id.js';
import { documentVersion } from '../../src/transform/document-version.js';
import { compileTarget, resolveTarget } from '../../src/transform/target.js';
import { topicSettings } from '../../src/config/topic-settings.js';

const h = (pairs: [string, string][]): [Buffer, Buffer][] => pairs.map(([k, v]) => [Buffer.from(k), Buffer.from(v)]);
const ours = (topic: string, partition: number, offset: number, type = 'invalid_json'): [string, string][] => [
  ['k2e.error.class', 'decode'],
  ['k2e.error.type', type],
  ['k2e.error.reason', `reason ${type}`],
  ['k2e.source.topic', topic],
  ['k2e.source.partition', String(partition)],
  ['k2e.source.offset', String(offset)],
  ['k2e.source.timestamp', '1700000000000'],
  ['k2e.instance', 'host-1'],
];
const raw = (headers: [string, string][], partition = 0, offset = 0n) => ({ topic: 'orders.dlq', partition, offset, timestamp: 1700000001000n, key: Buffer.from('k'), value: Buffer.from('{'), headers: h(headers) });

describe('parseDeadLetter', () => {
  it('reads the reason and the source, and keeps the producer headers apart', () => {
    const r = parseDeadLetter(raw([['trace', 'abc'], ...ours('orders', 3, 41)]));
    assert.equal(r.errorClass, 'decode');
    assert.equal(r.errorType, 'invalid_json');
    assert.deepEqual(r.source, { topic: 'orders', partition: 3, offset: 41n, timestamp: 1700000000000n });
    assert.deepEqual(r.headers.map(([k, v]) => [k, v.toString()]), [['trace', 'abc']]);
  });

  it('for a record dead-lettered twice: the latest failure, the original source', () => {
    const r = parseDeadLetter(raw([...ours('orders', 3, 41), ...ours('orders.dlq', 0, 7, 'mapper_parsing_exception')]));
    assert.equal(r.errorType, 'mapper_parsing_exception');
    assert.equal(r.source?.topic, 'orders');
    assert.equal(r.source?.offset, 41n);
  });

  it('has no source without our headers', () => {
    assert.equal(parseDeadLetter(raw([['k2e.source.topic', 'orders']])).source, undefined);
    assert.equal(parseDeadLetter(raw([])).errorClass, 'unknown');
  });
});

describe('SummaryBuilder', () => {
  it('counts by error and by source partition, with the source offset range', () => {
    const b = new SummaryBuilder();
    b.add(parseDeadLetter(raw(ours('orders', 0, 5))));
    b.add(parseDeadLetter(raw(ours('orders', 0, 9))));
    b.add(parseDeadLetter(raw(ours('orders', 1, 2, 'mapper_parsing_exception'))));
    const s = b.build('orders.dlq', new Map([['orders.dlq:0', { end: 3n }]]));
    assert.equal(s.records, 3);
    assert.deepEqual(s.endOffsets, { '0': '3' });
    assert.deepEqual(s.byError, [
      { errorClass: 'decode', errorType: 'invalid_json', count: 2 },
      { errorClass: 'decode', errorType: 'mapper_parsing_exception', count: 1 },
    ]);
    assert.deepEqual(s.bySource, [
      { topic: 'orders', partition: 0, count: 2, firstOffset: '5', lastOffset: '9' },
      { topic: 'orders', partition: 1, count: 1, firstOffset: '2', lastOffset: '2' },
    ]);
  });
});

describe('redriveConfig', () => {
  const env = (topics: string, extra: Record<string, string> = {}) => loadConfig({ env: { K2E_TOPICS: topics, K2E_INDEX: 'idx', K2E_GROUP_ID: 'svc', ...extra } });

  it('reads the dead-letter topic with its own group from the beginning, decoded like the source', () => {
    const config = redriveConfig(loadConfig({ env: { K2E_TOPICS: 'orders', K2E_INDEX: 'idx' }, flags: ['--decode.topics.orders=string', '--kafka.autoOffsetReset=latest', '--delivery=auto-commit'] }), 'orders', 'g', 0);
    assert.deepEqual(config.kafka.topics, ['orders.dlq']);
    assert.equal(config.kafka.groupId, 'g');
    assert.equal(config.kafka.autoOffsetReset, 'earliest');
    assert.equal(config.delivery, 'at-least-once');
    assert.equal(config.decode.topics?.['orders.dlq'], 'string');
    assert.equal(config.elastic.index, 'idx');
    assert.equal(config.http.port, 0);
    assert.equal(config.maxHeapMb, 0);
  });

  it('keeps the version strategy of the source configuration', () => {
    assert.equal(redriveConfig(env('orders'), 'orders', 'g', 0).document.version, 'offset');
    // Two topics into one index: auto means none, and must not become offset for the one dlq topic.
    assert.equal(redriveConfig(env('orders,payments'), 'orders', 'g', 0).document.version, 'none');
    assert.equal(redriveConfig(env('orders', { K2E_DOCUMENT_ID: 'coordinate' }), 'orders', 'g', 0).document.version, 'none');
  });

  it('names the data stream of the source topic, not of its dead-letter topic', () => {
    const config = redriveConfig(loadConfig({ env: { K2E_TOPICS: 'Orders-EU', K2E_GROUP_ID: 'svc' }, flags: ['--elastic.dataStream.dataset={topic}', '--elastic.dataStream.namespace=ns_{topic}'] }), 'Orders-EU', 'g', 0);
    const target = compileTarget(topicSettings(config, 'Orders-EU.dlq'));
    const record = { topic: 'Orders-EU.dlq', timestamp: 0n, headers: new Map<string, Buffer>() };
    assert.deepEqual(resolveTarget(target, { record, key: null, value: {} }), { ok: true, index: 'logs-orders_eu-ns_orders_eu' });
  });

  it('chooses the source topic', () => {
    assert.equal(chooseSourceTopic(env('orders'), undefined), 'orders');
    assert.equal(chooseSourceTopic(env('orders,payments'), 'payments'), 'payments');
    assert.throws(() => chooseSourceTopic(env('orders,payments'), undefined), RedriveError);
    assert.throws(() => chooseSourceTopic(env('orders'), 'other'), RedriveError);
  });
});

describe('BoundedSource', () => {
  it('delivers records below the end offsets only', async () => {
    let handlers: SourceHandlers | undefined;
    const inner: RecordSource = { start: async (h) => void (handlers = h), pause() {}, resume() {}, paused: false, commit: async () => {}, close: async () => {} };
    const delivered: string[] = [];
    const bounded = new BoundedSource(inner, new Map([['d:0', 2n], ['d:1', 0n]]));
    await bounded.start({ onRecord: (r) => delivered.push(`${r.partition}@${r.offset}`), onRevoking() {}, onAssigned: () => new Map(), onPositioned() {}, onLost() {}, onPoison() {}, onSkipped() {} });
    const record = (partition: number, offset: bigint): SourceRecord => ({ topic: 'd', partition, offset, timestamp: 0n, key: null, value: null, headers: new Map() });
    for (const [p, o] of [[0, 0n], [0, 1n], [0, 2n], [1, 0n], [2, 0n]] as const) handlers!.onRecord(record(p, o));
    assert.deepEqual(delivered, ['0@0', '0@1']);
    assert.equal(bounded.dropped, 3);
  });
});

describe('ids and versions of re-driven records', () => {
  it('come from the origin the bounded source gives a dead letter of the re-driven topic', async () => {
    let handlers: SourceHandlers | undefined;
    const inner: RecordSource = { start: async (h) => void (handlers = h), pause() {}, resume() {}, paused: false, commit: async () => {}, close: async () => {} };
    const delivered: SourceRecord[] = [];
    const bounded = new BoundedSource(inner, new Map([['orders.dlq:0', 10n]]), 'orders');
    await bounded.start({ onRecord: (r) => delivered.push(r), onRevoking() {}, onAssigned: () => new Map(), onPositioned() {}, onLost() {}, onPoison() {}, onSkipped() {} });
    const headersOf = (pairs: [string, string][]) => new Map(pairs.map(([k, v]) => [k, Buffer.from(v)]));
    const record = (offset: bigint, headers: Map<string, Buffer>): SourceRecord => ({ topic: 'orders.dlq', partition: 0, offset, timestamp: 5n, key: null, value: null, headers });
    handlers!.onRecord(record(7n, headersOf(ours('orders', 3, 41))));
    handlers!.onRecord(record(8n, headersOf(ours('payments', 1, 9)))); // another topic's: not this re-drive's identity
    handlers!.onRecord(record(9n, headersOf([['k2e.source.topic', 'orders'], ['k2e.source.offset', 'x']])));
    assert.deepEqual(delivered[0]!.origin, { topic: 'orders', partition: 3, offset: 41n, timestamp: delivered[0]!.origin!.timestamp });
    assert.equal(coordinateId(delivered[0]!), 'orders-3-41');
    assert.deepEqual(documentId(delivered[0]!, null, {}, 'key'), { ok: true, id: 'orders-3-41' });
    assert.deepEqual(documentVersion(delivered[0]!, {}, 'offset'), { ok: true, version: 41n });
    assert.equal(delivered[1]!.origin, undefined);
    assert.equal(coordinateId(delivered[1]!), 'orders.dlq-0-8');
    assert.equal(delivered[2]!.origin, undefined);
  });

  it('are never taken from k2e.source.* headers of an ordinary record (a producer can forge them)', () => {
    const headers = new Map(ours('other-topic', 3, 41).map(([k, v]) => [k, Buffer.from(v)]));
    headers.set('k2e.source.offset', Buffer.from('9223372036854775000'));
    const forged: SourceRecord = { topic: 'orders', partition: 1, offset: 2n, timestamp: 0n, key: null, value: null, headers };
    assert.equal(coordinateId(forged), 'orders-1-2');
    assert.deepEqual(documentVersion(forged, {}, 'offset'), { ok: true, version: 2n });
  });
});
