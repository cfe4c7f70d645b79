// Per-partition commit watermark for at-least-once delivery: the offset to commit is the first
// offset not yet acknowledged, so a commit never jumps over a record the index has not confirmed,
// even when later batches finish first.
//
// Offsets are tracked in increasing order, so they sit in an array in that order with an
// acknowledged flag each; the first unacknowledged one is at `#head`. Acknowledgements mostly come
// in order (a batch's records, oldest first), which makes both operations O(1) without hashing a
// BigInt per record; an acknowledgement out of order finds its offset by binary search.
export class PartitionWatermark {
  #offsets: bigint[] = [];
  #acked: boolean[] = [];
  /** Index of the lowest offset still pending (everything before it is acknowledged). */
  #head = 0;
  #pending = 0;
  /** Highest offset seen so far (acked or pending); -1 when none. */
  #highest = -1n;

  track(offset: bigint): void {
    if (offset <= this.#highest) throw new Error(`offset ${offset} tracked out of order (highest ${this.#highest})`);
    this.#offsets.push(offset);
    this.#acked.push(false);
    this.#pending++;
    this.#highest = offset;
  }

  ack(offset: bigint): void {
    const at = this.#indexOf(offset);
    if (at < 0 || this.#acked[at]) throw new Error(`offset ${offset} acked but not pending`);
    this.#acked[at] = true;
    this.#pending--;
    if (at === this.#head) this.#advance();
  }

  /**
   * Nothing below `next` is left to track: the source moved past offsets that hold no record for us
   * (transaction markers, aborted transactions). Once everything tracked is acknowledged, the commit
   * reaches `next`, so a partition ending in a marker shows no lag.
   */
  skipTo(next: bigint): void {
    if (next - 1n > this.#highest) this.#highest = next - 1n;
  }

  /** Highest offset tracked so far, -1 when none. */
  get highest(): bigint {
    return this.#highest;
  }

  get pendingCount(): number {
    return this.#pending;
  }

  /**
   * The next offset the group should resume from (Kafka commit semantics: last processed + 1),
   * or undefined when nothing has been tracked yet.
   */
  committableOffset(): bigint | undefined {
    if (this.#highest < 0n) return undefined;
    return this.#head < this.#offsets.length ? this.#offsets[this.#head] : this.#highest + 1n;
  }

  #indexOf(offset: bigint): number {
    const offsets = this.#offsets;
    if (offsets[this.#head] === offset) return this.#head;
    let low = this.#head;
    let high = offsets.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = offsets[mid]!;
      if (value === offset) return mid;
      if (value < offset) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  /** Moves past the acknowledged prefix; drops it once it is most of the arrays. */
  #advance(): void {
    const length = this.#offsets.length;
    while (this.#head < length && this.#acked[this.#head]) this.#head++;
    if (this.#head === length) {
      this.#offsets = [];
      this.#acked = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= length) {
      this.#offsets = this.#offsets.slice(this.#head);
      this.#acked = this.#acked.slice(this.#head);
      this.#head = 0;
    }
  }
}
