// The topics this member subscribes to and the partition counts it told the group about.
//
// Kafka never announces partitions added to a topic, nor (for kafka.topicPattern) new topics: a timer
// calls `discover()`, which re-reads the counts (and lists the topics); when something grew the
// member joins again with changed subscription metadata, which makes the coordinator rebalance.
// Topics matched after the start are remembered: they are read from their beginning.
import type { Logger } from '../util/logger.js';
import { compileTopicPattern, matchingTopics } from './topic-pattern.js';

/** What discovery asks Kafka. */
export interface TopicCatalog {
  /** Every topic name in the cluster (only asked with a pattern). */
  listTopics(): Promise<string[]>;
  /** Partition count of each of `topics` (0 for one the brokers do not know); `fresh` skips caches. */
  partitionCounts(topics: string[], fresh: boolean): Promise<Map<string, number>>;
}

export interface SubscriptionOptions {
  topics: readonly string[];
  /** kafka.topicPattern. */
  topicPattern?: string;
  /** errors.dlqTopic: dead-letter topics never match the pattern. */
  dlqTopic?: string;
  /** Called with topics the pattern newly matched, before the member rejoins to consume them. */
  onTopicsAdded?: (topics: string[]) => Promise<void>;
  logger: Logger;
}

export type RejoinReason = 'partitions added' | 'topics added';

export class Subscription {
  /** kafka.topics, or what the pattern matched so far (it only grows). */
  readonly #topics: string[];
  #knownCounts = new Map<string, number>();
  readonly #addedLater = new Set<string>();
  readonly #pattern: RegExp | undefined;

  constructor(
    private readonly catalog: TopicCatalog,
    private readonly options: SubscriptionOptions,
  ) {
    this.#topics = [...options.topics];
    this.#pattern = options.topicPattern === undefined ? undefined : compileTopicPattern(options.topicPattern);
  }

  get topics(): readonly string[] {
    return this.#topics;
  }

  /** Partition counts last told to the group. */
  get knownCounts(): ReadonlyMap<string, number> {
    return this.#knownCounts;
  }

  /** Topics the pattern matched after the start. */
  get addedLater(): ReadonlySet<string> {
    return this.#addedLater;
  }

  get pattern(): boolean {
    return this.#pattern !== undefined;
  }

  /** Before the first join: the topics the pattern matches and the counts, both best-effort. */
  async start(): Promise<void> {
    this.#topics.push(...(await this.#newlyMatched().catch(() => [])));
    this.#knownCounts = await this.partitionCounts(false).catch(() => new Map<string, number>());
  }

  async partitionCounts(fresh: boolean): Promise<Map<string, number>> {
    if (this.#topics.length === 0) return new Map();
    return this.catalog.partitionCounts([...this.#topics], fresh);
  }

  /**
   * Looks for new matching topics and partitions added; returns why the member should join again
   * (its metadata changed), or undefined. `stopped` is asked between the requests (the member closing).
   */
  async discover(stopped: () => boolean = () => false): Promise<RejoinReason | undefined> {
    let counts;
    let added: string[] = [];
    try {
      added = await this.#newlyMatched();
      if (added.length > 0 && !stopped()) await this.#topicsAdded(added);
      counts = await this.partitionCounts(true);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'partition discovery: metadata request failed');
      if (added.length === 0) return undefined;
      counts = new Map<string, number>();
    }
    const grown = [...counts].filter(([topic, count]) => count > (this.#knownCounts.get(topic) ?? 0));
    if ((grown.length === 0 && added.length === 0) || stopped()) return undefined;
    if (grown.length > 0) this.options.logger.info({ partitions: Object.fromEntries(grown), before: Object.fromEntries(this.#knownCounts) }, 'partitions added to a topic: rejoining the group so they get assigned');
    for (const [topic, count] of grown) this.#knownCounts.set(topic, count);
    return grown.length > 0 ? 'partitions added' : 'topics added';
  }

  /** Topics the pattern matches now that are not subscribed yet. */
  async #newlyMatched(): Promise<string[]> {
    const pattern = this.#pattern;
    if (!pattern) return [];
    const known = new Set(this.#topics);
    return matchingTopics(await this.catalog.listTopics(), pattern, this.options.dlqTopic ?? '{topic}.dlq').filter((t) => !known.has(t));
  }

  async #topicsAdded(added: string[]): Promise<void> {
    this.options.logger.info({ topics: added, topicPattern: this.options.topicPattern }, 'new topics match kafka.topicPattern: subscribing (read from their beginning)');
    // Their dead-letter topics first, so a failure in their first records has somewhere to go.
    await this.options.onTopicsAdded?.(added).catch((error: unknown) => this.options.logger.warn({ err: error, topics: added }, 'preparing newly matched topics failed; going on'));
    for (const topic of added) this.#addedLater.add(topic);
    this.#topics.push(...added);
  }
}
