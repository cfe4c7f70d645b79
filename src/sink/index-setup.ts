// What the initialization check installs in the search engine before consuming: the index template
// (elastic.templateFile) and the data stream's index template (elastic.dataStream.installTemplate).
// The check creates a fixed elastic.index itself; indices named by templates are created on first
// use (sink/index-registry.ts); a data stream is created by its first write.
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import { parseTemplate } from '../config/name-template.js';

export interface TemplateAdmin {
  putIndexTemplate(name: string, template: object): Promise<void>;
}

export interface TargetFiles {
  /** elastic.indexDefinitionFile: { settings, mappings } */
  definition: object | undefined;
  /** elastic.templateFile: an index template body */
  template: object | undefined;
}

/** The one index every record goes to, when elastic.index has no placeholder (and no data stream). */
export function fixedIndex(config: Pick<Config, 'elastic'>): string | undefined {
  const { index } = config.elastic;
  return index !== undefined && !index.includes('{') ? index : undefined;
}

/** Installs elastic.templateFile and the data stream's index template (elastic.dataStream.installTemplate). */
export async function installTemplates(engine: TemplateAdmin, config: Pick<Config, 'elastic' | 'kafka'>, files: TargetFiles, logger: Logger): Promise<void> {
  const { elastic } = config;
  if (files.template) await engine.putIndexTemplate(indexTemplateName(config), files.template);
  if (elastic.dataStream?.installTemplate) {
    const { name, body } = dataStreamTemplate(elastic.dataStream, files.definition);
    await engine.putIndexTemplate(name, body);
    logger.info({ template: name, pattern: body.index_patterns[0] }, 'installed the data stream index template');
  }
}

/** The name elastic.templateFile is installed under: the index, or the literal text of its template. */
function indexTemplateName(config: Pick<Config, 'elastic' | 'kafka'>): string {
  const ds = config.elastic.dataStream;
  const text = config.elastic.index ?? (ds ? `${ds.type}-${ds.dataset}-${ds.namespace}` : '');
  if (!text.includes('{')) return text || `k2e-${config.kafka.groupId.toLowerCase()}`;
  const literal = text.replace(/\{[^}]*\}/g, '').replace(/^[-_.+]+|[-_.]+$/g, '');
  return literal === '' ? `k2e-${config.kafka.groupId.toLowerCase()}` : literal;
}

type DataStream = NonNullable<Config['elastic']['dataStream']>;

/**
 * An index template that makes every name the data stream settings can produce a data stream:
 * placeholders become `*` in its pattern; the index definition's settings and mappings apply to the
 * backing indices, with @timestamp mapped as a date.
 */
export function dataStreamTemplate(ds: DataStream, definition: object | undefined): { name: string; body: { index_patterns: string[]; data_stream: object; priority: number; template: object } } {
  const wild = (text: string): string => {
    const parsed = parseTemplate(text);
    return parsed.ok ? parsed.template.parts.map((p) => (p.kind === 'literal' ? p.text : '*')).join('') : text;
  };
  const pattern = `${ds.type}-${wild(ds.dataset)}-${wild(ds.namespace)}`;
  const { settings, mappings } = (definition ?? {}) as { settings?: object; mappings?: { properties?: Record<string, unknown> } };
  const properties = { ...(mappings?.properties ?? {}), '@timestamp': { type: 'date' } };
  return {
    name: `k2e-${pattern.replace(/\*+/g, 'any')}`,
    body: {
      index_patterns: [pattern],
      data_stream: {},
      // Above the engines' built-in logs-*-* style templates (priority 100), so ours decides.
      priority: 200,
      template: { ...(settings ? { settings } : {}), mappings: { ...(mappings ?? {}), properties } },
    },
  };
}

/** The name readiness probes (HEAD) ask about: the fixed index, else the literal part of the template. */
export const probeIndexName = (config: Pick<Config, 'elastic' | 'kafka'>): string => fixedIndex(config) ?? indexTemplateName(config);
