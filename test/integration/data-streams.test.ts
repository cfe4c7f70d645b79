// Data streams and ingest pipelines. They run on OpenSearch only here: the local stack's
// Elasticsearch is assembled from Maven Central, where its data-streams and ingest-common modules are
// not published (it can write a data stream but not manage one, and has no processors); OpenSearch
// has data streams in core and bundles ingest-common. The code path is the same for both engines
// (create into <type>-<dataset>-<namespace>, `pipeline` in the action line).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { BASE_TIME, configFile, createDatedTopic, dropIndices, searchAll } from '../helpers/records.js';
import { withSearch } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines.find((e) => e.name === 'opensearch');
const skip = engine ? false : 'the stack runs no OpenSearch (STACK_ENGINE=all or opensearch)';

/** A dataset name: data stream parts may not contain "-". */
const datasetName = (prefix: string): string => uniqueName(prefix).replace(/-/g, '_');

async function runToEnd(file: string, groupId: string, topic: string): Promise<number> {
  const service = startService({ K2E_CONFIG: file });
  try {
    assert.ok(await service.consuming(), service.output());
    assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
    return (await service.status())?.deadLettered ?? -1;
  } finally {
    assert.equal(await service.stop(), 0, service.output().slice(-3000));
  }
}

describe('data streams and ingest pipelines on opensearch', { skip }, () => {
  it('writes a data stream with @timestamp from the record timestamp; redelivery fails nothing and doubles nothing', async () => {
    const url = engine!.url;
    const topic = uniqueName('ds-events');
    const dataset = datasetName('k2e_ds');
    await createDatedTopic(topic, 2);
    await produce(topic, Array.from({ length: 50 }, (_, i) => ({ key: `e${i}`, value: JSON.stringify({ i, msg: `event ${i}` }), timestamp: BASE_TIME + i * 1000 })));
    const stream = `logs-${dataset}-default`;
    const config = (groupId: string) => configFile({ kafka: { brokers: [brokers], topics: [topic], groupId }, elastic: { url, dataStream: { dataset, installTemplate: true } } });

    const first = uniqueName('ds-group');
    assert.equal(await runToEnd(config(first), first, topic), 0);
    // A second group reads everything again: every create answers 409 (the id is there), which is done.
    const second = uniqueName('ds-group-again');
    assert.equal(await runToEnd(config(second), second, topic), 0);

    const info = await withSearch(url, (client) => client.request<{ data_streams: { name: string; template: string }[] }>('GET', `/_data_stream/${stream}`));
    assert.equal(info.status, 200);
    assert.deepEqual(info.body.data_streams.map((d) => d.name), [stream]);
    const hits = await searchAll(url, stream);
    assert.equal(hits.length, 50);
    for (const hit of hits) {
      const i = hit._source.i as number;
      assert.equal(hit._id, `e${i}`);
      assert.equal(hit._source['@timestamp'], new Date(BASE_TIME + i * 1000).toISOString());
      assert.match(hit._index, /^\.ds-/);
    }
    await dropIndices(url, stream);
  });

  it('names data streams per record ({field:...} namespace) with @timestamp from a field', async () => {
    const url = engine!.url;
    const topic = uniqueName('ds-ns');
    const dataset = datasetName('k2e_ns');
    await createTopic(topic, 1);
    await produce(topic, [
      { key: 'p1', value: JSON.stringify({ env: 'Prod', at: 1_767_225_600_000 }) },
      { key: 'p2', value: JSON.stringify({ env: 'Prod', at: 1_767_225_601_000 }) },
      { key: 'q1', value: JSON.stringify({ env: 'qa-eu', at: '2026-01-01T00:00:05.000Z' }) },
    ]);
    const groupId = uniqueName('ds-ns-group');
    const file = configFile({
      kafka: { brokers: [brokers], topics: [topic], groupId },
      elastic: { url, dataStream: { type: 'metrics', dataset, namespace: '{field:env}', timestampField: 'at', installTemplate: true } },
    });
    assert.equal(await runToEnd(file, groupId, topic), 0);
    // Values are lower-cased and "-" becomes "_" (the separator of the naming scheme).
    const prod = await searchAll(url, `metrics-${dataset}-prod`);
    assert.deepEqual(prod.map((h) => [h._id, h._source['@timestamp']]).sort(), [['p1', '2026-01-01T00:00:00.000Z'], ['p2', '2026-01-01T00:00:01.000Z']]);
    const qa = await searchAll(url, `metrics-${dataset}-qa_eu`);
    assert.deepEqual(qa.map((h) => [h._id, h._source['@timestamp']]), [['q1', '2026-01-01T00:00:05.000Z']]);
    await dropIndices(url, `metrics-${dataset}-`);
  });

  it('runs the ingest pipeline elastic.pipeline names, per record from a template', async () => {
    const url = engine!.url;
    const topic = uniqueName('pipe');
    const prefix = uniqueName('k2e-pipe');
    await withSearch(url, async (client) => {
      for (const kind of ['a', 'b']) {
        const body = { processors: [{ set: { field: 'enriched_by', value: `${prefix}-${kind}` } }, { lowercase: { field: 'name' } }] };
        const { status } = await client.request('PUT', `/_ingest/pipeline/${prefix}-${kind}`, JSON.stringify(body));
        assert.equal(status, 200);
      }
    });
    await createTopic(topic, 1);
    await produce(topic, [
      { key: '1', value: '{"kind":"a","name":"ALPHA"}' },
      { key: '2', value: '{"kind":"b","name":"Beta"}' },
      // No kind: the pipeline cannot be named, so the record is dead-lettered (class transform).
      { key: '3', value: '{"name":"Gamma"}' },
    ]);
    const groupId = uniqueName('pipe-group');
    const file = configFile({ kafka: { brokers: [brokers], topics: [topic], groupId }, elastic: { url, index: topic, pipeline: `${prefix}-{field:kind}` } });
    assert.equal(await runToEnd(file, groupId, topic), 1);
    const docs = await searchAll(url, topic);
    assert.deepEqual(
      docs.map((h) => [h._id, h._source]).sort(),
      [
        ['1', { kind: 'a', name: 'alpha', enriched_by: `${prefix}-a` }],
        ['2', { kind: 'b', name: 'beta', enriched_by: `${prefix}-b` }],
      ],
    );
    await dropIndices(url, topic);
    await withSearch(url, async (client) => {
      for (const kind of ['a', 'b']) await client.request('DELETE', `/_ingest/pipeline/${prefix}-${kind}`);
    });
  });
});
