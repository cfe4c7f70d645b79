// How many bulk requests may be in flight: fixed, or adaptive (`auto`), in the spirit of Vector's
// adaptive request concurrency: additive increase while the engine keeps up, multiplicative decrease
// when it pushes back (429/503, items rejected with 429) or when its latency per document rises well
// above its recent average (queueing inside the engine: more concurrency would only add latency).
const AUTO_MIN = 1;
export const AUTO_MAX = 16;
const AUTO_START = 2;
/** Latency per document this far above its average counts as the engine queueing. */
const LATENCY_RISE = 2;
/** Weight of the newest sample in the moving average. */
const EWMA = 0.1;

export class ConcurrencyLimit {
  #limit: number;
  readonly #adaptive: boolean;
  #average: number | undefined;

  constructor(setting: number | 'auto') {
    this.#adaptive = setting === 'auto';
    this.#limit = setting === 'auto' ? AUTO_START : setting;
  }

  /** Requests allowed in flight now (whole). */
  get current(): number {
    return Math.floor(this.#limit);
  }

  get adaptive(): boolean {
    return this.#adaptive;
  }

  /**
   * A request answered: `secondsPerDoc` its latency per document, `overloaded` when items were
   * refused with 429, `inFlight` the requests still out (growth only when the limit was in use).
   */
  onResponse(secondsPerDoc: number, overloaded: boolean, inFlight: number): void {
    if (!this.#adaptive) return;
    const average = this.#average;
    this.#average = average === undefined ? secondsPerDoc : average + EWMA * (secondsPerDoc - average);
    if (overloaded) return this.#decrease();
    if (average !== undefined && secondsPerDoc > LATENCY_RISE * average) return this.#decrease(0.9);
    // +1 over about one round of `limit` answers, and only if the limit was actually reached.
    if (inFlight + 1 >= this.current) this.#limit = Math.min(AUTO_MAX, this.#limit + 1 / this.#limit);
  }

  /** A request failed as a whole; `overloaded` for 429/503 (the engine pushing back). */
  onFailure(overloaded: boolean): void {
    if (this.#adaptive && overloaded) this.#decrease();
  }

  #decrease(factor = 0.5): void {
    this.#limit = Math.max(AUTO_MIN, this.#limit * factor);
  }
}
