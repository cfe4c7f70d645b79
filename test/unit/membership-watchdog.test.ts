// The watchdog that notices a member the group stopped hearing from (heartbeats that stop silently).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MembershipWatchdog } from '../../src/source/membership-watchdog.js';

describe('membership watchdog', () => {
  const timeouts = { sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 60_000 };

  it('a member whose heartbeats are answered is fine; one silent past the session timeout is dropped', () => {
    const dog = new MembershipWatchdog(timeouts, 0);
    assert.equal(dog.overdue(29_000), undefined);
    dog.alive(29_000);
    assert.equal(dog.overdue(58_000), undefined);
    assert.match(dog.overdue(59_001) ?? '', /no heartbeat answered for 30001 ms/);
  });

  it('while the group rebalances, the bound is the rebalance timeout plus a session; a join ends it', () => {
    const dog = new MembershipWatchdog(timeouts, 0);
    dog.rebalancing(10_000);
    assert.equal(dog.overdue(50_000), undefined, 'heartbeats pause while joining');
    assert.equal(dog.overdue(100_000), undefined);
    assert.match(dog.overdue(100_001) ?? '', /rebalancing for 90001 ms/);
    dog.alive(100_002);
    assert.equal(dog.overdue(120_000), undefined);
  });

  it('a rebalance that keeps being reported does not restart the clock', () => {
    const dog = new MembershipWatchdog(timeouts, 0);
    dog.rebalancing(1_000);
    dog.rebalancing(80_000);
    assert.ok(dog.overdue(91_001));
  });
});
