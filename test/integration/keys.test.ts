// Document ids from record keys, end to end: binary keys (8-byte longs that are not valid UTF-8, which
// the old UTF-8 reading merged into one id) indexed under their exact decimal ids with
// document.keyFormat long; tombstones with field ids dead-lettered (the key does not name the
// document) or, with document.nullValues ignore, acknowledged without a write; Avro keys through the
// real schema registry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { confluentAvro, registerSchema } from '../../src/cli/demo-produce.js';
import { createTopic, produce, readTopic, topicEndOffsets, type ProducedMessage, untilCommittedToEnd } from '../helpers/kafka.js';
import { allDocuments } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const registry = (stack as typeof stack & { registry?: string }).registry;

const longKey = (n: bigint): Buffer => {
  const key = Buffer.alloc(8);
  key.writeBigInt64BE(n);
  return key;
};

/** Runs the service on `topic` until every record is committed; returns its final /status. */
async function runToEnd(engineUrl: string, topic: string, flags: string[]) {
  const groupId = uniqueName(`${topic}-group`);
  const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engineUrl, K2E_INDEX: topic }, flags);
  const done = await untilCommittedToEnd(groupId, topic, 60_000);
  const status = await service.status();
  assert.equal(await service.stop(), 0, service.output().slice(-3000));
  assert.ok(done, service.output().slice(-3000));
  return status;
}

const dlqTotal = async (topic: string): Promise<bigint> => [...(await topicEndOffsets(`${topic}.dlq`)).values()].reduce((a, b) => a + b, 0n);

for (const engine of stack.engines) {
  describe(`document ids from keys on ${engine.name}`, () => {
    it('keyFormat long: distinct binary keys keep distinct, exact ids; tombstones delete by them', async () => {
      const topic = uniqueName('long-keys');
      await createTopic(topic, 2);
      // Negative longs start with 0xff/0xfe...: invalid UTF-8, and read as text all of these were one id.
      const keys = [-1n, -2n, -72057594037927935n, -144115188075855871n, -(2n ** 63n), 2n ** 63n - 1n, 1n, 9007199254740993n];
      const messages: ProducedMessage[] = keys.map((n, i) => ({ key: longKey(n), value: JSON.stringify({ n: i }), partition: i % 2 }));
      messages.push({ key: longKey(-2n), value: null, partition: 1 }); // deletes the document of -2
      messages.push({ key: Buffer.from([1, 2, 3, 4]), value: JSON.stringify({ n: 99 }), partition: 0 }); // not 8 bytes
      await produce(topic, messages);

      const status = await runToEnd(engine.url, topic, ['--document.keyFormat=long']);
      assert.equal(status?.deadLettered, 1);
      const docs = await allDocuments(engine.url, topic);
      const expected = keys.filter((n) => n !== -2n).map(String);
      assert.deepEqual([...docs.keys()].sort(), expected.sort());
      assert.deepEqual(docs.get('-72057594037927935'), { n: 2 });
      assert.deepEqual(docs.get('9007199254740993'), { n: 7 }, 'past 2^53, exact');

      const [dead] = await readTopic(`${topic}.dlq`, 1, 20_000);
      assert.equal(dead?.headers['k2e.error.class'], 'transform');
      assert.equal(dead?.headers['k2e.error.type'], 'invalid_key_encoding');
      assert.match(dead?.headers['k2e.error.reason'] ?? '', /key of 4 bytes is not an 8-byte big-endian long/);
    });

    it('field ids: a tombstone cannot name its document and is dead-lettered; with nullValues ignore it is acknowledged', async () => {
      const topic = uniqueName('field-tombstones');
      await createTopic(topic, 1);
      const messages: ProducedMessage[] = [];
      for (let i = 0; i < 10; i++) messages.push({ key: `k-${i}`, value: JSON.stringify({ user: { id: `u-${i}` }, n: i }) });
      messages.push({ key: 'k-3', value: null }); // with document.id field:user.id the key is not the id
      messages.push({ key: null, value: null });
      for (let i = 10; i < 15; i++) messages.push({ key: `k-${i}`, value: JSON.stringify({ user: { id: `u-${i}` }, n: i }) });
      await produce(topic, messages);

      const status = await runToEnd(engine.url, topic, ['--document.id=field:user.id']);
      assert.equal(status?.deadLettered, 2);
      const docs = await allDocuments(engine.url, topic);
      assert.equal(docs.size, 15, 'nothing deleted: u-3 is still there');
      assert.ok(docs.has('u-3'));
      const dead = await readTopic(`${topic}.dlq`, 2, 20_000);
      assert.equal(dead.length, 2);
      assert.equal(await dlqTotal(topic), 2n, 'exactly the tombstones');
      assert.deepEqual(dead.map((d) => d.key), ['k-3', null]);
      for (const d of dead) {
        assert.equal(d.value, null, 'the tombstone, unchanged');
        assert.equal(d.headers['k2e.error.class'], 'transform');
        assert.equal(d.headers['k2e.error.type'], 'tombstone_without_id');
        assert.match(d.headers['k2e.error.reason'] ?? '', /document\.id "field:user\.id".*no field \(user\.id\) can name the document.*document\.nullValues: ignore.*document\.id: key/);
        assert.equal(d.headers['k2e.source.topic'], topic);
        assert.equal(d.headers['k2e.source.partition'], '0');
        assert.match(d.headers['k2e.source.offset'] ?? '', /^1[01]$/);
        assert.match(d.headers['k2e.source.timestamp'] ?? '', /^\d+$/);
        assert.ok(d.headers['k2e.instance']);
      }

      // The same records with nullValues ignore: every offset committed, no dead letter, no write.
      const quiet = uniqueName('field-tombstones-ignored');
      await createTopic(quiet, 1);
      await produce(quiet, messages);
      const ignored = await runToEnd(engine.url, quiet, ['--document.id=field:user.id', '--document.nullValues=ignore']);
      assert.equal(ignored?.deadLettered, 0);
      assert.equal((await allDocuments(engine.url, quiet)).size, 15);
      assert.equal(await dlqTotal(quiet), 0n);
    });
  });
}

const engine = stack.engines[0]!;
describe(`Avro keys on ${engine.name}`, { skip: registry ? false : 'the stack runs no schema registry (STACK_REGISTRY=0)' }, () => {
  it('keyFormat avro: framed keys decoded through the registry; records as canonical JSON', async () => {
    const topic = uniqueName('avro-keys');
    await createTopic(topic, 1);
    const keySchema = { type: 'record', name: 'OrderKey', namespace: 'k2e.test', fields: [{ name: 'tenant', type: 'string' }, { name: 'id', type: 'long' }] };
    const schemaId = await registerSchema(registry!, `${topic}-key`, JSON.stringify(keySchema));
    const type = avro.Type.forSchema(keySchema as avro.Schema);
    const key = (tenant: string, id: number) => confluentAvro(schemaId, type, { tenant, id });
    await produce(topic, [
      { key: key('acme', 1), value: JSON.stringify({ n: 1 }) },
      { key: key('acme', 2), value: JSON.stringify({ n: 2 }) },
      { key: key('globex', 1), value: JSON.stringify({ n: 3 }) },
      { key: key('acme', 2), value: null }, // deletes {"id":2,"tenant":"acme"}
      { key: confluentAvro(987_654, type, { tenant: 'x', id: 1 }), value: JSON.stringify({ n: 4 }) }, // unknown schema
      { key: Buffer.from('not-avro'), value: JSON.stringify({ n: 5 }) },
    ]);
    const status = await runToEnd(engine.url, topic, ['--document.keyFormat=avro', `--schemaRegistry.url=${registry}`, '--transform.add.sourceKey={key}']);
    assert.equal(status?.deadLettered, 2);
    const docs = await allDocuments(engine.url, topic);
    assert.deepEqual([...docs.keys()].sort(), ['{"id":1,"tenant":"acme"}', '{"id":1,"tenant":"globex"}']);
    assert.deepEqual(docs.get('{"id":1,"tenant":"globex"}'), { n: 3, sourceKey: '{"id":1,"tenant":"globex"}' }, '{key} is the same text as the id');
    const dead = await readTopic(`${topic}.dlq`, 2, 20_000);
    assert.deepEqual(dead.map((d) => [d.headers['k2e.error.class'], d.headers['k2e.error.type']]).sort(), [
      ['transform', 'avro_key_unknown_schema'],
      ['transform', 'avro_key_wire_format'],
    ]);
  });
});
