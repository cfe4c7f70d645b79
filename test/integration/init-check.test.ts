// The initialization check: started before its dependencies, the service waits and then proceeds;
// a topic that never appears ends in a clear error and a non-zero exit after the budget.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopic, groupCommittedOffsets, produce, withAdmin } from '../helpers/kafka.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { refreshAndCount, withSearch } from '../helpers/search.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';
import { forwardPort, freePort } from '../helpers/tcp-forwarder.js';

const engine = stack.engines[0]!;

describe(`initialization check on ${engine.name}`, () => {
  it('waits for brokers and search engine that come up later, then proceeds', async () => {
    const topic = uniqueName('init');
    await createTopic(topic, 2);
    await produce(topic, Array.from({ length: 50 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i }) })));
    // Nothing listens on these ports yet: to the service, Kafka and the engine are down.
    const [kafkaPort, enginePort] = [await freePort(), await freePort()];
    const service = startService(
      { K2E_BROKERS: `127.0.0.1:${kafkaPort}`, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('init-group'), K2E_ELASTIC_URL: `http://127.0.0.1:${enginePort}`, K2E_INDEX: topic },
      ['--init.initialDelayMs=200', '--init.maxDelayMs=1000'],
    );
    const forwarders = [];
    try {
      assert.ok(await waitFor(async () => /waiting for dependencies/.test(service.output()), 20_000), service.output());
      await sleep(2500);
      assert.equal(service.child.exitCode, null, 'it must keep waiting, not exit');
      const waiting = service.output();
      assert.match(waiting, /kafka brokers 127\.0\.0\.1:\d+ not reachable/);
      assert.match(waiting, new RegExp(`search engine http://127\\.0\\.0\\.1:${enginePort} not reachable: connection refused`));
      assert.equal((await service.status())?.ready, false);

      forwarders.push(await forwardPort(kafkaPort, brokers), await forwardPort(enginePort, engine.url));
      assert.ok(await waitFor(async () => (await refreshAndCount(engine.url, topic).catch(() => 0)) === 50, 60_000), service.output().slice(-2000));
      assert.match(service.output(), /dependencies ready/);
      assert.equal((await service.status())?.ready, true);
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
      for (const f of forwarders) await f.close();
    }
  });

  it('a second instance on a taken http.port exits 2 at once, naming the port and what to set', async () => {
    // Another instance (here a plain server) already listens on the port: a newcomer's second terminal.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      for (const workers of ['1', '2']) {
        const topic = uniqueName('port-taken');
        const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('g'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_HTTP_PORT: String(port), K2E_WORKERS: workers });
        const code = await Promise.race([service.exited, sleep(20_000, 'timeout' as const)]);
        if (code === 'timeout') await service.kill();
        assert.equal(code, 2, `workers ${workers}: ${service.output().slice(-2000)}`);
        assert.match(service.output(), new RegExp(`http\\.port ${port} is already in use \\(another instance on this host\\?\\): set http\\.port \\(K2E_HTTP_PORT\\) to a free port`));
        assert.doesNotMatch(service.output(), /at Server\.setupListenHandle|initialization check/, 'no stack trace, and nothing started');
      }
    } finally {
      taken.close();
    }
  });

  it('fails with a message naming the missing topic after the budget', async () => {
    const topic = uniqueName('never-created');
    const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('g'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, [
      '--init.budgetMs=3000',
      '--init.initialDelayMs=200',
    ]);
    const started = Date.now();
    const code = await service.exited;
    assert.equal(code, 1, service.output());
    assert.ok(Date.now() - started < 20_000);
    assert.match(service.output(), new RegExp(`initialization check failed after \\d+s .*kafka topics do not exist: ${topic} \\(create them, or set kafka.createTopics\\)`));
  });

  it('creates the index from the definition file and installs the template', async () => {
    const topic = uniqueName('definition');
    await createTopic(topic, 1);
    const dir = mkdtempSync(path.join(tmpdir(), 'k2e-index-'));
    const definitionFile = path.join(dir, 'index.json');
    const templateFile = path.join(dir, 'template.json');
    writeFileSync(definitionFile, JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: { properties: { createdAt: { type: 'date' }, text: { type: 'text' } } } }));
    writeFileSync(templateFile, JSON.stringify({ index_patterns: [`${topic}-archive-*`], template: { settings: { number_of_replicas: 0 } } }));
    const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('g'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, [
      `--elastic.indexDefinitionFile=${definitionFile}`,
      `--elastic.templateFile=${templateFile}`,
    ]);
    try {
      assert.ok(await service.consuming(), service.output());
      const mapping = await withSearch(engine.url, async (c) => (await c.request<Record<string, { mappings: { properties: Record<string, { type: string }> } }>>('GET', `/${topic}/_mapping`)).body);
      assert.equal(mapping[topic]?.mappings.properties.createdAt?.type, 'date');
      const template = await withSearch(engine.url, async (c) => (await c.request('GET', `/_index_template/${topic}`)).status);
      assert.equal(template, 200);
    } finally {
      assert.equal(await service.stop(), 0);
    }
  });

  it('creates missing topics when configured', async () => {
    const topic = uniqueName('created');
    const groupId = uniqueName('created-group');
    const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, ['--kafka.createTopics.partitions=4']);
    try {
      assert.ok(await service.consuming(), service.output());
      const metadata = await withAdmin((admin) => admin.metadata({ topics: [topic] }));
      assert.equal(metadata.topics.get(topic)?.partitionsCount, 4);
      await produce(topic, [{ key: 'a', value: '{"a":1}' }]);
      assert.ok(await waitFor(async () => (await refreshAndCount(engine.url, topic).catch(() => 0)) === 1, 30_000));
      assert.ok(await waitFor(async () => [...(await groupCommittedOffsets(groupId, topic)).values()].reduce((a, b) => a + b, 0n) === 1n, 30_000));
    } finally {
      assert.equal(await service.stop(), 0);
    }
  });
});
