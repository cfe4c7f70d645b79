// Names computed per record: index templates (`orders-{yyyy.MM.dd}`), data stream parts, ingest
// pipeline names. A template is parsed once (config check, start) into parts; expanding it for a
// record reads only what it names: the topic, the key, a field of the value, a header, or the
// record's timestamp. Never the wall clock: a record read twice must land in the same index.

type DateToken = 'yyyy' | 'yy' | 'MM' | 'dd' | 'HH';
/** A date format such as yyyy.MM.dd: tokens and separators (UTC). */
type DateFormat = readonly (DateToken | { sep: string })[];

type Part =
  | { kind: 'literal'; text: string }
  | { kind: 'topic' }
  | { kind: 'key' }
  /** A field of the value; with `date`, the field is a date (epoch millis or text) formatted so. */
  | { kind: 'field'; path: readonly string[]; date?: DateFormatter | undefined }
  | { kind: 'header'; name: string }
  /** The record's timestamp, formatted. */
  | { kind: 'date'; date: DateFormatter };

export interface NameTemplate {
  readonly text: string;
  readonly parts: readonly Part[];
  /** The name when the template has no placeholder (the same for every record). */
  readonly fixed: string | undefined;
  readonly readsFields: boolean;
  readonly usesKey: boolean;
  readonly usesDate: boolean;
}

export type ParsedTemplate = { ok: true; template: NameTemplate } | { ok: false; reason: string };

const PLACEHOLDERS = '{topic}, {key}, {field:a.b}, {field:a.b|yyyy.MM.dd}, {header:name} or a date such as {yyyy.MM.dd} (tokens yyyy, yy, MM, dd, HH; separators . - _)';

export function parseTemplate(text: string): ParsedTemplate {
  const parts: Part[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{', at);
    const close = text.indexOf('}', at);
    if (close !== -1 && (open === -1 || close < open)) return { ok: false, reason: `"}" without "{" at position ${close} of "${text}"` };
    if (open === -1) {
      parts.push({ kind: 'literal', text: text.slice(at) });
      break;
    }
    if (open > at) parts.push({ kind: 'literal', text: text.slice(at, open) });
    if (close === -1) return { ok: false, reason: `"{" at position ${open} of "${text}" is never closed` };
    const inner = text.slice(open + 1, close);
    if (inner.includes('{')) return { ok: false, reason: `placeholders cannot nest ("${text.slice(open, close + 1)}")` };
    const part = parsePlaceholder(inner);
    if (typeof part === 'string') return { ok: false, reason: part };
    parts.push(part);
    at = close + 1;
  }
  const literalOnly = parts.every((p) => p.kind === 'literal');
  return {
    ok: true,
    template: {
      text,
      parts,
      fixed: literalOnly ? text : undefined,
      readsFields: parts.some((p) => p.kind === 'field'),
      usesKey: parts.some((p) => p.kind === 'key'),
      usesDate: parts.some((p) => p.kind === 'date' || (p.kind === 'field' && p.date !== undefined)),
    },
  };
}

function parsePlaceholder(inner: string): Part | string {
  if (inner === 'topic') return { kind: 'topic' };
  if (inner === 'key') return { kind: 'key' };
  if (inner.startsWith('header:')) {
    const name = inner.slice('header:'.length);
    return name === '' ? `{header:} names no header` : { kind: 'header', name };
  }
  if (inner.startsWith('field:')) {
    const [path, format] = splitOnce(inner.slice('field:'.length), '|');
    if (path === '' || path.split('.').some((k) => k === '')) return `{${inner}}: expected a dotted field path such as {field:customer.region}`;
    if (format === undefined) return { kind: 'field', path: path.split('.') };
    const date = parseDateFormat(format);
    return typeof date === 'string' ? `{${inner}}: ${date}` : { kind: 'field', path: path.split('.'), date: new DateFormatter(date) };
  }
  const date = parseDateFormat(inner);
  if (typeof date === 'string') return `unknown placeholder {${inner}}: use ${PLACEHOLDERS}`;
  return { kind: 'date', date: new DateFormatter(date) };
}

const splitOnce = (text: string, separator: string): [string, string | undefined] => {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
};

function parseDateFormat(text: string): DateFormat | string {
  const tokens: (DateToken | { sep: string })[] = [];
  for (let at = 0; at < text.length; ) {
    const token = (['yyyy', 'yy', 'MM', 'dd', 'HH'] as const).find((t) => text.startsWith(t, at));
    if (token) {
      tokens.push(token);
      at += token.length;
    } else if ('.-_'.includes(text[at]!)) {
      tokens.push({ sep: text[at]! });
      at++;
    } else {
      return `"${text}" is not a date format (tokens yyyy, yy, MM, dd, HH; separators . - _)`;
    }
  }
  return tokens.some((t) => typeof t === 'string') ? tokens : `"${text}" has no date token (yyyy, yy, MM, dd, HH)`;
}

const HOUR_MS = 3_600_000;

/** Formats instants in UTC. Every token is at most hourly, so the last hour's text is kept: records
 *  arrive in bursts from the same hour, and most need no Date object at all. */
class DateFormatter {
  #hour = Number.NaN;
  #text = '';
  constructor(readonly tokens: DateFormat) {}

  format(ms: number): string {
    const hour = Math.floor(ms / HOUR_MS);
    if (hour === this.#hour) return this.#text;
    const date = new Date(ms);
    let text = '';
    for (const token of this.tokens) {
      if (typeof token !== 'string') text += token.sep;
      else if (token === 'yyyy') text += String(date.getUTCFullYear()).padStart(4, '0');
      else if (token === 'yy') text += String(date.getUTCFullYear() % 100).padStart(2, '0');
      else if (token === 'MM') text += String(date.getUTCMonth() + 1).padStart(2, '0');
      else if (token === 'dd') text += String(date.getUTCDate()).padStart(2, '0');
      else text += String(date.getUTCHours()).padStart(2, '0');
    }
    this.#hour = hour;
    this.#text = text;
    return text;
  }
}

/** What a template may read from a record; `value` is the decoded value (undefined: a tombstone). */
export interface NameContext {
  /** The record's parts a template may read (a SourceRecord has them). */
  record: { topic: string; timestamp: bigint; headers: ReadonlyMap<string, Buffer> };
  /** The key as text in document.keyFormat (null: none); read only by {key}. */
  key: string | null;
  value: Record<string, unknown> | undefined;
}

export type Expanded = { ok: true; name: string } | { ok: false; reason: string };

/**
 * The template's name for this record. `shape` turns each substituted value into what the name may
 * hold (lower-cased for indices, sanitized for data streams); literals are taken as they are.
 */
export function expandTemplate(template: NameTemplate, ctx: NameContext, shape: (value: string) => string = (v) => v): Expanded {
  if (template.fixed !== undefined) return { ok: true, name: template.fixed };
  let name = '';
  for (const part of template.parts) {
    switch (part.kind) {
      case 'literal':
        name += part.text;
        break;
      case 'topic':
        name += shape(ctx.record.topic);
        break;
      case 'key':
        if (ctx.key === null || ctx.key === '') return { ok: false, reason: `{key} in "${template.text}": the record has no key` };
        name += shape(ctx.key);
        break;
      case 'header': {
        const header = ctx.record.headers.get(part.name)?.toString('utf8');
        if (header === undefined || header === '') return { ok: false, reason: `{header:${part.name}} in "${template.text}": the record has no such header` };
        name += shape(header);
        break;
      }
      case 'date': {
        const ms = Number(ctx.record.timestamp);
        if (!(ms >= 0)) return { ok: false, reason: `"${template.text}": the record has no timestamp (${ctx.record.timestamp})` };
        name += part.date.format(ms);
        break;
      }
      case 'field': {
        const field = readPath(ctx.value, part.path);
        if (part.date) {
          const ms = dateMillis(field);
          if (ms === undefined) return { ok: false, reason: `{field:${part.path.join('.')}|…} in "${template.text}": ${describe(field)} is not a date (epoch millis or ISO-8601 text)` };
          name += part.date.format(ms);
          break;
        }
        const text = typeof field === 'string' ? field : typeof field === 'number' || typeof field === 'bigint' || typeof field === 'boolean' ? String(field) : undefined;
        if (text === undefined || text === '') return { ok: false, reason: `{field:${part.path.join('.')}} in "${template.text}": the field is ${describe(field)}` };
        name += shape(text);
        break;
      }
    }
  }
  return { ok: true, name };
}

export function readPath(value: Record<string, unknown> | undefined, path: readonly string[]): unknown {
  let node: unknown = value;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Epoch millis (a number or digits) or date text the engines would parse (ISO-8601). */
function dateMillis(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value !== 'string' || value === '') return undefined;
  if (/^-?\d+$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const describe = (value: unknown): string => (value === undefined ? 'missing' : `${JSON.stringify(value)?.slice(0, 60)}`);
