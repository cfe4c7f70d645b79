// kafka.topicPattern: which topics a regular expression subscribes to. The pattern matches whole
// names. Internal topics (__consumer_offsets …) and dead-letter topics never match: a pattern such
// as `orders.*` would otherwise consume orders.dlq and feed every failure back into itself.
import type { Config } from '../config/schema.js';
import { dlqTopicFor } from '../config/vocabulary.js';

export function compileTopicPattern(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

/** The topics of `names` the pattern subscribes to, sorted. */
export function matchingTopics(names: Iterable<string>, pattern: RegExp, dlqTemplate: string): string[] {
  const all = new Set(names);
  return [...all].filter((name) => !name.startsWith('__') && pattern.test(name) && !isDeadLetterTopic(name, dlqTemplate, all)).sort();
}

/** Whether `name` is the dead-letter topic of another existing topic (or the one fixed dead-letter topic). */
function isDeadLetterTopic(name: string, template: string, names: ReadonlySet<string>): boolean {
  if (!template.includes('{topic}')) return name === template;
  const [before, after] = [template.slice(0, template.indexOf('{topic}')), template.slice(template.indexOf('{topic}') + '{topic}'.length)];
  if (!name.startsWith(before) || !name.endsWith(after) || name.length <= before.length + after.length) return false;
  const source = name.slice(before.length, name.length - after.length);
  return names.has(source) && dlqTopicFor(template, source) === name;
}

/** The topics to consume now: the listed ones, or those the pattern matches among `existing`. */
export function currentTopics(kafka: Pick<Config['kafka'], 'topics' | 'topicPattern'>, existing: Iterable<string>, dlqTemplate: string): string[] {
  return kafka.topicPattern === undefined ? kafka.topics : matchingTopics(existing, compileTopicPattern(kafka.topicPattern), dlqTemplate);
}
