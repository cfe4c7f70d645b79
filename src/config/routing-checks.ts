// The configuration checks of where records go and how they are written (topics or a pattern, index
// templates, data streams, write actions, Debezium, versions per topic): each refuses a combination
// that cannot work, in one line naming the key and what to do instead.
import type { z } from 'zod';
import { dataStreamProblem, fallbackIndexProblem } from './template-checks.js';
import type { Config } from './schema.js';
import { namedTopics, oneTopicPerIndex, topicSettings } from './topic-settings.js';

export function routingChecks(config: Config, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string, input?: unknown): void => ctx.addIssue({ code: 'custom', path, message, input });
  const { kafka, elastic, document } = config;

  if (kafka.topics.length === 0 && kafka.topicPattern === undefined) issue(['kafka', 'topics'], 'set kafka.topics (K2E_TOPICS), or kafka.topicPattern');
  if (kafka.topics.length > 0 && kafka.topicPattern !== undefined) issue(['kafka', 'topicPattern'], 'kafka.topics and kafka.topicPattern are both set: choose one');
  if (kafka.topicPattern !== undefined) {
    try {
      new RegExp(kafka.topicPattern);
    } catch (error) {
      issue(['kafka', 'topicPattern'], `not a regular expression: ${(error as Error).message}`);
    }
  }

  if (elastic.allowedIndices !== undefined) {
    try {
      new RegExp(elastic.allowedIndices);
    } catch (error) {
      issue(['elastic', 'allowedIndices'], `not a regular expression: ${(error as Error).message}`);
    }
  }

  const topics = namedTopics(config);
  const everyTopicIndexed = kafka.topicPattern === undefined && kafka.topics.length > 0 && kafka.topics.every((t) => config.topicOverrides?.[t]?.index ?? elastic.indexByTopic?.[t]);
  if (elastic.index === undefined && !elastic.dataStream && !everyTopicIndexed) {
    issue(['elastic', 'index'], 'set elastic.index (K2E_INDEX), elastic.dataStream, or an index for every topic (elastic.indexByTopic)');
  }
  if (elastic.index !== undefined && elastic.dataStream) issue(['elastic', 'dataStream'], 'elastic.index and elastic.dataStream are both set: a data stream is the target itself (per-topic indices go in elastic.indexByTopic)');
  if (elastic.fallbackIndex !== undefined) {
    const problem = fallbackIndexProblem(elastic.fallbackIndex);
    if (problem) issue(['elastic', 'fallbackIndex'], problem);
  }

  const ds = elastic.dataStream;
  if (ds) {
    for (const part of ['type', 'dataset', 'namespace'] as const) {
      const problem = dataStreamProblem(part, ds[part]);
      if (problem) issue(['elastic', 'dataStream', part], problem);
    }
    if (ds.installTemplate && elastic.templateFile !== undefined) issue(['elastic', 'dataStream', 'installTemplate'], 'elastic.templateFile and dataStream.installTemplate both install an index template: choose one');
  }

  // Per topic: the global settings with its overrides. With a pattern, topics not named anywhere get the global ones.
  const probes = probeTopics(config, topics);
  const reported = new Set<string>();
  const once = (path: (string | number)[], message: string, input?: unknown): void => {
    const key = `${path.join('.')}\u0000${message}`;
    if (reported.has(key)) return;
    reported.add(key);
    issue(path, message, input);
  };
  for (const topic of probes) {
    const s = topicSettings(config, topic);
    const own = config.topicOverrides?.[topic];
    const where = (key: 'action' | 'actionField' | 'envelope'): (string | number)[] =>
      own?.[key] !== undefined ? ['topicOverrides', topic, key] : key === 'envelope' ? ['decode', 'envelope'] : ['document', key];
    if (s.dataStream) {
      if (s.action !== 'create') once(where('action'), `a data stream is append-only and takes create only (topic ${topic}): remove document.action or set it to create`, s.action);
      if (s.actionField !== undefined) once(where('actionField'), 'a data stream takes create only: an action per record cannot apply', s.actionField);
    }
    const explicitVersion = document.version !== 'auto' && document.version !== 'none';
    if (explicitVersion && own?.action !== undefined && (s.action === 'update' || s.action === 'upsert' || s.action === 'create')) {
      once(['document', 'version'], `external versioning cannot apply to ${s.action} (topicOverrides.${topic}.action): the engines refuse versions on ${s.action === 'create' ? 'write-once creates' : 'updates'}; set document.version none`, document.version);
    }
    if (document.version === 'offset' && s.index !== undefined && !oneTopicPerIndex(config, topic, s.index)) {
      once(['document', 'version'], `offsets of different topics cannot be compared: ${kafka.topicPattern !== undefined ? 'a topic pattern' : `${kafka.topics.length} topics`} may write one index (${s.index}): use timestamp, a field or a header, or {topic} in the index template`, document.version);
    }
    if (s.envelope === 'debezium') {
      if (s.action === 'create') once(where('action'), 'Debezium u events rewrite rows: create would keep each row\'s first image; use index (or upsert)', s.action);
      if (s.actionField !== undefined) once(where('actionField'), 'with decode.envelope debezium the event\'s op decides the action: remove document.actionField', s.actionField);
    }
    if (s.pipeline !== undefined && (s.action === 'update' || s.action === 'upsert')) {
      once(own?.pipeline !== undefined ? ['topicOverrides', topic, 'pipeline'] : ['elastic', 'pipeline'], `ingest pipelines run for index and create only, not for ${s.action}: remove elastic.pipeline or use document.action index`, s.pipeline);
    }
  }
}

/** The topics whose settings the checks look at: every named topic, and with a pattern any other match. */
const probeTopics = (config: Config, topics: string[]): string[] => (config.kafka.topicPattern === undefined ? topics : [...topics, ANY_MATCH]);
/** Not a legal Kafka topic name, so it stands for "a topic the pattern matches" in messages. */
const ANY_MATCH = '(any topic matching kafka.topicPattern)';

/** No topic's documents carry external versions. */
export const everyTopicUnversioned = (config: Config): boolean => probeTopics(config, namedTopics(config)).every((t) => topicSettings(config, t).version === 'none');
