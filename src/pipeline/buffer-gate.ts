// Bounds the records (and bytes) held in memory across all partitions: fetching pauses when either
// bound is reached and resumes once both are back at half. The decision is re-made on EVERY change
// of the counts (records added, acknowledged, or dropped because a partition moved away), so no path
// that frees buffer space can leave fetching paused (a rebalance during backpressure once did).
export interface GateLimits {
  maxRecords: number;
  maxBytes: number;
}

export interface GateSwitch {
  pause(): void;
  resume(): void;
}

export class BufferGate {
  #records = 0;
  #bytes = 0;
  #paused = false;
  #frozen = false;

  constructor(
    private readonly limits: GateLimits,
    private readonly control: GateSwitch,
  ) {}

  get records(): number {
    return this.#records;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get paused(): boolean {
    return this.#paused;
  }

  add(records: number, bytes: number): void {
    this.#records += records;
    this.#bytes += bytes;
    this.#recheck();
  }

  release(records: number, bytes: number): void {
    if (records === 0 && bytes === 0) return;
    this.#records -= records;
    this.#bytes -= bytes;
    if (this.#records < 0 || this.#bytes < 0) throw new Error(`buffer accounting went negative (${this.#records} records, ${this.#bytes} bytes)`);
    this.#recheck();
  }

  /** Shutting down: pause for good, whatever is released afterwards. */
  freeze(): void {
    this.#frozen = true;
    if (!this.#paused) {
      this.#paused = true;
      this.control.pause();
    }
  }

  #recheck(): void {
    if (this.#frozen) return;
    const { maxRecords, maxBytes } = this.limits;
    if (!this.#paused && (this.#records >= maxRecords || this.#bytes >= maxBytes)) {
      this.#paused = true;
      this.control.pause();
    } else if (this.#paused && this.#records <= maxRecords / 2 && this.#bytes <= maxBytes / 2) {
      this.#paused = false;
      this.control.resume();
    }
  }
}
