// One plan per topic, built once at its first record: how its records are decoded (format, whether
// values must be parsed, which use their key) and transformed (its settings with topicOverrides).
// Handed to the decoders (as their DecodePlans) and to record preparation, so decode needs nothing
// from transform.
import type { Config } from '../config/schema.js';
import { topicSettings } from '../config/topic-settings.js';
import { type DecodePlan, type DecodePlans, RecordDecoders } from '../decode/decoders.js';
import type { Logger } from '../util/logger.js';
import { keyNeeded, transformOptions, type TransformOptions } from './to-operation.js';

export interface TopicPlan extends DecodePlan {
  options: TransformOptions;
}

export class TopicPlans implements DecodePlans {
  readonly #plans = new Map<string, TopicPlan>();

  constructor(private readonly config: Config) {}

  get(topic: string): TopicPlan {
    let plan = this.#plans.get(topic);
    if (plan) return plan;
    const options = transformOptions(this.config, topic);
    const format = topicSettings(this.config, topic).format;
    const fieldPath = (strategy: string | undefined): boolean => strategy?.startsWith('field:') === true;
    plan = {
      format,
      asIs: format === 'json' && !options.mapping && options.envelope === undefined,
      readsFields: fieldPath(options.id) || fieldPath(options.version) || (options.routing !== undefined && options.routing !== 'key') || options.actionField !== undefined || options.target?.readsFields === true,
      changeKeys: options.envelope === 'debezium',
      keyNeeded: (tombstone) => keyNeeded(options, tombstone),
      options,
    };
    this.#plans.set(topic, plan);
    return plan;
  }
}

/** The decoders of a configuration, with its topics' plans (for callers that only decode: `dlq show`, tests). */
export function recordDecoders(config: Config, logger: Logger, signal: AbortSignal, plans = new TopicPlans(config)): RecordDecoders {
  return new RecordDecoders(config, logger, signal, plans);
}
