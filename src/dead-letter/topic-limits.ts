// How large a record batch each dead-letter topic accepts, read from the broker (DescribeConfigs on
// the topic answers with its effective max.message.bytes: the topic's override, else the broker's
// message.max.bytes) and kept per topic until the broker refuses a batch as too large.
import { type Admin, ConfigResourceTypes } from '@platformatic/kafka';
import type { Logger } from '../util/logger.js';
import { BROKER_DEFAULT_MAX_MESSAGE_BYTES } from './batching.js';

/** The largest record batch the topic takes: max.message.bytes, and segment.bytes should it be smaller. */
export async function describeBatchLimit(admin: Admin, topic: string): Promise<number> {
  const [description] = await admin.describeConfigs({
    resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configurationKeys: ['max.message.bytes', 'segment.bytes'] }],
  });
  const values = (description?.configs ?? []).map((c) => Number(c.value)).filter((v) => Number.isSafeInteger(v) && v > 0);
  if (values.length === 0) throw new Error(`the broker described no max.message.bytes for ${topic}`);
  return Math.min(...values);
}

/** When the limit could not be read (no DescribeConfigs permission, broker away): assume the default, ask again after this. */
const FALLBACK_TTL_MS = 60_000;

export class TopicLimits {
  readonly #known = new Map<string, { bytes: number; until: number }>();
  readonly #reading = new Map<string, Promise<number>>();

  constructor(
    private readonly describe: (topic: string) => Promise<number>,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The topic's max.message.bytes: cached, read once at a time. */
  async limit(topic: string): Promise<number> {
    const known = this.#known.get(topic);
    if (known && known.until > this.now()) return known.bytes;
    let reading = this.#reading.get(topic);
    if (!reading) {
      reading = this.#read(topic).finally(() => this.#reading.delete(topic));
      this.#reading.set(topic, reading);
    }
    return reading;
  }

  /** The broker refused a batch as too large: the topic's setting may have changed, read it again. */
  forget(topic: string): void {
    this.#known.delete(topic);
  }

  async #read(topic: string): Promise<number> {
    try {
      const bytes = await this.describe(topic);
      this.#known.set(topic, { bytes, until: Number.POSITIVE_INFINITY });
      this.logger.debug({ topic, maxMessageBytes: bytes }, 'dead-letter topic batch limit');
      return bytes;
    } catch (error) {
      this.#known.set(topic, { bytes: BROKER_DEFAULT_MAX_MESSAGE_BYTES, until: this.now() + FALLBACK_TTL_MS });
      this.logger.warn(
        { topic, err: error, assumed: BROKER_DEFAULT_MAX_MESSAGE_BYTES },
        "could not read the dead-letter topic's max.message.bytes (DescribeConfigs permission on the topic?): assuming the broker default",
      );
      return BROKER_DEFAULT_MAX_MESSAGE_BYTES;
    }
  }
}
