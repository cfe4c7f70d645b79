// No record can stop it (issue 23): one hostile record among good ones, on a one-partition topic. Each
// scenario asserts that every good record is indexed, the bad one is in the dead-letter topic with its
// type, the group committed to the end, and the member never left the group (its generation never
// moved, no "lost the Kafka consumer").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { confluentAvro, registerSchema } from '../../src/cli/demo-produce.js';
import { createTopic, produce, type ProducedMessage, readTopic, topicEndOffsets, untilCommittedToEnd } from '../helpers/kafka.js';
import { configFile, countsByIndex } from '../helpers/records.js';
import { allDocuments, withSearch } from '../helpers/search.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const registry = (stack as typeof stack & { registry?: string }).registry;

const deepJson = (levels: number): string => `{"x":${'['.repeat(levels)}${']'.repeat(levels)},"n":-1}`;

interface Scenario {
  engineUrl: string;
  topic: string;
  /** The records, in order, on partition 0; `bad` names the expected dead letter's class/type. */
  messages: (ProducedMessage & { bad?: string })[];
  flags?: string[];
  index?: string;
  /** Extra settings as a config file. */
  config?: object;
}

interface Outcome {
  deadLetters: Awaited<ReturnType<typeof readTopic>>;
  output: string;
  generations: Set<number>;
}

/** Runs the service over the scenario's topic until everything is committed; checks the invariants. */
async function runScenario(s: Scenario): Promise<Outcome> {
  const groupId = uniqueName('hostile-group');
  const bad = s.messages.filter((m) => m.bad);
  const flags = [...(s.flags ?? []), ...(s.config ? ['--config', configFile(s.config)] : [])];
  const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: s.topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: s.engineUrl, K2E_INDEX: s.index ?? s.topic }, flags);
  const generations = new Set<number>();
  try {
    const done = await waitFor(async () => {
      const status = (await service.status()) as { generation?: number } | undefined;
      if (status?.generation !== undefined && status.generation >= 0) generations.add(status.generation);
      return untilCommittedToEnd(groupId, s.topic, 1);
    }, 90_000, 500);
    assert.ok(done, `not committed to the end:\n${service.output().slice(-3000)}`);
    const last = (await service.status()) as { generation?: number } | undefined;
    if (last?.generation !== undefined) generations.add(last.generation);
  } finally {
    assert.equal(await service.stop(), 0, service.output().slice(-3000));
  }
  const output = service.output();
  assert.doesNotMatch(output, /lost the Kafka consumer|handing a record to the pipeline threw/, 'a record made the member leave the group');
  assert.equal(generations.size, 1, `the group generation moved: ${[...generations].join(', ')}`);

  const dlqEnds = await topicEndOffsets(`${s.topic}.dlq`);
  assert.equal([...dlqEnds.values()].reduce((a, b) => a + b, 0n), BigInt(bad.length), 'exactly the bad records in the dead-letter topic');
  const deadLetters = bad.length === 0 ? [] : await readTopic(`${s.topic}.dlq`, bad.length, 30_000);
  for (const original of bad) {
    const dead = deadLetters.find((d) => d.key === original.key);
    assert.ok(dead, `${String(original.key)} missing from the dead-letter topic`);
    const [errorClass, errorType] = original.bad!.split('/');
    assert.equal(dead.headers['k2e.error.class'], errorClass, `${String(original.key)}: ${dead.headers['k2e.error.reason']}`);
    assert.match(dead.headers['k2e.error.type']!, new RegExp(`^(${errorType})$`), `${String(original.key)}: ${dead.headers['k2e.error.reason']}`);
  }
  return { deadLetters, output, generations };
}

/** 100 good records with the bad ones at offset 50 onwards. */
function surround(badOnes: (ProducedMessage & { bad: string })[], good: (i: number) => object = (i) => ({ n: i, pad: 'p' })): (ProducedMessage & { bad?: string })[] {
  const messages: (ProducedMessage & { bad?: string })[] = [];
  for (let i = 0; i < 50; i++) messages.push({ key: `good-${i}`, value: JSON.stringify(good(i)), partition: 0 });
  for (const b of badOnes) messages.push({ ...b, partition: 0 });
  for (let i = 50; i < 100; i++) messages.push({ key: `good-${i}`, value: JSON.stringify(good(i)), partition: 0 });
  return messages;
}

async function assertGoodIndexed(url: string, index: string, count = 100): Promise<void> {
  const docs = await allDocuments(url, index);
  const expected = Array.from({ length: count }, (_, i) => `good-${i}`).sort();
  assert.deepEqual([...docs.keys()].filter((k) => k.startsWith('good-')).sort(), expected);
  assert.equal(docs.size, count, 'nothing but the good records');
}

for (const engine of stack.engines) {
  describe(`hostile input on ${engine.name}`, () => {
    it('deep JSON with a transform: too_deep (decode.maxDepth) or, when allowed that deep, one internal_error dead letter', async () => {
      const topic = uniqueName('hostile-deep');
      await createTopic(topic, 1);
      const messages = surround([
        { key: 'deep-20000', value: deepJson(20_000), bad: 'decode/too_deep' },
        { key: 'deep-300', value: deepJson(300), bad: 'decode/too_deep' },
      ]);
      await produce(topic, messages);
      await runScenario({ engineUrl: engine.url, topic, messages, config: { transform: { drop: ['pad'] } } });
      await assertGoodIndexed(engine.url, topic);

      // With decode.maxDepth raised past what the stack can serialize, the transform's throw is the
      // record's failure (internal_error), not the member's.
      const topic2 = uniqueName('hostile-deep-allowed');
      await createTopic(topic2, 1);
      const messages2 = surround([{ key: 'deep-200000', value: deepJson(200_000), bad: 'transform/internal_error' }]);
      await produce(topic2, messages2);
      const { deadLetters } = await runScenario({ engineUrl: engine.url, topic: topic2, messages: messages2, config: { transform: { drop: ['pad'] }, decode: { maxDepth: 1_000_000 } } });
      assert.match(deadLetters[0]!.headers['k2e.error.reason']!, /RangeError: Maximum call stack size exceeded/);
      await assertGoodIndexed(engine.url, topic2);
    });

    it('deep JSON in a Debezium envelope is one decode dead letter', async () => {
      const topic = uniqueName('hostile-cdc');
      await createTopic(topic, 1);
      const change = (i: number) => ({ op: 'c', before: null, after: { id: i, name: `row ${i}` }, source: { table: 't' } });
      const deepChange = `{"op":"c","before":null,"after":{"id":-1,"nested":${'['.repeat(5000)}${']'.repeat(5000)}}}`;
      const messages: (ProducedMessage & { bad?: string })[] = [];
      for (let i = 0; i < 100; i++) {
        if (i === 50) messages.push({ key: 'deep-change', value: deepChange, partition: 0, bad: 'decode/too_deep' });
        messages.push({ key: `good-${i}`, value: JSON.stringify(change(i)), partition: 0 });
      }
      await produce(topic, messages);
      await runScenario({ engineUrl: engine.url, topic, messages, config: { decode: { envelope: 'debezium' } } });
      await assertGoodIndexed(engine.url, topic);
    });

    it('forged k2e.source.* headers on an ordinary record change neither its version nor its id', async () => {
      const topic = uniqueName('hostile-forged');
      await createTopic(topic, 1);
      const forged = { 'k2e.source.topic': 'another-topic', 'k2e.source.partition': '7', 'k2e.source.offset': '9223372036854775000', 'k2e.source.timestamp': '1' };
      // The same document written three times: the forged header on the first must not pin its
      // version near 2^63 (which would make the later writes "superseded", silently lost).
      const messages: ProducedMessage[] = [
        { key: 'doc', value: JSON.stringify({ v: 1 }), partition: 0, headers: forged },
        { key: 'doc', value: JSON.stringify({ v: 2 }), partition: 0 },
        { key: 'doc', value: JSON.stringify({ v: 3 }), partition: 0, headers: forged },
        { key: 'other', value: JSON.stringify({ v: 1 }), partition: 0, headers: forged },
      ];
      await produce(topic, messages);
      await runScenario({ engineUrl: engine.url, topic, messages, flags: ['--document.version=offset', '--batch.maxDocs=1'] });
      const docs = await allDocuments(engine.url, topic);
      assert.deepEqual(docs.get('doc'), { v: 3 }, 'the latest write wins');
      assert.equal(docs.size, 2);
      const version = await withSearch(engine.url, (c) => c.request<{ _version?: number }>('GET', `/${topic}/_doc/doc`)).then((r) => r.body._version);
      assert.equal(version, 2, 'the version is the record\'s own offset');

      // Coordinate ids: the forged headers must not name another topic's document.
      const group = uniqueName('hostile-forged-coord');
      const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: group, K2E_ELASTIC_URL: engine.url, K2E_INDEX: `${topic}-coord`, K2E_DOCUMENT_ID: 'coordinate' });
      assert.ok(await untilCommittedToEnd(group, topic, 60_000), service.output().slice(-2000));
      assert.equal(await service.stop(), 0);
      const ids = [...(await allDocuments(engine.url, `${topic}-coord`)).keys()].sort();
      assert.deepEqual(ids, [0, 1, 2, 3].map((o) => `${topic}-0-${o}`).sort());
    });

    it('an index-name flood from {field:..} templates stops at elastic.maxIndices and elastic.allowedIndices', async () => {
      const topic = uniqueName('hostile-flood');
      await createTopic(topic, 1);
      const prefix = `${topic}-t-`;
      const messages: (ProducedMessage & { bad?: string })[] = [];
      // Tenants a..c are allowed and fit the budget; d..f would be new names past it; "evil" is outside the pattern.
      for (let i = 0; i < 60; i++) messages.push({ key: `good-${i}`, value: JSON.stringify({ n: i, tenant: 'abc'[i % 3] }), partition: 0 });
      for (const tenant of ['d', 'e', 'f']) messages.push({ key: `flood-${tenant}`, value: JSON.stringify({ n: -1, tenant }), partition: 0, bad: 'transform/too_many_indices' });
      messages.push({ key: 'evil', value: JSON.stringify({ n: -1, tenant: 'evil' }), partition: 0, bad: 'transform/index_not_allowed' });
      for (let i = 60; i < 100; i++) messages.push({ key: `good-${i}`, value: JSON.stringify({ n: i, tenant: 'abc'[i % 3] }), partition: 0 });
      await produce(topic, messages);
      await runScenario({
        engineUrl: engine.url,
        topic,
        messages,
        index: `${prefix}{field:tenant}`,
        config: { elastic: { maxIndices: 3, allowedIndices: `${prefix.replaceAll('-', '\\-')}[a-f]` } },
      });
      const counts = await countsByIndex(engine.url, `${prefix}*`);
      assert.deepEqual([...counts.keys()].sort(), ['a', 'b', 'c'].map((t) => `${prefix}${t}`), 'no index beyond the budget');
      assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 100);
    });
  });
}

describe('hostile Avro', { skip: registry ? false : 'the stack runs no schema registry' }, () => {
  const engine = stack.engines[0]!;
  it('a 10-byte value claiming 50,000,000 array items is one decode dead letter, and the service stays small', async () => {
    const topic = uniqueName('hostile-avro');
    await createTopic(topic, 1);
    const schema = { type: 'record', name: 'Bomb', fields: [{ name: 'n', type: 'int' }, { name: 'a', type: { type: 'array', items: 'null' } }] };
    const type = avro.Type.forSchema(schema as avro.Schema);
    const schemaId = await registerSchema(registry!, `${topic}-value`, JSON.stringify(schema));
    const good = (i: number): Buffer => confluentAvro(schemaId, type, { n: i, a: [null, null] });
    // n = 1 (zig-zag 2), then a block count of 50,000,000 (zig-zag varint), then the end of the array.
    const blockCount = Buffer.from([0x80, 0xc2, 0xd7, 0x2f]); // 100,000,000 = zig-zag(50,000,000)
    const bombBody = Buffer.concat([Buffer.from([0x02]), blockCount, Buffer.from([0x00])]);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(schemaId, 1);
    const bomb = Buffer.concat([header, bombBody]);
    const messages: (ProducedMessage & { bad?: string })[] = [];
    for (let i = 0; i < 100; i++) {
      if (i === 50) messages.push({ key: 'bomb', value: bomb, partition: 0, bad: 'decode/too_many_items' });
      messages.push({ key: `good-${i}`, value: good(i), partition: 0 });
    }
    await produce(topic, messages);
    await runScenario({ engineUrl: engine.url, topic, messages, flags: [`--schemaRegistry.url=${registry!}`, '--decode.format=avro'] });
    await assertGoodIndexed(engine.url, topic);
  });
});

// A producer-chosen ingest pipeline that does not exist: one dead letter, not a held partition. Only
// OpenSearch in the local stack runs ingest pipelines (docs/local-stack.md).
const withIngest = stack.engines.find((e) => e.name === 'opensearch');
describe('a producer-chosen ingest pipeline', { skip: withIngest ? false : 'no engine with ingest pipelines in this stack' }, () => {
  it('that does not exist is the record\'s dead letter; the others go through theirs', async () => {
    const url = withIngest!.url;
    const topic = uniqueName('hostile-pipeline');
    const pipeline = `${topic}-ok-enrich`;
    const created = await withSearch(url, (c) => c.request('PUT', `/_ingest/pipeline/${pipeline}`, JSON.stringify({ processors: [{ set: { field: 'enriched', value: true } }] })));
    assert.equal(created.status, 200);
    await createTopic(topic, 1);
    const messages = surround([{ key: 'no-such-pipeline', value: JSON.stringify({ n: -1, kind: `${topic}-missing` }), bad: 'rejected/illegal_argument_exception' }], (i) => ({ n: i, kind: `${topic}-ok` }));
    await produce(topic, messages);
    await runScenario({ engineUrl: url, topic, messages, config: { elastic: { pipeline: '{field:kind}-enrich' } } });
    const docs = await allDocuments(url, topic);
    assert.equal(docs.size, 100);
    assert.ok([...docs.values()].every((d) => d.enriched === true), 'the good records went through their pipeline');
    await withSearch(url, (c) => c.request('DELETE', `/_ingest/pipeline/${pipeline}`)).catch(() => undefined);
  });
});
