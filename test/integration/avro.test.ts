// Avro with a Confluent-compatible schema registry (Apicurio in the local stack): the course's tweets
// from our demo producer and from Confluent's own Python serializer, schema evolution, bad Avro to the
// dead-letter topic, and a registry that comes up late.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { readLayout, repoRoot } from '../../scripts/stack/layout.js';
import { confluentAvro, demoProduce, registerSchema } from '../../src/cli/demo-produce.js';
import { createTopic, produce, readTopic, untilCommittedToEnd } from '../helpers/kafka.js';
import { allDocuments } from '../helpers/search.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';
import { forwardPort, freePort } from '../helpers/tcp-forwarder.js';

const engine = stack.engines[0]!;
const registry = (stack as typeof stack & { registry?: string }).registry;
const example = (file: string): string => path.join(repoRoot, 'examples', 'twitter', file);
const v1 = JSON.parse(readFileSync(example('twitter-avro-model.avsc'), 'utf8')) as { fields: object[] };
const v2 = { ...v1, fields: [...v1.fields, { name: 'lang', type: ['null', 'string'], default: null }] };

/** The course's config (Avro in, TwitterIndexModel out) pointed at this topic and index. */
function courseService(topic: string, groupId: string, extraFlags: string[] = [], registryUrl = registry!) {
  return startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, [
    '--config',
    example('config.yaml'),
    `--schemaRegistry.url=${registryUrl}`,
    `--decode.readerSchemaFile=${example('twitter-avro-model.avsc')}`,
    `--elastic.indexDefinitionFile=${example('twitter-index-model.json')}`,
    ...extraFlags,
  ]);
}


/** Runs the course's config until every record is committed, stops it cleanly, returns the documents. */
async function indexWithCourseConfig(topic: string, groupId: string, extraFlags: string[] = []): Promise<Map<string, Record<string, unknown>>> {
  const service = courseService(topic, groupId, extraFlags);
  const done = await untilCommittedToEnd(groupId, topic);
  assert.equal(await service.stop(), 0, service.output().slice(-2000));
  assert.ok(done, service.output().slice(-2000));
  return allDocuments(engine.url, topic);
}

describe(`avro on ${engine.name}`, { skip: registry ? false : 'the stack runs no schema registry (STACK_REGISTRY=0)' }, () => {
  it('indexes the demo producer\'s Avro tweets as TwitterIndexModel documents', async () => {
    const topic = uniqueName('tweets');
    const groupId = uniqueName('tweets-group');
    await createTopic(topic, 3);
    const produced = await demoProduce({ brokers: [brokers], topic, format: 'avro', rate: 1000, count: 200, registryUrl: registry });
    assert.equal(produced, 200);
    const docs = await indexWithCourseConfig(topic, groupId);
    assert.equal(docs.size, 200);
    for (const [id, doc] of docs) {
      assert.equal(doc.id, id, 'document id = the tweet id (field:id), as a string');
      assert.equal(typeof doc.userId, 'number');
      assert.match(String(doc.text), /^\w+ \w+ \w+$/);
      assert.match(String(doc.createdAt), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, 'createdAt converted from epoch millis to a date');
    }
  });

  it('resolves v1 and v2 records into the reader schema, and dead-letters unknown schema ids and corrupt Avro', async () => {
    const topic = uniqueName('evolve');
    const groupId = uniqueName('evolve-group');
    await createTopic(topic, 1);
    const subject = `${topic}-value`;
    const v1Id = await registerSchema(registry!, subject, JSON.stringify(v1));
    const v2Id = await registerSchema(registry!, subject, JSON.stringify(v2));
    assert.notEqual(v1Id, v2Id);
    const t1 = avro.Type.forSchema(v1 as avro.Schema);
    const t2 = avro.Type.forSchema(v2 as avro.Schema);
    const tweet = (id: number) => ({ userId: 1, id, text: `tweet ${id}`, createdAt: 1_700_000_000_000 + id });
    const corrupt = Buffer.concat([confluentAvro(v1Id, t1, tweet(4)).subarray(0, 7), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    await produce(topic, [
      { key: '1', value: confluentAvro(v1Id, t1, tweet(1)) },
      { key: '2', value: confluentAvro(v2Id, t2, { ...tweet(2), lang: 'en' }) },
      { key: 'bad-unknown', value: confluentAvro(987_654, t1, tweet(3)) },
      { key: 'bad-corrupt', value: corrupt },
    ]);
    // The reader schema is v2: v1 records get lang = null (its default), v2 records keep theirs.
    const dir = mkdtempSync(path.join(tmpdir(), 'k2e-avro-'));
    const readerFile = path.join(dir, 'v2.avsc');
    writeFileSync(readerFile, JSON.stringify(v2));
    const docs = await indexWithCourseConfig(topic, groupId, [`--decode.readerSchemaFile=${readerFile}`]);
    assert.deepEqual([...docs.keys()].sort(), ['1', '2']);
    assert.equal(docs.get('1')!.lang, null);
    assert.equal(docs.get('2')!.lang, 'en');
    const dead = await readTopic(`${topic}.dlq`, 2, 20_000);
    const byKey = new Map(dead.map((d) => [d.key, d.headers]));
    assert.equal(byKey.get('bad-unknown')?.['k2e.error.type'], 'avro_unknown_schema');
    assert.match(byKey.get('bad-unknown')?.['k2e.error.reason'] ?? '', /schema id 987654 is not in the registry/);
    assert.equal(byKey.get('bad-corrupt')?.['k2e.error.type'], 'avro_corrupt');
    assert.equal(byKey.get('bad-corrupt')?.['k2e.error.class'], 'decode');
  });

  it('waits for a schema registry that comes up late, then proceeds', async () => {
    const topic = uniqueName('late-registry');
    const groupId = uniqueName('late-registry-group');
    await createTopic(topic, 1);
    await demoProduce({ brokers: [brokers], topic, format: 'avro', rate: 1000, count: 20, registryUrl: registry });
    const real = new URL(registry!);
    const port = await freePort();
    const lateUrl = `http://127.0.0.1:${port}${real.pathname}`;
    const service = courseService(topic, groupId, ['--init.initialDelayMs=200', '--init.maxDelayMs=1000'], lateUrl);
    let forwarder;
    try {
      assert.ok(await waitFor(async () => /schema registry .* not reachable/.test(service.output()), 20_000), service.output());
      assert.equal(service.child.exitCode, null);
      forwarder = await forwardPort(port, `127.0.0.1:${real.port}`);
      assert.ok(await untilCommittedToEnd(groupId, topic), service.output().slice(-2000));
      assert.equal((await allDocuments(engine.url, topic)).size, 20);
    } finally {
      assert.equal(await service.stop(), 0);
      await forwarder?.close();
    }
  });
});

// Interop with another implementation: Confluent's Python serializer (confluent-kafka[avro,schemaregistry]).
const venvPython = path.join(readLayout().home, 'venv', 'bin', 'python');
describe('avro interoperability', { skip: registry && existsSync(venvPython) ? false : 'no registry or no Python venv (scripts/interop/setup-venv.sh)' }, () => {
  it('decodes and indexes records produced by Confluent\'s Python AvroSerializer', async () => {
    const topic = uniqueName('confluent');
    const groupId = uniqueName('confluent-group');
    await createTopic(topic, 3);
    const run = spawnSync(venvPython, [path.join(repoRoot, 'scripts', 'interop', 'confluent_avro_producer.py'), '--brokers', brokers, '--registry', registry!, '--topic', topic, '--count', '50'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const docs = await indexWithCourseConfig(topic, groupId);
    assert.equal(docs.size, 50);
    const first = docs.get('1000');
    assert.ok(first, `ids: ${[...docs.keys()].slice(0, 5).join(',')}`);
    assert.equal(first.id, '1000');
    assert.match(String(first.createdAt), /^\d{4}-\d{2}-\d{2}T/);
  });
});

