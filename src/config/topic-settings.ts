// The settings that apply to one topic's records: the global ones, replaced by elastic.indexByTopic
// and topicOverrides.<topic>, with the defaults that depend on each other resolved: a data stream
// writes with create, a tombstone in a data stream or a Debezium topic writes nothing, and `auto`
// versioning is on only where offsets can order an index's documents.
import type { Config } from './schema.js';
import type { NullValues, WriteAction } from './vocabulary.js';

type Format = 'json' | 'avro' | 'string' | 'bytes';

export interface TopicSettings {
  topic: string;
  /** The index template text; undefined when the topic writes the data stream. */
  index: string | undefined;
  dataStream: Config['elastic']['dataStream'] | undefined;
  id: string;
  action: WriteAction;
  actionField: string | undefined;
  routing: string | undefined;
  pipeline: string | undefined;
  format: Format;
  envelope: 'none' | 'debezium';
  /** What a tombstone does here (see `effectiveNullValues`). */
  nullValues: NullValues;
  /** Resolved: never `auto`. */
  version: VersionStrategy;
}

type SettingsConfig = Pick<Config, 'kafka' | 'document' | 'decode' | 'elastic' | 'topicOverrides'>;

export function topicSettings(config: SettingsConfig, topic: string): TopicSettings {
  const override = config.topicOverrides?.[topic];
  const index = override?.index ?? config.elastic.indexByTopic?.[topic] ?? (config.elastic.dataStream ? undefined : config.elastic.index);
  const dataStream = index === undefined ? config.elastic.dataStream : undefined;
  const id = override?.id ?? config.document.id;
  const action = override?.action ?? config.document.action ?? (dataStream ? 'create' : 'index');
  const actionField = override?.actionField ?? config.document.actionField;
  const envelope = override?.envelope ?? config.decode.envelope;
  const version = actionField !== undefined && config.document.version === 'auto' ? 'none' : resolveVersionStrategy(config.document.version, id, action, oneTopicPerIndex(config, topic, index));
  return {
    topic,
    index,
    dataStream,
    id,
    action,
    actionField,
    routing: override?.routing ?? config.document.routing,
    pipeline: override?.pipeline ?? config.elastic.pipeline,
    format: override?.format ?? config.decode.topics?.[topic] ?? config.decode.format,
    envelope,
    nullValues: effectiveNullValues(config.document.nullValues, dataStream !== undefined, envelope),
    version,
  };
}

/**
 * A tombstone deletes by default, except where that cannot mean anything: a data stream is
 * append-only (no delete by id reaches its documents), and a Debezium tombstone follows the delete
 * event it compacts, which has already removed the document. There `delete` acknowledges it without
 * a write, as `ignore` does; `fail` still fails it.
 */
function effectiveNullValues(configured: NullValues, dataStream: boolean, envelope: 'none' | 'debezium'): NullValues {
  return configured === 'delete' && (dataStream || envelope === 'debezium') ? 'ignore' : configured;
}

/**
 * Whether the index a topic writes receives records of that topic only, so offsets can order its
 * documents: the template names the topic, or the configuration lists one topic, or no other listed
 * topic writes the same index. A topic pattern can add topics at any time, so there only {topic}
 * counts. A fallback index shared by topics counts as shared.
 */
export function oneTopicPerIndex(config: SettingsConfig, topic: string, index: string | undefined): boolean {
  if (index === undefined) return false; // a data stream: create, never versioned
  const fallback = config.elastic.fallbackIndex;
  const fallbackOwn = fallback === undefined || fallback.includes('{topic}');
  if (index.includes('{topic}')) return fallbackOwn;
  if (config.kafka.topicPattern !== undefined) return false;
  const topics = config.kafka.topics;
  if (topics.length <= 1) return true;
  const shared = topics.some((other) => other !== topic && topicSettingsIndex(config, other) === index);
  return !shared && fallbackOwn;
}

const topicSettingsIndex = (config: SettingsConfig, topic: string): string | undefined =>
  config.topicOverrides?.[topic]?.index ?? config.elastic.indexByTopic?.[topic] ?? (config.elastic.dataStream ? undefined : config.elastic.index);

/** Whether any topic's values are Avro (the schema registry is needed). */
export function usesAvroValues(config: Pick<Config, 'decode' | 'topicOverrides'>): boolean {
  return (
    config.decode.format === 'avro' ||
    Object.values(config.decode.topics ?? {}).includes('avro') ||
    Object.values(config.topicOverrides ?? {}).some((o) => o.format === 'avro')
  );
}

/** The topics named anywhere in the configuration (listed, or given per-topic settings). */
export function namedTopics(config: Pick<Config, 'kafka' | 'elastic' | 'topicOverrides' | 'decode'>): string[] {
  return [...new Set([...config.kafka.topics, ...Object.keys(config.elastic.indexByTopic ?? {}), ...Object.keys(config.topicOverrides ?? {}), ...Object.keys(config.decode.topics ?? {})])];
}

/** `offset` | `timestamp` | `field:<path>` | `header:<name>` | `none`. */
export type VersionStrategy = string;

/**
 * Which strategy `auto` means: offsets order the records of one partition, so they version documents
 * whose id stays on one partition of one topic (key- or field-derived ids, one topic per index).
 * Coordinate ids never repeat, engine ids cannot be versioned, `create` is write-once anyway, and the
 * engines refuse versions on updates.
 * @param oneTopicPerIndex whether the index receives this topic's records only (see topic-settings)
 */
function resolveVersionStrategy(configured: string, id: string, action: string, oneTopicPerIndex: boolean): VersionStrategy {
  if (configured !== 'auto') return configured;
  if (action === 'create' || action === 'update' || action === 'upsert' || id === 'none' || id === 'coordinate') return 'none';
  return oneTopicPerIndex ? 'offset' : 'none';
}
