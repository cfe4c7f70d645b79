// Re-reading: a new group id re-indexes everything without changing the document count; `replay`
// resets a stopped group to earliest / an offset / a timestamp, and refuses while the group runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic, groupCommittedOffsets, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { refreshAndCount, rewrittenDocuments } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'kafka-to-elastic.js'), ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });

async function runUntilCaughtUp(env: Record<string, string>, topic: string): Promise<void> {
  const service = startService(env, FAST_GROUP_FLAGS);
  const done = await untilCommittedToEnd(env.K2E_GROUP_ID!, topic);
  assert.equal(await service.stop(), 0);
  assert.ok(done, service.output().slice(-2000));
}

describe(`replay on ${engine.name}`, () => {
  it('re-indexes everything with a new group and with replay --to-earliest; the count stays the same', async () => {
    const topic = uniqueName('replay');
    await createTopic(topic, 3);
    const beforeTimestamp = Date.now();
    await produce(topic, Array.from({ length: 300 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i }) })));
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic };

    const groupA = uniqueName('replay-a');
    await runUntilCaughtUp({ ...env, K2E_GROUP_ID: groupA }, topic);
    assert.equal(await refreshAndCount(engine.url, topic), 300);
    assert.equal(await rewrittenDocuments(engine.url, topic), 0);

    // A new group id reads everything again: every document is written a second time, none added.
    await runUntilCaughtUp({ ...env, K2E_GROUP_ID: uniqueName('replay-b') }, topic);
    assert.equal(await refreshAndCount(engine.url, topic), 300);
    assert.equal(await rewrittenDocuments(engine.url, topic), 300);

    // replay: refused while the group has a running member.
    const running = startService({ ...env, K2E_GROUP_ID: groupA }, FAST_GROUP_FLAGS);
    assert.ok(await running.consuming());
    assert.ok(await waitFor(async () => ((await running.status())?.assigned.length ?? 0) > 0, 30_000));
    const refused = cli(['replay', '--group', groupA, '--to-earliest'], env);
    assert.equal(await running.stop(), 0);
    assert.equal(refused.status, 2, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`group "${groupA}" is active .*stop its instances first`));

    const toOffset = cli(['replay', '--group', groupA, '--topics', topic, '--to-offset', `${topic}:0:5,${topic}:1:7`], env);
    assert.equal(toOffset.status, 0, toOffset.stderr);
    const afterOffset = await groupCommittedOffsets(groupA, topic);
    assert.equal(afterOffset.get(`${topic}:0`), 5n);
    assert.equal(afterOffset.get(`${topic}:1`), 7n);

    const toTimestamp = cli(['replay', '--group', groupA, '--to-timestamp', new Date(beforeTimestamp - 60_000).toISOString()], env);
    assert.equal(toTimestamp.status, 0, toTimestamp.stderr);
    assert.deepEqual([...(await groupCommittedOffsets(groupA, topic)).values()], [0n, 0n, 0n]);

    const toEarliest = cli(['replay', '--group', groupA, '--to-earliest'], env);
    assert.equal(toEarliest.status, 0, toEarliest.stderr);
    await runUntilCaughtUp({ ...env, K2E_GROUP_ID: groupA }, topic);
    assert.equal(await refreshAndCount(engine.url, topic), 300);

    const lag = cli(['lag', '--group', groupA, '--json'], env);
    assert.equal(lag.status, 0, lag.stderr);
    const rows = JSON.parse(lag.stdout) as { lag: string }[];
    assert.deepEqual(rows.map((r) => r.lag), ['0', '0', '0']);
  });

  it('lag and replay with kafka.topicPattern leave out the dead-letter topics errors.dlqTopic names', async () => {
    const prefix = uniqueName('pattern-lag');
    const source = `${prefix}-orders`;
    // The dead-letter topic matches the pattern too: only errors.dlqTopic tells it apart.
    const deadLetters = `${source}-dead`;
    await createTopic(source, 2);
    await createTopic(deadLetters, 1);
    await produce(source, Array.from({ length: 10 }, (_, i) => ({ key: `k-${i % 2}`, value: JSON.stringify({ i }) })));
    await produce(deadLetters, [{ key: 'x', value: '{}' }]);
    const env = { K2E_BROKERS: brokers, K2E_GROUP_ID: uniqueName('pattern-lag-g') };
    const flags = [`--kafka.topicPattern=${prefix}-.*`, '--errors.dlqTopic={topic}-dead'];

    const lag = cli(['lag', ...flags, '--json'], env);
    assert.equal(lag.status, 0, lag.stderr);
    const rows = JSON.parse(lag.stdout) as { topic: string; partition: number; committed: string | null; end: string; lag: string }[];
    assert.deepEqual(rows.map((r) => `${r.topic}:${r.partition}`).sort(), [`${source}:0`, `${source}:1`]);
    assert.equal(rows.reduce((sum, r) => sum + Number(r.end), 0), 10);

    const replay = cli(['replay', ...flags, '--to-earliest'], env);
    assert.equal(replay.status, 0, replay.stderr);
    assert.deepEqual([...(await groupCommittedOffsets(env.K2E_GROUP_ID, source))].sort(), [[`${source}:0`, 0n], [`${source}:1`, 0n]]);
    assert.equal((await groupCommittedOffsets(env.K2E_GROUP_ID, deadLetters)).size, 0);
  });
});
