// Where a record goes: the index its template names (per topic, with an optional fallback) or the
// data stream <type>-<dataset>-<namespace>, and the ingest pipeline that runs on it. (What `config
// check` says about a template before any record is read: config/template-checks.ts.)
import { dataStreamPart, indexNameProblem, lowerCase } from '../config/index-name.js';
import { expandTemplate, type NameContext, type NameTemplate, parseTemplate } from '../config/name-template.js';

interface DataStreamTarget {
  type: string;
  dataset: NameTemplate;
  namespace: NameTemplate;
  /** Where @timestamp comes from (a path in the value); the record's timestamp when absent. */
  timestampField?: readonly string[] | undefined;
}

export interface Target {
  /** The index template, for index targets. */
  index?: NameTemplate | undefined;
  /** Where a record whose index cannot be resolved goes instead of the dead-letter topic. */
  fallback?: NameTemplate | undefined;
  dataStream?: DataStreamTarget | undefined;
  pipeline?: NameTemplate | undefined;
  /** The pipeline's name comes from the record ({field}, {key}, {header}): a missing one is the record's fault. */
  pipelineFromRecord: boolean;
  /** elastic.allowedIndices: names a template produces must match (whole name). */
  allowed?: RegExp | undefined;
  readsFields: boolean;
  usesKey: boolean;
}

export interface TargetSettings {
  index?: string | undefined;
  fallbackIndex?: string | undefined;
  dataStream?: { type: string; dataset: string; namespace: string; timestampField?: string | undefined } | undefined;
  pipeline?: string | undefined;
  allowedIndices?: string | undefined;
}

/** elastic.allowedIndices as a whole-name regular expression. */
const compileAllowedIndices = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`);

/** Compiles checked settings (configChecks refused the bad ones, so parsing cannot fail here). */
export function compileTarget(settings: TargetSettings): Target {
  const parse = (text: string): NameTemplate => {
    const parsed = parseTemplate(text);
    if (!parsed.ok) throw new Error(`template "${text}": ${parsed.reason}`);
    return parsed.template;
  };
  const ds = settings.dataStream;
  const target: Target = {
    index: ds || settings.index === undefined ? undefined : parse(settings.index),
    fallback: settings.fallbackIndex === undefined ? undefined : parse(settings.fallbackIndex),
    dataStream: ds ? { type: ds.type, dataset: parse(ds.dataset), namespace: parse(ds.namespace), timestampField: ds.timestampField?.split('.') } : undefined,
    pipeline: settings.pipeline === undefined ? undefined : parse(settings.pipeline),
    pipelineFromRecord: false,
    allowed: settings.allowedIndices === undefined ? undefined : compileAllowedIndices(settings.allowedIndices),
    readsFields: false,
    usesKey: false,
  };
  const templates = [target.index, target.fallback, target.dataStream?.dataset, target.dataStream?.namespace, target.pipeline].filter((t) => t !== undefined);
  target.readsFields = templates.some((t) => t.readsFields) || target.dataStream?.timestampField !== undefined;
  target.usesKey = templates.some((t) => t.usesKey);
  target.pipelineFromRecord = target.pipeline?.parts.some((p) => p.kind === 'field' || p.kind === 'key' || p.kind === 'header') ?? false;
  return target;
}

/** The name when every record of the topic goes to the same index (no placeholder, no data stream). */
export const fixedIndex = (target: Target): string | undefined => (target.dataStream ? undefined : target.index?.fixed);

export type Resolved =
  | { ok: true; index: string; pipeline?: string | undefined }
  | { ok: false; errorType: 'index_unresolved' | 'pipeline_unresolved' | 'index_not_allowed'; reason: string };

export function resolveTarget(target: Target, ctx: NameContext): Resolved {
  let index: string;
  if (target.dataStream) {
    const named = dataStreamName(target.dataStream, ctx);
    if (!named.ok) return { ok: false, errorType: 'index_unresolved', reason: named.reason };
    if (target.allowed && !target.allowed.test(named.name)) return { ok: false, errorType: 'index_not_allowed', reason: notAllowed(named.name, target.allowed) };
    index = named.name;
  } else {
    let named = indexName(target.index!, ctx);
    // A name the record made up outside elastic.allowedIndices is treated like one that cannot be
    // resolved: the fallback index takes it, if there is one.
    const refused = named.ok && target.allowed !== undefined && target.index!.fixed === undefined && !target.allowed.test(named.name);
    if (refused) named = { ok: false, reason: notAllowed(named.ok ? named.name : '', target.allowed!) };
    if (named.ok) index = named.name;
    else if (refused && !target.fallback) return { ok: false, errorType: 'index_not_allowed', reason: `${named.reason} (set elastic.fallbackIndex to index such records somewhere)` };
    else if (target.fallback) {
      const fallback = indexName(target.fallback, ctx);
      if (!fallback.ok) return { ok: false, errorType: 'index_unresolved', reason: `${named.reason}; the fallback index too: ${fallback.reason}` };
      index = fallback.name;
    } else return { ok: false, errorType: 'index_unresolved', reason: `${named.reason} (set elastic.fallbackIndex to index such records somewhere)` };
  }
  if (!target.pipeline) return { ok: true, index };
  const pipeline = expandTemplate(target.pipeline, ctx);
  if (!pipeline.ok) return { ok: false, errorType: 'pipeline_unresolved', reason: `elastic.pipeline: ${pipeline.reason}` };
  return { ok: true, index, pipeline: pipeline.name };
}

const notAllowed = (name: string, allowed: RegExp): string => `index "${name.slice(0, 300)}" does not match elastic.allowedIndices (${allowed.source.slice(4, -2)})`;

/**
 * The index of a document to delete: where its writes went. Not the fallback (a delete there would
 * miss it), and not a date from the deleting record's own timestamp (the document was written at
 * another time): such templates need the date from a field the delete carries.
 */
export function resolveDeleteIndex(target: Target, ctx: NameContext): { ok: true; index: string } | { ok: false; reason: string } {
  if (target.dataStream) return { ok: false, reason: 'a data stream is append-only: documents cannot be deleted by id' };
  const template = target.index!;
  if (template.parts.some((p) => p.kind === 'date')) {
    return { ok: false, reason: `the index "${template.text}" takes its date from each record's timestamp, so a delete cannot know the index its document went to; take the date from a field ({field:created_at|yyyy.MM.dd}) or set document.nullValues: ignore` };
  }
  const named = indexName(template, ctx);
  return named.ok ? { ok: true, index: named.name } : named;
}

function indexName(template: NameTemplate, ctx: NameContext): { ok: true; name: string } | { ok: false; reason: string } {
  const expanded = expandTemplate(template, ctx, lowerCase);
  if (!expanded.ok) return expanded;
  if (template.fixed !== undefined) return expanded; // checked once, by the config check
  const problem = indexNameProblem(expanded.name);
  return problem ? { ok: false, reason: `index "${expanded.name.slice(0, 300)}" from "${template.text}" ${problem}` } : expanded;
}

function dataStreamName(ds: DataStreamTarget, ctx: NameContext): { ok: true; name: string } | { ok: false; reason: string } {
  const dataset = expandTemplate(ds.dataset, ctx, dataStreamPart);
  if (!dataset.ok) return { ok: false, reason: `data stream dataset: ${dataset.reason}` };
  const namespace = expandTemplate(ds.namespace, ctx, dataStreamPart);
  if (!namespace.ok) return { ok: false, reason: `data stream namespace: ${namespace.reason}` };
  const name = `${ds.type}-${dataset.name}-${namespace.name}`;
  const problem = indexNameProblem(name);
  return problem ? { ok: false, reason: `data stream "${name.slice(0, 300)}" ${problem}` } : { ok: true, name };
}
