// A declarative mapping from a decoded record to the document indexed: keep/drop fields, convert
// types (epoch millis → ISO date, ...), rename, and add fields from the record's coordinates.
// Applied in that order; a value that cannot be converted is a transform failure (dead-lettered).
import type { SourceRecord } from '../source/record.js';

import type { Converter } from '../config/vocabulary.js';

export interface Mapping {
  keep?: string[] | undefined;
  drop?: string[] | undefined;
  convert?: Record<string, Converter> | undefined;
  rename?: Record<string, string> | undefined;
  /** Values: a literal, or one of {topic} {partition} {offset} {timestamp} (ISO) {key} {now} (ISO) {header:<name>}. */
  add?: Record<string, string> | undefined;
}

export type Mapped = { ok: true; value: Record<string, unknown> } | { ok: false; reason: string };

/** What `add` templates read: the record's coordinates and headers, and its key as text in
 *  document.keyFormat (the same text the `key` id strategy uses, so `{key}` in a document and its id agree). */
export type MappingContext = Pick<SourceRecord, 'topic' | 'partition' | 'offset' | 'timestamp'> & { key: string | null; headers?: ReadonlyMap<string, Buffer> | undefined };

/** Whether a mapping reads the record's key (`{key}` in transform.add). */
export const mappingUsesKey = (mapping: Mapping | undefined): boolean => Object.values(mapping?.add ?? {}).includes('{key}');

export function applyMapping(value: Record<string, unknown>, mapping: Mapping | undefined, record: MappingContext): Mapped {
  if (!mapping) return { ok: true, value };
  let doc: Record<string, unknown> = { ...value };
  if (mapping.keep) doc = Object.fromEntries(mapping.keep.filter((k) => k in doc).map((k) => [k, doc[k]]));
  for (const field of mapping.drop ?? []) delete doc[field];
  for (const [field, converter] of Object.entries(mapping.convert ?? {})) {
    if (!(field in doc) || doc[field] === null) continue;
    const converted = convert(doc[field], converter);
    if (converted === undefined) return { ok: false, reason: `field "${field}" (${JSON.stringify(doc[field])}) cannot be converted with ${converter}` };
    doc[field] = converted;
  }
  for (const [from, to] of Object.entries(mapping.rename ?? {})) {
    if (!(from in doc)) continue;
    doc[to] = doc[from];
    delete doc[from];
  }
  for (const [field, template] of Object.entries(mapping.add ?? {})) doc[field] = expand(template, record);
  return { ok: true, value: doc };
}

function convert(value: unknown, converter: Converter): unknown {
  switch (converter) {
    case 'epochMillisToIso':
    case 'epochSecondsToIso': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
      const date = new Date(converter === 'epochMillisToIso' ? n : n * 1000);
      return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
    }
    case 'isoToEpochMillis': {
      const ms = typeof value === 'string' ? Date.parse(value) : NaN;
      return Number.isNaN(ms) ? undefined : ms;
    }
    case 'string':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      return value === true || value === 'true' ? true : value === false || value === 'false' ? false : undefined;
  }
}

function expand(template: string, record: MappingContext): unknown {
  switch (template) {
    case '{topic}':
      return record.topic;
    case '{partition}':
      return record.partition;
    case '{offset}':
      return Number(record.offset);
    case '{timestamp}': {
      // A producer may set any timestamp: one a date cannot hold becomes null, not a throw.
      const date = new Date(Number(record.timestamp));
      return Number.isNaN(date.getTime()) ? null : date.toISOString();
    }
    case '{key}':
      return record.key;
    case '{now}':
      return new Date().toISOString();
    default:
      // A header's value as UTF-8 text; null when the record has no such header.
      if (template.startsWith('{header:') && template.endsWith('}') && template.length > '{header:}'.length) {
        return record.headers?.get(template.slice('{header:'.length, -1))?.toString('utf8') ?? null;
      }
      return template;
  }
}
