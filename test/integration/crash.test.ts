// kill -9 the service at random moments while 20,000 keyed events flow through 6 partitions, at
// least 5 times, restarting each time. At-least-once + deterministic ids must leave exactly the
// distinct keys, each with its last sequence number, and commits at the partitions' end offsets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sequencedEvents } from '../helpers/events.js';
import { createTopic, groupCommittedOffsets, produce, topicEndOffsets } from '../helpers/kafka.js';
import { assertLatestPerKey } from '../helpers/search.js';
import { killRepeatedly, runUntilCaughtUp } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;

describe(`crash recovery on ${engine.name}`, () => {
  it('survives repeated kill -9 with every key at its last sequence number', async () => {
    const topic = uniqueName('crash');
    const groupId = uniqueName('crash-group');
    await createTopic(topic, 6);
    const { messages, lastSeq } = sequencedEvents(20_000, 2_000);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_BATCH_MAX_DOCS: '100', K2E_BATCH_LINGER_MS: '20', K2E_BATCH_MAX_IN_FLIGHT: '2' };

    // Produce in the background, in slices, so records keep arriving across the crashes.
    const producing = (async () => {
      for (let i = 0; i < messages.length; i += 1000) {
        await produce(topic, messages.slice(i, i + 1000));
        await sleep(1500);
      }
    })();

    const { kills, inFlightKills } = await killRepeatedly(env, 6, 500);
    await producing;
    await runUntilCaughtUp(env, groupId, topic);

    assert.ok(kills >= 5);
    assert.ok(inFlightKills >= 3, `at least 3 kills must hit while records were in flight, got ${inFlightKills}`);
    assert.deepEqual(await groupCommittedOffsets(groupId, topic), await topicEndOffsets(topic));
    await assertLatestPerKey(engine.url, topic, lastSeq);
  });
});
