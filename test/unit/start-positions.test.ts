// Where partitions start after a join, against a scripted log (no Kafka).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LogBounds, type PartitionLog, StartPositions, type StartRules } from '../../src/source/start-positions.js';
import { createLogger } from '../../src/util/logger.js';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');

/** A log with the given partition counts, commits and bounds; it records what it was asked. */
function scriptedLog(script: { counts: Record<string, number>; committed?: Record<string, bigint>; bounds?: Record<string, LogBounds> }) {
  const asked = { committed: [] as { topic: string; partitions: number[] }[][], bounds: [] as string[][] };
  const log: PartitionLog = {
    partitionCounts: async () => new Map(Object.entries(script.counts)),
    committed: async (topics) => {
      asked.committed.push(topics);
      const wanted = new Set(topics.flatMap((t) => t.partitions.map((p) => `${t.topic}:${p}`)));
      return new Map(Object.entries(script.committed ?? {}).filter(([key]) => wanted.has(key)));
    },
    bounds: async (keys) => {
      asked.bounds.push(keys);
      return new Map(keys.map((key) => [key, script.bounds?.[key] ?? { start: 0n, end: 100n }]));
    },
  };
  return { log, asked };
}

const rules = (over: Partial<StartRules> = {}): StartRules => ({ autoOffsetReset: 'earliest', pattern: false, topics: () => ['a'], addedLater: () => new Set(), ...over });
const plain = (positions: Map<string, bigint>): Record<string, number> => Object.fromEntries([...positions].map(([k, v]) => [k, Number(v)]));

describe('StartPositions.choose', () => {
  it('continued partitions keep the pipeline position; others start at the committed offset; no commit → autoOffsetReset', async () => {
    const { log, asked } = scriptedLog({ counts: { a: 3 }, committed: { 'a:1': 40n }, bounds: { 'a:2': { start: 5n, end: 90n } } });
    const positions = await new StartPositions(log, rules({ autoOffsetReset: 'latest' }), logger).choose(['a:0', 'a:1', 'a:2'], new Map([['a:0', 77n]]));
    // a:2 has no commit, but the group committed a:1 of the topic: a:2 was added later → its beginning.
    assert.deepEqual(plain(positions), { 'a:0': 77, 'a:1': 40, 'a:2': 5 });
    assert.deepEqual(asked.committed, [[{ topic: 'a', partitions: [0, 1, 2] }]], 'every partition of the topic is asked, to tell a running group');
    assert.deepEqual(asked.bounds, [['a:1', 'a:2']], 'one bounds request for the committed and the fallbacks; none for continued');
  });

  it('a new group on a topic: earliest or latest as kafka.autoOffsetReset says', async () => {
    for (const [reset, expected] of [['earliest', 5], ['latest', 90]] as const) {
      const { log } = scriptedLog({ counts: { a: 1 }, bounds: { 'a:0': { start: 5n, end: 90n } } });
      const positions = await new StartPositions(log, rules({ autoOffsetReset: reset }), logger).choose(['a:0'], new Map());
      assert.deepEqual(plain(positions), { 'a:0': expected }, reset);
    }
  });

  it('a committed offset below the log start goes to the earliest record left; past the end, where autoOffsetReset says', async () => {
    const script = { counts: { a: 2 }, committed: { 'a:0': 3n, 'a:1': 500n }, bounds: { 'a:0': { start: 10n, end: 50n }, 'a:1': { start: 0n, end: 20n } } };
    const latest = await new StartPositions(scriptedLog(script).log, rules({ autoOffsetReset: 'latest' }), logger).choose(['a:0', 'a:1'], new Map());
    assert.deepEqual(plain(latest), { 'a:0': 10, 'a:1': 20 });
    const earliest = await new StartPositions(scriptedLog(script).log, rules(), logger).choose(['a:0', 'a:1'], new Map());
    assert.deepEqual(plain(earliest), { 'a:0': 10, 'a:1': 0 });
  });

  it('with a pattern, commits on any subscribed topic mean the group runs: a new topic starts at its beginning', async () => {
    const script = { counts: { a: 1, b: 1 }, committed: { 'a:0': 9n }, bounds: { 'b:0': { start: 2n, end: 30n } } };
    const { log, asked } = scriptedLog(script);
    const positions = await new StartPositions(log, rules({ autoOffsetReset: 'latest', pattern: true, topics: () => ['a', 'b'] }), logger).choose(['b:0'], new Map());
    assert.deepEqual(plain(positions), { 'b:0': 2 });
    assert.deepEqual(asked.committed[0]!.map((t) => t.topic).sort(), ['a', 'b']);
    // Without the pattern the same topic is a new one: latest.
    const alone = await new StartPositions(scriptedLog(script).log, rules({ autoOffsetReset: 'latest', topics: () => ['a', 'b'] }), logger).choose(['b:0'], new Map());
    assert.deepEqual(plain(alone), { 'b:0': 30 });
  });

  it('a topic the pattern matched while running starts at its beginning even for a new group', async () => {
    const { log } = scriptedLog({ counts: { c: 1 }, bounds: { 'c:0': { start: 0n, end: 12n } } });
    const positions = await new StartPositions(log, rules({ autoOffsetReset: 'latest', pattern: true, topics: () => ['c'], addedLater: () => new Set(['c']) }), logger).choose(['c:0'], new Map());
    assert.deepEqual(plain(positions), { 'c:0': 0 });
  });

  it('an assigned partition beyond the known count is still asked for; a missing bound is an error (retried by the caller)', async () => {
    const { log, asked } = scriptedLog({ counts: { a: 1 }, committed: { 'a:2': 7n } });
    const positions = await new StartPositions(log, rules(), logger).choose(['a:2'], new Map());
    assert.deepEqual(plain(positions), { 'a:2': 7 });
    assert.deepEqual(asked.committed[0], [{ topic: 'a', partitions: [0, 1, 2] }]);
    const noBounds: PartitionLog = { ...log, bounds: async () => new Map() };
    await assert.rejects(new StartPositions(noBounds, rules(), logger).choose(['a:0'], new Map()), /no earliest offset for a:0/);
  });

  it('only continued partitions: nothing is asked', async () => {
    const { log, asked } = scriptedLog({ counts: { a: 1 } });
    const positions = await new StartPositions(log, rules(), logger).choose(['a:0'], new Map([['a:0', 3n]]));
    assert.deepEqual(plain(positions), { 'a:0': 3 });
    assert.deepEqual([asked.committed.length, asked.bounds.length], [0, 0]);
  });
});

describe('StartPositions.resolveOutOfRange', () => {
  it('in range again stays; below the start goes to the start; past the end follows autoOffsetReset', async () => {
    const { log } = scriptedLog({ counts: { a: 1 }, bounds: { 'a:0': { start: 10n, end: 50n } } });
    const starts = new StartPositions(log, rules({ autoOffsetReset: 'latest' }), logger);
    assert.equal(await starts.resolveOutOfRange('a:0', 20n), 20n);
    assert.equal(await starts.resolveOutOfRange('a:0', 4n), 10n);
    assert.equal(await starts.resolveOutOfRange('a:0', 60n), 50n);
    assert.equal(await new StartPositions(log, rules(), logger).resolveOutOfRange('a:0', 60n), 10n);
  });
});
