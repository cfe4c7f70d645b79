// Per-partition commit watermark for at-least-once delivery: the offset to commit is the first
// offset not yet acknowledged, so a commit never jumps over a record the index has not confirmed,
// even when later batches finish first.
export class PartitionWatermark {
  /** Offsets handed to the sink and not yet acknowledged. */
  readonly #pending = new Set<bigint>();
  /** Highest offset seen so far (acked or pending); -1 when none. */
  #highest = -1n;
  #committable: bigint | undefined;

  track(offset: bigint): void {
    if (offset <= this.#highest) throw new Error(`offset ${offset} tracked out of order (highest ${this.#highest})`);
    this.#pending.add(offset);
    this.#highest = offset;
  }

  ack(offset: bigint): void {
    if (!this.#pending.delete(offset)) throw new Error(`offset ${offset} acked but not pending`);
    this.#committable = undefined;
  }

  /** Highest offset tracked so far, -1 when none. */
  get highest(): bigint {
    return this.#highest;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * The next offset the group should resume from (Kafka commit semantics: last processed + 1),
   * or undefined when nothing has been acknowledged yet.
   */
  committableOffset(): bigint | undefined {
    if (this.#highest < 0n) return undefined;
    if (this.#committable !== undefined) return this.#committable;
    // Offsets are tracked in increasing order and a Set iterates in insertion order,
    // so its first element is the lowest offset still pending.
    const lowestPending = this.#pending.values().next();
    this.#committable = lowestPending.done ? this.#highest + 1n : lowestPending.value;
    return this.#committable;
  }
}
