// Watches whether the broker and the search engine are reachable, for /ready: a cheap probe of each
// every `intervalMs` (a metadata request; for the engine, requests a least-privilege writer may
// make: src/sink/engine-probe.ts), never more than one in flight.
import { Admin } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { SearchClient } from '../sink/search-client.js';
import { EngineProbe } from '../sink/engine-probe.js';
import { endOffsets } from '../admin/group-offsets.js';
import { kafkaClientOptions } from '../source/connection.js';
import type { Logger } from '../util/logger.js';

export interface Reachability {
  kafka: boolean;
  searchEngine: boolean;
  since: number;
}

export class HealthMonitor {
  readonly #admin: Admin;
  readonly #search: SearchClient;
  readonly #engine: EngineProbe;
  #timer: NodeJS.Timeout | undefined;
  #state: Reachability = { kafka: true, searchEngine: true, since: Date.now() };
  /** End offset per "topic:partition" of the configured topics, from the last probe. */
  endOffsets = new Map<string, bigint>();

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {
    this.#admin = new Admin({ ...kafkaClientOptions(config.kafka, '-health'), timeout: 2000, retries: 0 });
    this.#search = new SearchClient(config.elastic.url, { connections: 1, timeoutMs: 2000, auth: config.elastic });
    this.#engine = new EngineProbe(this.#search, config.elastic.index, logger);
  }

  get state(): Reachability {
    return this.#state;
  }

  get healthy(): boolean {
    return this.#state.kafka && this.#state.searchEngine;
  }

  start(): void {
    const tick = async (): Promise<void> => {
      await this.probe();
      this.#timer = setTimeout(() => void tick(), this.intervalMs);
      this.#timer.unref();
    };
    void tick();
  }

  async probe(): Promise<void> {
    const [kafka, searchEngine] = await Promise.all([
      // The end offsets double as the broker probe (and feed lag in /status and /metrics).
      endOffsets(this.#admin, this.config.kafka.topics).then(
        (ends) => {
          this.endOffsets = ends;
          return true;
        },
        () => false,
      ),
      this.#engine.probe().then((result) => result.problem === undefined, () => false),
    ]);
    if (kafka !== this.#state.kafka || searchEngine !== this.#state.searchEngine) {
      this.#state = { kafka, searchEngine, since: Date.now() };
      (kafka && searchEngine ? this.logger.info.bind(this.logger) : this.logger.warn.bind(this.logger))({ kafka, searchEngine }, 'reachability changed');
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#admin.close().catch(() => undefined);
    await this.#search.close();
  }
}
