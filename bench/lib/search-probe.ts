// When does a document become searchable? Ids are noted with their send time; a `_search` (`ids`
// query, every 25 ms; not GET by id, which is real-time and would not wait for the refresh) finds
// them, and each one found gives one latency. Shared by the service's steady-state run and the
// engine's own latency floor, so both are measured the same way.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from './engine.js';

export class SearchProbe {
  readonly outstanding = new Map<string, number>();
  readonly latencies: number[] = [];
  probes = 0;
  #sending = true;
  #stoppedAt = Infinity;
  readonly #loop: Promise<void>;

  constructor(
    private readonly engine: Engine,
    private readonly index: string,
    /** After the last send, how long to keep looking for ids not found yet. */
    private readonly graceMs = 30_000,
  ) {
    this.#loop = this.#poll();
  }

  /** Notes an id sent now (performance.now()). */
  expect(id: string, sentAt: number): void {
    this.outstanding.set(id, sentAt);
    this.probes++;
  }

  /** Nothing more is sent: resolves once every id was found or the grace time is over. */
  async finish(): Promise<number[]> {
    this.#sending = false;
    this.#stoppedAt = performance.now();
    await this.#loop;
    return this.latencies;
  }

  async #poll(): Promise<void> {
    const done = (): boolean => !this.#sending && (this.outstanding.size === 0 || performance.now() > this.#stoppedAt + this.graceMs);
    while (!done()) {
      if (this.outstanding.size > 0) {
        const ids = [...this.outstanding.keys()].slice(0, 1000);
        const r = await this.engine
          .call<{ hits?: { hits?: { _id: string }[] } }>('POST', `/${this.index}/_search?filter_path=hits.hits._id`, { query: { ids: { values: ids } }, size: ids.length, _source: false })
          .catch(() => undefined);
        const now = performance.now();
        for (const hit of r?.body.hits?.hits ?? []) {
          const sentAt = this.outstanding.get(hit._id);
          if (sentAt !== undefined) {
            this.latencies.push(now - sentAt);
            this.outstanding.delete(hit._id);
          }
        }
      }
      await sleep(25);
    }
  }
}
