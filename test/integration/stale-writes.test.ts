// A revoked owner's late bulk: instance A reaches the engine through a proxy that holds its _bulk
// requests, so A's write of a key's older value is still on its way when the group hands the partition
// to B (B joins, the group rebalances; A does not wait for its bulk in flight). B indexes newer values
// of that key; when A's held bulk finally lands, the engine must refuse it (external versions: the
// record's offset), so the document keeps the newest value with _version = the newest record's offset.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { isBulk, startFaultProxy } from '../helpers/fault-proxy.js';
import { createTopic, groupCommittedOffsets, produce, type TestMessage, topicEndOffsets, untilCommittedToEnd } from '../helpers/kafka.js';
import { withSearch } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, type RunningService, type ServiceStatus, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
/** How long the proxy holds A's bulks: long enough for B to start, join, and index newer values. */
const HOLD_MS = 15_000;

type Status = ServiceStatus & { superseded: number; rebalancing: boolean };

interface Doc {
  found: boolean;
  _version?: number;
  _source?: { key: string; seq: number };
}

const getDoc = (index: string, id: string): Promise<Doc> =>
  withSearch(engine.url, async (client) => (await client.request<Doc>('GET', `/${index}/_doc/${encodeURIComponent(id)}`)).body);

/** Values seq from..to-1 of `key`, all to `partition` (so offset = seq on a fresh partition). */
const values = (key: string, partition: number, from: number, to: number): TestMessage[] =>
  Array.from({ length: to - from }, (_, i) => ({ key, value: JSON.stringify({ key, seq: from + i }), partition }));

const status = async (service: RunningService): Promise<Status | undefined> => (await service.status()) as Status | undefined;

describe(`stale writes on ${engine.name}`, () => {
  it('a late bulk from a revoked owner never overwrites a newer value', async () => {
    const topic = uniqueName('stale');
    const groupId = uniqueName('stale-group');
    await createTopic(topic, 2);
    const keys = ['key-p0', 'key-p1'];
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_INDEX: topic };
    const proxy = await startFaultProxy(engine.url);
    const a = startService({ ...env, K2E_ELASTIC_URL: proxy.url }, FAST_GROUP_FLAGS);
    let b: RunningService | undefined;
    try {
      assert.ok(await waitFor(async () => (await status(a))?.assigned.length === 2, 60_000), a.output().slice(-2000));
      assert.match(a.output(), /documents carry external versions/);

      // A's bulks are held from now on; A reads seq 0-9 of each key (offsets 0-9) and sends them.
      const held: number[] = [];
      proxy.set({ kind: 'delay', ms: HOLD_MS }, (req: IncomingMessage) => {
        if (!isBulk(req)) return false;
        held.push(Date.now());
        return true;
      });
      await produce(topic, [...values(keys[0]!, 0, 0, 10), ...values(keys[1]!, 1, 0, 10)]);
      assert.ok(await waitFor(async () => held.length >= 2, 20_000, 50), `A sent ${held.length} bulks\n${a.output().slice(-2000)}`);
      const landsAt = Math.min(...held) + HOLD_MS;

      // B joins (straight to the engine); the group gives it one of the partitions A has a bulk in flight for.
      b = startService({ ...env, K2E_ELASTIC_URL: engine.url }, FAST_GROUP_FLAGS);
      let assigned: string[][] = [];
      const split = await waitFor(async () => {
        const statuses = await Promise.all([status(a), status(b!)]);
        assigned = statuses.map((s) => (s && !s.rebalancing ? s.assigned : []));
        return assigned.every((p) => p.length === 1);
      }, HOLD_MS, 100);
      assert.ok(split, `expected one partition each: ${JSON.stringify(assigned)}\n${b.output().slice(-2000)}`);
      const moved = Number(assigned[1]![0]!.split(':').at(-1));
      const key = keys[moved]!;

      // B indexes newer values of that key: seq 10-19 at offsets 10-19.
      await produce(topic, values(key, moved, 10, 20));
      let doc: Doc | undefined;
      const newest = await waitFor(async () => {
        doc = await getDoc(topic, key);
        return doc._source?.seq === 19;
      }, 20_000, 100);
      const bWroteAt = Date.now();
      assert.ok(newest, `B did not index seq 19: ${JSON.stringify(doc)}\n${b.output().slice(-2000)}`);
      assert.equal(doc!._version, 19);
      proxy.set({ kind: 'pass' });
      // The race really happened: B's write is in the index while A's held bulks have not reached the engine.
      assert.ok(bWroteAt < landsAt - 500, `B wrote ${landsAt - bWroteAt} ms before A's held bulks land: too late for a race; raise HOLD_MS`);

      // A's held bulk lands; A releases the moved partition only once it was answered.
      const releasedLines = (): { releasedAt: number }[] =>
        a
          .output()
          .split('\n')
          .filter((line) => line.includes('"msg":"partition released"') && line.includes(`"partition":"${topic}:${moved}"`))
          .map((line) => JSON.parse(line) as { releasedAt: number });
      assert.ok(await waitFor(async () => releasedLines().length > 0, HOLD_MS + 15_000, 200), `A never released ${topic}:${moved}\n${a.output().slice(-3000)}`);
      const released = releasedLines();
      assert.equal(released.length, 1, a.output().slice(-3000));
      assert.ok(released[0]!.releasedAt >= landsAt && released[0]!.releasedAt > bWroteAt, `A released ${topic}:${moved} at ${released[0]!.releasedAt}, B wrote at ${bWroteAt}, A's bulk landed at ${landsAt}`);
      assert.ok(proxy.faulted >= 2);

      // The document still holds the newest value, version = the newest record's offset, and A counted
      // its late write as superseded (the engine refused the older version).
      const after = await getDoc(topic, key);
      assert.equal(after._source?.seq, 19, `the late bulk overwrote the newest value: ${JSON.stringify(after)}`);
      assert.equal(after._version, 19);
      assert.ok(((await status(a))?.superseded ?? 0) >= 1, `A's late bulk was not answered as superseded\n${a.output().slice(-3000)}`);
      // The key that stayed with A: its held bulk was the newest and is written.
      const kept = keys[1 - moved]!;
      assert.ok(await waitFor(async () => (await getDoc(topic, kept))._source?.seq === 9, 10_000));
      assert.equal((await getDoc(topic, kept))._version, 9);

      assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), a.output().slice(-1500) + b.output().slice(-1500));
      const ends = await topicEndOffsets(topic);
      assert.deepEqual(await groupCommittedOffsets(groupId, topic), ends);
      assert.equal(ends.get(`${topic}:${moved}`), 20n);
      console.log(`stale-writes: B wrote seq 19 ${landsAt - bWroteAt} ms before A's held bulk landed; A released the partition ${released[0]!.releasedAt - bWroteAt} ms after B's write`);
    } finally {
      const codes = await Promise.all([a.stop(), b?.stop()]);
      await proxy.close();
      assert.equal(codes[0], 0, a.output().slice(-2000));
      if (b) assert.equal(codes[1], 0, b.output().slice(-2000));
    }
  });
});
