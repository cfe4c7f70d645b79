// Retriable failures and outages lose and double nothing: a 429 storm with connection resets and
// per-item rejections, the search engine down for a minute, a broker restart, and a large backlog
// built while the sink is down (memory stays bounded).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sequencedEvents } from '../helpers/events.js';
import { isBulk, startFaultProxy } from '../helpers/fault-proxy.js';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { assertLatestPerKey, refreshAndCount } from '../helpers/search.js';
import { type RunningService, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, stackCommand, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
/** Length of the search-engine outage; 60 s as the issue asks, shorter when iterating locally. */
const OUTAGE_MS = Number(process.env.K2E_TEST_OUTAGE_SECONDS ?? 60) * 1000;

const readyOf = async (service: RunningService): Promise<boolean | undefined> => (await service.status())?.ready;

describe(`failures on ${engine.name}`, () => {
  it('retries through a 429 storm, connection resets and per-item rejections without loss', async () => {
    const topic = uniqueName('storm');
    const groupId = uniqueName('storm-group');
    await createTopic(topic, 6);
    const { messages, lastSeq } = sequencedEvents(20_000, 2_000);
    const proxy = await startFaultProxy(engine.url);
    const service = startService(
      { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: proxy.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '200' },
      ['--retry.initialDelayMs=50', '--retry.maxDelayMs=500'],
    );
    try {
      assert.ok(await service.consuming(), service.output());
      const producing = (async () => {
        for (let i = 0; i < messages.length; i += 2000) {
          await produce(topic, messages.slice(i, i + 2000));
          await sleep(300);
        }
      })();
      // A storm schedule: each phase 400 ms, repeated while the records flow.
      const phases = [{ kind: 'status', status: 429 }, { kind: 'fail-items', every: 3 }, { kind: 'reset' }, { kind: 'status', status: 503 }, { kind: 'pass' }] as const;
      for (let round = 0; round < 4; round++) {
        for (const phase of phases) {
          proxy.set(phase, isBulk);
          await sleep(400);
        }
      }
      proxy.set({ kind: 'pass' });
      await producing;
      assert.ok(await untilCommittedToEnd(groupId, topic, 120_000), service.output().slice(-2000));
      const status = await service.status();
      assert.ok(proxy.faulted > 0);
      assert.ok((status?.retries ?? 0) > 0, `retries counted: ${status?.retries}`);
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
      await proxy.close();
    }
    await assertLatestPerKey(engine.url, topic, lastSeq);
  });

  it('rides out the search engine down and a broker restart under load', async () => {
    const topic = uniqueName('outage');
    const groupId = uniqueName('outage-group');
    await createTopic(topic, 6);
    const { messages, lastSeq } = sequencedEvents(20_000, 2_000);
    const service = startService(
      { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '200' },
      ['--retry.maxDelayMs=2000', '--http.healthIntervalMs=500'],
    );
    try {
      assert.ok(await service.consuming(), service.output());
      await produce(topic, messages.slice(0, 5000));
      assert.ok(await waitFor(async () => ((await service.status())?.indexed ?? 0) > 1000, 60_000));

      // The search engine goes away for a minute while records keep arriving.
      stackCommand('stop', engine.name);
      assert.ok(await waitFor(async () => (await readyOf(service)) === false, 20_000), 'readiness must go false');
      const outageEnd = Date.now() + OUTAGE_MS;
      for (let i = 5000; i < 15_000; i += 1000) await produce(topic, messages.slice(i, i + 1000));
      let peakRss = 0;
      while (Date.now() < outageEnd) {
        assert.equal(service.child.exitCode, null, `the service must keep running:\n${service.output().slice(-2000)}`);
        peakRss = Math.max(peakRss, (await service.status())?.memory.rss ?? 0);
        await sleep(1000);
      }
      stackCommand('start', engine.name);
      assert.ok(await waitFor(async () => (await readyOf(service)) === true, 60_000), 'readiness must come back');

      // Then the broker restarts.
      stackCommand('stop', 'kafka');
      assert.ok(await waitFor(async () => (await readyOf(service)) === false, 20_000), 'readiness must go false without the broker');
      await sleep(5000);
      stackCommand('start', 'kafka');
      assert.ok(await waitFor(async () => (await readyOf(service)) === true, 60_000), 'readiness must come back with the broker');
      await produce(topic, messages.slice(15_000));
      assert.ok(await untilCommittedToEnd(groupId, topic, 180_000), service.output().slice(-3000));
      assert.ok(peakRss < 256 * 1024 * 1024, `RSS peaked at ${peakRss} bytes during the outage`);
    } finally {
      const code = await service.stop();
      assert.equal(code, 0, service.output().slice(-2000));
    }
    await assertLatestPerKey(engine.url, topic, lastSeq);
  });

  it('keeps memory bounded while 200,000 records pile up behind a dead sink, then indexes them all', async () => {
    const topic = uniqueName('backlog');
    const groupId = uniqueName('backlog-group');
    await createTopic(topic, 6);
    const proxy = await startFaultProxy(engine.url);
    const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: proxy.url, K2E_INDEX: topic }, [
      '--retry.maxDelayMs=1000',
    ]);
    let peakRss = 0;
    try {
      assert.ok(await service.consuming(), service.output());
      proxy.set({ kind: 'status', status: 503 }, isBulk);
      const total = 200_000;
      for (let i = 0; i < total; i += 10_000) {
        await produce(
          topic,
          Array.from({ length: 10_000 }, (_, j) => ({ key: `k-${i + j}`, value: JSON.stringify({ i: i + j, text: 'z'.repeat(250) }) })),
          2000,
        );
        peakRss = Math.max(peakRss, (await service.status())?.memory.rss ?? 0);
      }
      const sampleUntil = Date.now() + 5000;
      while (Date.now() < sampleUntil) {
        const status = await service.status();
        peakRss = Math.max(peakRss, status?.memory.rss ?? 0);
        await sleep(250);
      }
      const status = await service.status();
      console.log(`backlog test: memory while the sink is down ${JSON.stringify(status?.memory)}, buffered ${status?.buffered}`);
      assert.equal(status?.paused, true, 'fetching must be paused while the buffer is full');
      // batch.maxBufferedRecords (default 15,000), overshot by at most one fetch: the pause stops the next
      // fetch, and the one in flight still delivers up to kafka.maxBytes (2 MiB) of records whose values
      // alone are 265 bytes or more.
      const oneFetch = Math.ceil((2 * 1024 * 1024) / 265);
      assert.ok((status?.buffered ?? 0) <= 15_000 + oneFetch, `buffered ${status?.buffered}`);
      proxy.set({ kind: 'pass' });
      const sampler = setInterval(() => {
        void service.status().then((s) => {
          if (s && s.memory.rss > peakRss) {
            peakRss = s.memory.rss;
            console.log(`backlog test: new peak ${JSON.stringify(s.memory)} buffered ${s.buffered}`);
          }
        });
      }, 200);
      assert.ok(await untilCommittedToEnd(groupId, topic, 240_000), service.output().slice(-2000));
      clearInterval(sampler);
      for (let i = 0; i < 10; i++) peakRss = Math.max(peakRss, (await service.status())?.memory.rss ?? 0);
      console.log(`backlog test: memory after catching up ${JSON.stringify((await service.status())?.memory)}`);
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
      await proxy.close();
    }
    assert.equal(await refreshAndCount(engine.url, topic), 200_000);
    console.log(`backlog test: peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB`);
    assert.ok(peakRss < 256 * 1024 * 1024, `RSS peaked at ${(peakRss / 1024 / 1024).toFixed(0)} MiB, bound 256 MiB`);
  });
});
