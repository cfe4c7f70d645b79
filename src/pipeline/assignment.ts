// A member's partitions across rebalances (the eager classic protocol), as one pure state machine:
// which partitions it owns in which generation, the worker of each, where their records start, and
// what may be committed. No Kafka, no I/O, no timers: the pipeline feeds it the source's events and
// acts on its answers (retiring workers, committing), so every transition is table-tested on its own.
//
//   revoking()  the group rebalances: every worker suspends (no new bulk), nothing is committed
//   assigned()  the join: the same member in the next generation (or the same one, reported twice)
//               keeps the workers of partitions it still owns, which go on from their position; every
//               other worker retires (its unacknowledged records go to the partition's next owner)
//   lost()      the membership is gone (dropped by the group, or starting over): every worker retires
//   positioned() where each owned partition's records start in this generation (for lag before any)

/** What the state machine needs of a partition's worker. */
export interface PartitionHolder {
  /** The next offset the worker expects (it holds or finished everything before); undefined before its first record. */
  readonly position: bigint | undefined;
  /** Last time a record arrived or was acknowledged (ms). */
  readonly lastProgressAt: number;
  /** What may be committed for the partition (the first unacknowledged offset); undefined before any record. */
  readonly committable: bigint | undefined;
  suspend(): void;
  resume(): void;
}

export interface Join {
  /** "topic:partition" keys. */
  partitions: readonly string[];
  generation: number;
  memberId: string;
}

export interface JoinDecision<W> {
  /** Partitions whose worker goes on, and the offset their records go on from (the source fetches there). */
  continued: Map<string, bigint>;
  /** Workers to retire: their partition moved away, or this member starts afresh. */
  retired: [string, W][];
}

/** The member id of a member that lost its membership. */
const LOST = 'lost';

export class MemberPartitions<W extends PartitionHolder> {
  readonly #workers = new Map<string, W>();
  /** Owned partitions, with when they were assigned (or last made progress without a worker). */
  #owned = new Map<string, number>();
  #startPositions = new Map<string, bigint>();
  #rebalancing = false;
  #generation = -1;
  #memberId = '';

  get rebalancing(): boolean {
    return this.#rebalancing;
  }

  get generation(): number {
    return this.#generation;
  }

  get memberId(): string {
    return this.#memberId;
  }

  /** The membership is gone until the next join. */
  get isLost(): boolean {
    return this.#memberId === LOST;
  }

  owns(key: string): boolean {
    return this.#owned.has(key);
  }

  worker(key: string): W | undefined {
    return this.#workers.get(key);
  }

  /** A worker for an owned partition (created at its first record); suspended when the group rebalances. */
  add(key: string, worker: W): void {
    if (this.#rebalancing) worker.suspend();
    this.#workers.set(key, worker);
  }

  get workers(): ReadonlyMap<string, W> {
    return this.#workers;
  }

  /** Owned partitions and since when (assignment, or last progress without a worker). */
  get owned(): ReadonlyMap<string, number> {
    return this.#owned;
  }

  startPosition(key: string): bigint | undefined {
    return this.#startPositions.get(key);
  }

  /** The group rebalances: every worker suspends; returns them (none when it was already rebalancing). */
  revoking(): W[] {
    if (this.#rebalancing) return [];
    this.#rebalancing = true;
    const workers = [...this.#workers.values()];
    for (const worker of workers) worker.suspend();
    return workers;
  }

  /**
   * The join. Only the same member in the very next generation can be sure nobody else owned a
   * partition in between; a member that was fenced (new member id) or missed a generation starts
   * afresh. One join reported twice (the same generation) continues too.
   */
  assigned({ partitions, generation, memberId }: Join, now: number): JoinDecision<W> {
    const continues = memberId !== LOST && memberId === this.#memberId && (generation === this.#generation + 1 || generation === this.#generation);
    const owned = new Map(partitions.map((key) => [key, this.#owned.get(key) ?? now]));
    const continued = new Map<string, bigint>();
    const retired: [string, W][] = [];
    for (const [key, worker] of this.#workers) {
      const position = worker.position;
      if (continues && owned.has(key) && position !== undefined) {
        worker.resume();
        continued.set(key, position);
      } else {
        retired.push([key, worker]);
      }
    }
    for (const [key] of retired) this.#workers.delete(key);
    this.#owned = memberId === LOST ? new Map() : owned;
    this.#startPositions = new Map(continued);
    this.#generation = generation;
    this.#memberId = memberId;
    this.#rebalancing = false;
    return { continued, retired };
  }

  /** The membership is gone: like a rebalance that takes every partition away. */
  lost(): JoinDecision<W> {
    return this.assigned({ partitions: [], generation: this.#generation, memberId: LOST }, 0);
  }

  /** Where each owned partition's records start in this generation. */
  positioned(positions: ReadonlyMap<string, bigint>): void {
    for (const [key, offset] of positions) if (this.#owned.has(key)) this.#startPositions.set(key, offset);
  }

  /** The workers whose watermarks may be committed: none between a rebalance and the next join. */
  committable(): Iterable<W> {
    return this.#rebalancing ? [] : this.#workers.values();
  }

  /**
   * Owned partitions with lag that made no progress for `stallTimeoutMs`. What is done is what was
   * acknowledged (not what was fetched: records held count as lag); `committed` gives the group's
   * last commit for partitions without a worker.
   */
  stalled(endOffsets: ReadonlyMap<string, bigint>, now: number, stallTimeoutMs: number, committed: (key: string) => bigint | undefined): string[] {
    if (this.#rebalancing) return [];
    const stalled: string[] = [];
    for (const [key, assignedAt] of this.#owned) {
      const worker = this.#workers.get(key);
      const lastProgress = Math.max(assignedAt, worker?.lastProgressAt ?? 0);
      if (now - lastProgress < stallTimeoutMs) continue;
      const done = worker?.committable ?? committed(key) ?? this.#startPositions.get(key);
      const end = endOffsets.get(key);
      if (end !== undefined && done !== undefined && end > done) stalled.push(key);
    }
    return stalled;
  }
}
