// Notices a member the group has stopped hearing from. @platformatic/kafka 1.35 can stop heartbeating
// without telling anyone: a rejoin it starts after a failed commit that itself fails leaves no timer
// and no event, and the member would believe it owns its partitions (and answer /ready) for good. The
// coordinator drops a member it has not heard from for the session timeout; so does this watchdog.
// Life signs: a heartbeat answered, a join completed. While the group rebalances, heartbeats pause
// and a JoinGroup may be held up to the rebalance timeout, so the bound is longer then.

export interface WatchdogTimeouts {
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
}

export class MembershipWatchdog {
  #lifeSignAt: number;
  #rebalancingSince: number | undefined;

  constructor(
    private readonly timeouts: WatchdogTimeouts,
    now = Date.now(),
  ) {
    this.#lifeSignAt = now;
  }

  /** A heartbeat was answered, or the member joined (the group knows it now). */
  alive(now = Date.now()): void {
    this.#lifeSignAt = now;
    this.#rebalancingSince = undefined;
  }

  /** The group started rebalancing: heartbeats pause until the join completes. */
  rebalancing(now = Date.now()): void {
    this.#rebalancingSince ??= now;
  }

  /** Why the member must be presumed dropped by the group, or undefined while it is fine. */
  overdue(now = Date.now()): string | undefined {
    const { sessionTimeoutMs, rebalanceTimeoutMs } = this.timeouts;
    if (this.#rebalancingSince !== undefined) {
      const waited = now - Math.max(this.#rebalancingSince, this.#lifeSignAt);
      return waited > rebalanceTimeoutMs + sessionTimeoutMs ? `the group has been rebalancing for ${waited} ms without this member joining (rebalance timeout ${rebalanceTimeoutMs} ms)` : undefined;
    }
    const silent = now - this.#lifeSignAt;
    return silent > sessionTimeoutMs ? `no heartbeat answered for ${silent} ms (session timeout ${sessionTimeoutMs} ms): the coordinator has dropped this member` : undefined;
  }
}
