// Watches whether the broker and the search engine are reachable, for /ready: a cheap probe of each
// every `intervalMs` (a metadata request; for the engine, requests a least-privilege writer may
// make: src/sink/engine-probe.ts), never more than one in flight.
import { Admin } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { SearchClient } from '../sink/search-client.js';
import { EngineProbe } from '../sink/engine-probe.js';
import { probeIndexName } from '../sink/index-setup.js';
import { endOffsets } from '../admin/group-offsets.js';
import { kafkaClientOptions } from '../source/connection.js';
import type { Logger } from '../util/logger.js';

/** true: answered the last probe; false: did not; null: unknown (not probed yet). */
export interface Reachability {
  kafka: boolean | null;
  searchEngine: boolean | null;
  since: number;
}

export class HealthMonitor {
  readonly #admin: Admin;
  readonly #search: SearchClient;
  readonly #engine: EngineProbe;
  #timer: NodeJS.Timeout | undefined;
  // Unknown until the first probe: /status must not say "reachable" while the start-up check says otherwise.
  #state: Reachability = { kafka: null, searchEngine: null, since: Date.now() };
  /** End offset per "topic:partition" of the configured topics, from the last probe. */
  endOffsets = new Map<string, bigint>();

  /** @param topics the topics consumed now (kafka.topicPattern: what it matched so far) */
  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly topics: () => readonly string[] = () => config.kafka.topics,
  ) {
    this.#admin = new Admin({ ...kafkaClientOptions(config.kafka, '-health'), timeout: 2000, requestTimeout: 2000, retries: 0 });
    this.#search = new SearchClient(config.elastic.url, { connections: 1, timeoutMs: 2000, auth: config.elastic });
    this.#engine = new EngineProbe(this.#search, probeIndexName(config), logger);
  }

  get state(): Reachability {
    return this.#state;
  }

  get healthy(): boolean {
    return this.#state.kafka === true && this.#state.searchEngine === true;
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
      endOffsets(this.#admin, [...this.topics()]).then(
        (ends) => {
          this.endOffsets = ends;
          return true;
        },
        () => false,
      ),
      this.#engine.probe().then((result) => result.problem === undefined, () => false),
    ]);
    const previous = this.#state;
    if (kafka !== previous.kafka || searchEngine !== previous.searchEngine) {
      this.#state = { kafka, searchEngine, since: Date.now() };
      const first = previous.kafka === null && previous.searchEngine === null;
      // The first probe finding both reachable is what start-up already logged; anything else is news.
      if (!(first && kafka && searchEngine)) (kafka && searchEngine ? this.logger.info.bind(this.logger) : this.logger.warn.bind(this.logger))({ kafka, searchEngine }, 'reachability changed');
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#admin.close().catch(() => undefined);
    await this.#search.close();
  }
}
