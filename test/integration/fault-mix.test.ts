// Faults as production mixes them, one on top of the other: two members share a group; the search
// engine goes down, so both fill their buffers and pause fetching; one member is stopped while paused
// (a rebalance hands its partitions to a member that cannot write either); the broker restarts (group
// coordinator and every connection gone while the survivor holds a backlog); a third member starts
// while the engine is still down (its initialization check waits) and joins when the engine is back,
// so the group rebalances while the survivor is flushing its backlog. Nothing may be lost, doubled or
// left stale, every partition must be committed to its end, and every SIGTERM must end its instance.
// Runs on the stack's first engine (it stops and starts it), like the outage tests in failures.test.ts.
// Each instance's log is kept in $TMPDIR/k2e-fault-mix/<topic>/ for a post-mortem.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sequencedEvents } from '../helpers/events.js';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { assertLatestPerKey } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, type RunningService, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, stackCommand, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** SIGTERM → exit: the service's own bound plus process teardown. */
const EXIT_DEADLINE_MS = SHUTDOWN_TIMEOUT_MS + 5_000;

describe(`faults combined on ${engine.name}: engine down x backpressure x rebalance x broker restart`, () => {
  it('loses, doubles and stales nothing, commits every partition to its end, and obeys every SIGTERM', async () => {
    const topic = uniqueName('fault-mix');
    const groupId = uniqueName('fault-mix-group');
    await createTopic(topic, 6);
    const { messages, lastSeq } = sequencedEvents(30_000, 3_000);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '200' };
    // Small buffers, so the outage's records pause fetching within seconds.
    const flags = [...FAST_GROUP_FLAGS, '--retry.maxDelayMs=2000', '--http.healthIntervalMs=500', `--shutdownTimeoutMs=${SHUTDOWN_TIMEOUT_MS}`, '--batch.maxBufferedRecords=2000'];
    const instances: RunningService[] = [];
    const start = (): RunningService => {
      const instance = startService(env, flags);
      instances.push(instance);
      return instance;
    };
    const logs = (): string => instances.map((s, i) => `--- instance ${i}\n${s.output().slice(-2500)}`).join('\n') + `\n(full logs: ${path.join(os.tmpdir(), 'k2e-fault-mix', topic)})`;
    let engineDown = false;
    let kafkaDown = false;
    try {
      const [a, b] = [start(), start()];
      assert.ok((await a.consuming()) && (await b.consuming()), logs());
      await produce(topic, messages.slice(0, 5_000));
      assert.ok(await waitFor(async () => ((await a.status())?.indexed ?? 0) + ((await b.status())?.indexed ?? 0) > 1_000, 60_000), logs());

      // The engine goes away while records keep coming: both members buffer, then pause fetching.
      stackCommand('stop', engine.name);
      engineDown = true;
      await produce(topic, messages.slice(5_000, 15_000));
      const paused = await waitFor(async () => (await a.status())?.paused === true && (await b.status())?.paused === true, 60_000);
      assert.ok(paused, `both members must pause fetching with the engine down:\n${logs()}`);
      const bufferedBefore = (await a.status())?.buffered ?? 0;
      assert.ok(bufferedBefore > 0, `the survivor holds a backlog (${bufferedBefore})`);

      // One member leaves while paused: a rebalance among members that cannot write.
      const leaving = await b.stopWithin(EXIT_DEADLINE_MS);
      assert.ok(leaving.exited, `a paused member must obey SIGTERM within ${EXIT_DEADLINE_MS} ms:\n${logs()}`);
      assert.equal(leaving.code, 0, `exit code of the paused member that left:\n${b.output().slice(-2500)}`);
      const tookOver = await waitFor(async () => {
        const status = await a.status();
        return status?.assigned.length === 6 && status.paused;
      }, 30_000);
      assert.ok(tookOver, `the survivor takes over every partition while still paused:\n${logs()}`);

      // The broker restarts under the survivor's backlog: the group coordinator and every connection go.
      stackCommand('stop', 'kafka');
      kafkaDown = true;
      await sleep(5_000);
      stackCommand('start', 'kafka');
      kafkaDown = false;

      // A newcomer starts while the engine is still down: its initialization check waits for it.
      const c = start();
      await sleep(3_000);
      assert.ok(c.running(), `the newcomer waits for the engine instead of exiting:\n${c.output().slice(-2500)}`);
      assert.ok(!/"msg":"consuming"/.test(c.output()), 'the newcomer must not consume before the engine is ready');

      // The engine comes back: the survivor flushes its backlog while the newcomer joins (a rebalance
      // during the retry), and the rest of the records arrive meanwhile.
      stackCommand('start', engine.name);
      engineDown = false;
      assert.ok(await c.consuming(120_000), logs());
      const shared = await waitFor(async () => ((await c.status())?.assigned.length ?? 0) > 0 && ((await a.status())?.assigned.length ?? 6) < 6, 60_000);
      assert.ok(shared, `the newcomer gets partitions from the survivor:\n${logs()}`);
      await produce(topic, messages.slice(15_000));
      assert.ok(await untilCommittedToEnd(groupId, topic, 180_000), `every partition committed to its end:\n${logs()}`);

      for (const [name, member] of [['survivor', a], ['newcomer', c]] as const) {
        const stopped = await member.stopWithin(EXIT_DEADLINE_MS);
        assert.ok(stopped.exited, `the ${name} must obey SIGTERM within ${EXIT_DEADLINE_MS} ms:\n${member.output().slice(-2500)}`);
        assert.equal(stopped.code, 0, `exit code of the ${name}:\n${member.output().slice(-2500)}`);
      }
    } finally {
      for (const instance of instances) await instance.kill();
      const logDir = path.join(os.tmpdir(), 'k2e-fault-mix', topic);
      mkdirSync(logDir, { recursive: true });
      for (const [i, instance] of instances.entries()) writeFileSync(path.join(logDir, `${i}.log`), instance.output());
      if (kafkaDown) stackCommand('start', 'kafka');
      if (engineDown) stackCommand('start', engine.name);
    }

    await assertLatestPerKey(engine.url, topic, lastSeq);
  });
});
