// `kafka-to-elastic dlq summary | show | redrive` on a real dead-letter topic: poison records go
// through the real service, the tools count and print them, and a re-drive after the mapping was
// fixed indexes what now fits, never overwrites a newer document (versions from k2e.source.offset),
// sends what still fails to <topic>.dlq.dlq with the original coordinates, and stops at the end
// offsets it saw at start (a dead letter arriving later is left for the next re-drive).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Producer } from '@platformatic/kafka';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic, groupCommittedOffsets, produce, readTopic, topicEndOffsets, untilCommittedToEnd } from '../helpers/kafka.js';
import { withSearch } from '../helpers/search.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const bin = path.join(repoRoot, 'bin', 'kafka-to-elastic.js');

interface Shown {
  dlq: { partition: number; offset: string };
  key: string | null;
  error: { class: string; type: string; reason: string };
  source: { topic: string; partition: number; offset: string } | null;
  headers: Record<string, string>;
  value: unknown;
  raw?: string;
  decodeError?: string;
}

async function getDoc(index: string, id: string): Promise<{ found: boolean; _version?: number; _source?: Record<string, unknown> }> {
  return withSearch(engine.url, async (c) => (await c.request<{ found: boolean; _version?: number; _source?: Record<string, unknown> }>('GET', `/${index}/_doc/${id}`)).body);
}

describe(`dlq tools on ${engine.name}`, () => {
  it('documents every dlq subcommand with --help', () => {
    for (const sub of ['summary', 'show', 'redrive']) {
      const result = spawnSync(process.execPath, [bin, 'dlq', sub, '--help'], { encoding: 'utf8' });
      assert.equal(result.status, 0, sub);
      assert.match(result.stdout, new RegExp(`^usage: kafka-to-elastic dlq ${sub}`));
    }
    const top = spawnSync(process.execPath, [bin, 'dlq', '--help'], { encoding: 'utf8' });
    assert.equal(top.status, 0);
    assert.match(top.stdout, /summary[\s\S]*show[\s\S]*redrive/);
    assert.equal(spawnSync(process.execPath, [bin, 'dlq', 'bogus'], { encoding: 'utf8' }).status, 2);
  });

  it('summarizes, shows and re-drives a real dead-letter topic', async () => {
    const topic = uniqueName('dlq-tools');
    const dlq = `${topic}.dlq`;
    const groupId = uniqueName('dlq-tools-group');
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_LOG_LEVEL: 'warn' };
    await createTopic(topic, 2);
    await withSearch(engine.url, (c) => c.createIndex(topic, { mappings: { dynamic: 'strict', properties: { n: { type: 'integer' }, text: { type: 'keyword' } } } }));

    // Phase 1: good records and four poison ones; phase 2 (once phase 1 is committed, so it is another
    // batch): a newer, valid version of k-stale.
    const service = startService(env);
    try {
      await produce(topic, [
        ...Array.from({ length: 10 }, (_, i) => ({ key: `good-${i}`, value: JSON.stringify({ n: i }), partition: i % 2 })),
        { key: 'k-stale', value: JSON.stringify({ n: 1, extra: 'old' }), partition: 0 },
        { key: 'k-field', value: JSON.stringify({ n: 'not a number' }), partition: 0 },
        { key: 'k-fixable', value: JSON.stringify({ n: 3, extra: 'fixed by the mapping' }), partition: 1 },
        { key: 'bad-json', value: '{"n": 1,', partition: 1 },
      ]);
      assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
      await produce(topic, [{ key: 'k-stale', value: JSON.stringify({ n: 2, text: 'newer' }), partition: 0 }]);
      assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-3000));
    }
    const newer = await getDoc(topic, 'k-stale');
    assert.deepEqual(newer._source, { n: 2, text: 'newer' });
    const sourceOffsets = new Map((await readTopic(topic, 15, 30_000)).map((r) => [`${r.key}@${r.value}`, r.offset]));
    const offsetOf = (key: string): bigint => [...sourceOffsets].find(([k]) => k.startsWith(`${key}@`) && !k.includes('newer'))![1];
    assert.equal(BigInt(newer._version!), sourceOffsets.get(`k-stale@${JSON.stringify({ n: 2, text: 'newer' })}`), 'versioned by offset');

    // summary
    const summary = spawnSync(process.execPath, [bin, 'dlq', 'summary', '--json'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(summary.status, 0, summary.stderr);
    const counts = JSON.parse(summary.stdout) as { topic: string; records: number; byError: { errorClass: string; errorType: string; count: number }[]; bySource: { topic: string; partition: number; count: number }[] };
    assert.equal(counts.topic, dlq);
    assert.equal(counts.records, 4);
    const errorCount = (cls: string, type: RegExp): number => counts.byError.filter((e) => e.errorClass === cls && type.test(e.errorType)).reduce((s, e) => s + e.count, 0);
    assert.equal(errorCount('rejected', /^strict_dynamic_mapping_exception$/), 2);
    assert.equal(errorCount('rejected', /^(document_parsing_exception|mapper_parsing_exception)$/), 1);
    assert.equal(errorCount('decode', /^invalid_json$/), 1);
    assert.deepEqual(counts.bySource.map((s) => [s.topic, s.partition, s.count]), [[topic, 0, 2], [topic, 1, 2]]);
    const text = spawnSync(process.execPath, [bin, 'dlq', 'summary'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.match(text.stdout, new RegExp(`dead-letter topic ${dlq}: 4 records`));
    assert.match(text.stdout, /decode\s+invalid_json\s+1/);

    // show
    const shown = spawnSync(process.execPath, [bin, 'dlq', 'show', '--json', '--limit', '0'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(shown.status, 0, shown.stderr);
    const records = shown.stdout.trim().split('\n').map((l) => JSON.parse(l) as Shown);
    assert.deepEqual(records.map((r) => r.key).sort(), ['bad-json', 'k-field', 'k-fixable', 'k-stale']);
    for (const r of records) {
      assert.equal(r.source?.topic, topic);
      assert.equal(BigInt(r.source!.offset), offsetOf(r.key!), `${r.key}: the source offset`);
      assert.ok(r.error.reason.length > 5, r.key!);
      assert.deepEqual(r.headers, {}, 'no headers but ours, which are shown decoded');
    }
    const fixable = records.find((r) => r.key === 'k-fixable')!;
    assert.deepEqual(fixable.value, { n: 3, extra: 'fixed by the mapping' });
    assert.equal(fixable.error.type, 'strict_dynamic_mapping_exception');
    const badJson = records.find((r) => r.key === 'bad-json')!;
    assert.equal(badJson.value, null);
    assert.equal(badJson.raw, '{"n": 1,');
    assert.match(badJson.decodeError!, /^invalid_json: /);
    const one = spawnSync(process.execPath, [bin, 'dlq', 'show', '--error-type', 'invalid_json'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    assert.equal(one.status, 0, one.stderr);
    assert.match(one.stdout, /key "bad-json"\n {2}error {4}decode \/ invalid_json: invalid JSON/);
    assert.match(one.stderr, /^1 record of /m);

    // Fix the mapping for `extra`; k-field (a string for an integer) still fails, bad-json too.
    await withSearch(engine.url, async (c) => assert.equal((await c.request('PUT', `/${topic}/_mapping`, JSON.stringify({ properties: { extra: { type: 'keyword' } } }))).status, 200));
    const endsAtStart = await topicEndOffsets(dlq);
    const redriveGroup = uniqueName('dlq-redrive-group');
    const redrive = spawn(process.execPath, [bin, 'dlq', 'redrive', '--group', redriveGroup], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    redrive.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    redrive.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = once(redrive, 'exit');
    try {
      assert.ok(await waitFor(async () => /re-drive .* 4 records/.test(stderr), 30_000), stderr);
      // A dead letter that arrives after the start: past the end offsets, left for the next re-drive.
      const producer = new Producer({ clientId: 'k2e-test-late-dlq', bootstrapBrokers: [brokers], idempotent: true });
      const late = { 'k2e.error.class': 'rejected', 'k2e.error.type': 'strict_dynamic_mapping_exception', 'k2e.error.reason': 'late', 'k2e.source.topic': topic, 'k2e.source.partition': '1', 'k2e.source.offset': '999', 'k2e.source.timestamp': String(Date.now()) };
      await producer.send({ messages: [{ topic: dlq, partition: 1, key: Buffer.from('k-late'), value: Buffer.from(JSON.stringify({ n: 7 })), headers: new Map(Object.entries(late).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])) }] });
      await producer.close();
      const [code] = (await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(['timeout']), 90_000).unref())])) as [number | string];
      assert.equal(code, 0, stderr + stdout.slice(-3000));
    } finally {
      if (redrive.exitCode === null) redrive.kill('SIGKILL');
    }
    assert.match(stderr, /re-drive complete: 1 indexed, 1 superseded \(a newer version was already indexed\), 2 failed again \(in .*\.dlq\.dlq\)/);
    assert.match(stderr, /versions: the original offsets/);

    // k-fixable is in, versioned by its original offset; k-stale kept its newer value; k-late is not.
    const fixed = await getDoc(topic, 'k-fixable');
    assert.deepEqual(fixed._source, { n: 3, extra: 'fixed by the mapping' });
    assert.equal(BigInt(fixed._version!), offsetOf('k-fixable'));
    const stale = await getDoc(topic, 'k-stale');
    assert.deepEqual(stale._source, { n: 2, text: 'newer' }, 'the re-drive never overwrites a newer document');
    assert.equal(stale._version, newer._version);
    assert.equal((await getDoc(topic, 'k-late')).found, false, 'a dead letter past the end offsets is not re-driven');
    assert.equal((await getDoc(topic, 'k-field')).found, false);

    // The re-drive group committed exactly the end offsets seen at start.
    const committed = await groupCommittedOffsets(redriveGroup, dlq);
    assert.deepEqual(committed, endsAtStart);
    // What failed again names the original record, not its place in the dead-letter topic.
    const again = await readTopic(`${dlq}.dlq`, 2, 30_000);
    assert.deepEqual(again.map((r) => r.key).sort(), ['bad-json', 'k-field']);
    for (const r of again) {
      assert.equal(r.headers['k2e.source.topic'], topic);
      assert.equal(BigInt(r.headers['k2e.source.offset']!), offsetOf(r.key!));
    }

    // The next re-drive with the same group finds only the late one.
    const next = spawnSync(process.execPath, [bin, 'dlq', 'redrive', '--group', redriveGroup], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 90_000 });
    assert.equal(next.status, 0, next.stderr);
    assert.match(next.stderr, /: 1 records \(/);
    assert.match(next.stderr, /re-drive complete: 1 indexed, 0 superseded/);
    assert.deepEqual((await getDoc(topic, 'k-late'))._source, { n: 7 });
    assert.equal((await getDoc(topic, 'k-late'))._version, 999);
  });
});
