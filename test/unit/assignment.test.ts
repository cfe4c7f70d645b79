// The member's partitions across rebalances, transition by transition, with no Kafka at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Join, MemberPartitions, type PartitionHolder } from '../../src/pipeline/assignment.js';

class Worker implements PartitionHolder {
  state: 'running' | 'suspended' = 'running';
  lastProgressAt = 0;
  constructor(
    public position: bigint | undefined,
    public committable: bigint | undefined = position,
  ) {}
  suspend(): void {
    this.state = 'suspended';
  }
  resume(): void {
    this.state = 'running';
  }
}

const join = (generation: number, partitions: string[], memberId = 'm1'): Join => ({ generation, partitions, memberId });

/** A member that joined generation 1 with t:0..2 and has workers at the given positions. */
function joined(positions: Record<string, bigint | undefined> = { 't:0': 10n, 't:1': 20n, 't:2': undefined }) {
  const m = new MemberPartitions<Worker>();
  m.assigned(join(1, Object.keys(positions)), 1000);
  const workers = Object.fromEntries(Object.entries(positions).map(([key, p]) => [key, new Worker(p)]));
  for (const [key, w] of Object.entries(workers)) m.add(key, w);
  return { m, workers };
}

const keys = (retired: [string, Worker][]): string[] => retired.map(([k]) => k).sort();

describe('MemberPartitions', () => {
  it('the same member in the next generation keeps the workers of partitions it still owns, from their positions', () => {
    const { m, workers } = joined();
    assert.equal(m.revoking().length, 3);
    assert.ok(Object.values(workers).every((w) => w.state === 'suspended'));
    assert.deepEqual([...m.committable()], [], 'nothing committed while rebalancing');
    const { continued, retired } = m.assigned(join(2, ['t:0', 't:2', 't:3']), 2000);
    assert.deepEqual([...continued], [['t:0', 10n]], 't:2 has no record yet: it starts at the committed offset');
    assert.deepEqual(keys(retired), ['t:1', 't:2'], 't:1 moved away');
    assert.equal(workers['t:0']!.state, 'running');
    assert.deepEqual([...m.owned.keys()].sort(), ['t:0', 't:2', 't:3'], 't:3 is new (added partitions too)');
    assert.equal(m.owned.get('t:0'), 1000, 'owned since its first assignment');
    assert.equal(m.owned.get('t:3'), 2000);
    assert.equal(m.startPosition('t:0'), 10n);
    assert.deepEqual([...m.committable()].length, 1);
  });

  it('a skipped generation, a new member id (fenced) or a lost membership start afresh', () => {
    for (const next of [join(3, ['t:0', 't:1', 't:2']), join(2, ['t:0', 't:1', 't:2'], 'm2')]) {
      const { m } = joined();
      m.revoking();
      const { continued, retired } = m.assigned(next, 0);
      assert.equal(continued.size, 0);
      assert.deepEqual(keys(retired), ['t:0', 't:1', 't:2']);
    }
    const { m } = joined();
    const { retired } = m.lost();
    assert.deepEqual(keys(retired), ['t:0', 't:1', 't:2']);
    assert.equal(m.isLost, true);
    assert.equal(m.owned.size, 0);
    assert.equal(m.owns('t:0'), false, 'records of a lost member are dropped');
    const after = m.assigned(join(2, ['t:0']), 0);
    assert.equal(after.continued.size, 0, 'after a loss nothing continues');
    assert.equal(m.isLost, false);
  });

  it('one join reported twice (the same generation) continues', () => {
    const { m } = joined();
    const { continued, retired } = m.assigned(join(1, ['t:0', 't:1', 't:2']), 0);
    assert.deepEqual([...continued.keys()].sort(), ['t:0', 't:1']);
    assert.deepEqual(keys(retired), ['t:2']);
  });

  it('a worker created while the group rebalances starts suspended; revoking twice suspends once', () => {
    const { m } = joined();
    m.revoking();
    assert.deepEqual(m.revoking(), []);
    const late = new Worker(undefined);
    m.add('t:3', late);
    assert.equal(late.state, 'suspended');
  });

  it('stalled: owned, lagging, and no progress for stallTimeoutMs; never while rebalancing', () => {
    const { m, workers } = joined({ 't:0': 10n, 't:1': 20n });
    m.assigned(join(2, ['t:0', 't:1', 't:5']), 1000);
    workers['t:0']!.lastProgressAt = 50_000;
    workers['t:1']!.lastProgressAt = 1000;
    m.positioned(new Map([['t:5', 7n]]));
    const ends = new Map([['t:0', 12n], ['t:1', 25n], ['t:5', 7n]]);
    assert.deepEqual(m.stalled(ends, 62_000, 60_000, () => undefined), ['t:1'], 't:0 progressed lately, t:5 has no lag');
    assert.deepEqual(m.stalled(new Map([['t:1', 20n]]), 62_000, 60_000, () => undefined), [], 'no lag');
    m.revoking();
    assert.deepEqual(m.stalled(ends, 62_000, 60_000, () => undefined), []);
  });
});
