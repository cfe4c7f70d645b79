// What `config check` says about a template before any record is read (one line each): index
// templates, the fallback index, ingest pipeline names, data stream parts. Part of the configuration's
// own checks, so it sits beside the template grammar (name-template.ts) and the engines' naming rules
// (index-name.ts), below every stage.
import { dataStreamLiteralProblem, indexNameProblem, lowerCase } from './index-name.js';
import { expandTemplate, type NameContext, type NameTemplate, parseTemplate } from './name-template.js';

/** Any header a template names holds "x" in the sample record. */
const ANY_HEADER = { get: () => Buffer.from('x') } as unknown as Map<string, Buffer>;
const SAMPLE: NameContext = { record: { topic: 'topic', timestamp: 1_767_225_600_000n, headers: ANY_HEADER }, key: 'key', value: undefined };
const RULES = 'lowercase, without spaces or any of , " * \\ < > | ? / # :';

/** Why an index template (elastic.index, indexByTopic, topicOverrides.*.index) cannot work, or undefined. */
export function indexTemplateProblem(text: string): string | undefined {
  const parsed = parseTemplate(text);
  if (!parsed.ok) return parsed.reason;
  const { template } = parsed;
  for (const part of template.parts) {
    if (part.kind !== 'literal') continue;
    const problem = literalProblem(part.text);
    if (problem) return `${RULES} (${JSON.stringify(part.text)} ${problem})`;
  }
  const sample = expandTemplate(template, { ...SAMPLE, value: sampleValue(template) }, lowerCase);
  const name = sample.ok ? sample.name : text;
  const problem = indexNameProblem(name);
  if (problem) return template.fixed !== undefined ? `${RULES}: the name ${problem}` : `names such as "${name}" would be refused: the name ${problem}`;
  return undefined;
}

/** The fallback index: a name, or a template of the topic alone (it must resolve for any record). */
export function fallbackIndexProblem(text: string): string | undefined {
  const parsed = parseTemplate(text);
  if (parsed.ok && parsed.template.parts.some((p) => p.kind !== 'literal' && p.kind !== 'topic')) return 'the fallback index may use {topic} only: it must resolve for every record';
  return indexTemplateProblem(text);
}

export function pipelineTemplateProblem(text: string): string | undefined {
  if (text === '') return 'empty pipeline name';
  const parsed = parseTemplate(text);
  return parsed.ok ? undefined : parsed.reason;
}

/** Why a data stream's type, dataset or namespace cannot work, or undefined. */
export function dataStreamProblem(part: 'type' | 'dataset' | 'namespace', text: string): string | undefined {
  const parsed = parseTemplate(text);
  if (!parsed.ok) return parsed.reason;
  if (part === 'type' && parsed.template.fixed === undefined) return 'the type is a fixed word such as logs, metrics or traces (no placeholder)';
  for (const p of parsed.template.parts) {
    if (p.kind === 'date' || (p.kind === 'field' && p.date)) return 'no date placeholders in a data stream name: a data stream rolls its backing indices over by itself';
    if (p.kind === 'literal') {
      const problem = dataStreamLiteralProblem(p.text);
      if (problem) return `${JSON.stringify(p.text)} ${problem}`;
    }
  }
  return undefined;
}

function literalProblem(literal: string): string | undefined {
  if (literal !== literal.toLowerCase()) return 'has upper-case letters';
  const bad = /[\\/*?"<>| ,#:]/.exec(literal);
  return bad ? `contains ${JSON.stringify(bad[0])}` : undefined;
}

/** A value whose fields the template reads hold "x" (or a date), so the sample name can be checked. */
function sampleValue(template: NameTemplate): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  for (const part of template.parts) {
    if (part.kind !== 'field') continue;
    let node = value;
    part.path.forEach((key, i) => {
      if (i === part.path.length - 1) node[key] = part.date ? 1_767_225_600_000 : 'x';
      else node = (node[key] ??= {}) as Record<string, unknown>;
    });
  }
  return value;
}
