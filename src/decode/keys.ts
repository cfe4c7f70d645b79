// Record keys → text, for document ids and `{key}` in transform.add. Kafka keys are bytes: reading any
// key as UTF-8 maps distinct binary keys to one id (invalid bytes all become U+FFFD), so the format is
// explicit (document.keyFormat) and a key that does not fit it is a failure, never a silent collision.
import { isUtf8 } from 'node:buffer';
import type { Decoded } from './json.js';

import type { KeyFormat } from '../config/vocabulary.js';

/** The formats decoded without the schema registry. */
export type BytesKeyFormat = Exclude<KeyFormat, 'avro'>;

/**
 * A key as text. `text: null`: the record has no key (null or empty bytes, or an Avro key that
 * decodes to null). A failure is always class `transform`: the record cannot be given its id.
 */
export type DecodedKey = { ok: true; text: string | null } | { ok: false; errorType: string; reason: string };

/** What the transform needs from a record, decoded: its value, and its key when it is used. */
export interface DecodedRecord {
  /** null for a tombstone. */
  value: Decoded | null;
  /** The key as text; undefined when this record does not use its key (see `keyNeeded`). */
  key: DecodedKey | undefined;
  /** The value's original bytes when they go to the engine as they are (JSON, one line, no mapping). */
  raw?: Buffer | undefined;
}

export const NO_KEY: DecodedKey = { ok: true, text: null };

// fatal: invalid bytes are an error instead of U+FFFD; ignoreBOM: a leading BOM is kept, so a key with
// one and the same key without one stay two ids (the decoding stays injective).

const FORMAT_HINT = 'set document.keyFormat to base64, hex, long (8-byte big-endian integers) or avro (Confluent-framed Avro keys)';

/** Decodes a key in a format that needs no registry. Empty bytes are no key, as a null key is. */
export function decodeKeyBytes(key: Buffer | null, format: BytesKeyFormat): DecodedKey {
  if (key === null || key.length === 0) return NO_KEY;
  switch (format) {
    case 'string':
      // isUtf8 is a native check; only valid UTF-8 is read as text (invalid bytes would collide).
      if (isUtf8(key)) return { ok: true, text: key.toString('utf8') };
      return invalid(`key is not valid UTF-8 (${describeBytes(key)}): read as text it could collide with another key; ${FORMAT_HINT}`);
    case 'base64':
      return { ok: true, text: key.toString('base64') };
    case 'hex':
      return { ok: true, text: key.toString('hex') };
    case 'long':
      if (key.length !== 8) return invalid(`key of ${key.length} bytes is not an 8-byte big-endian long (document.keyFormat: long; ${describeBytes(key)}); use base64 or hex for other binary keys`);
      return { ok: true, text: key.readBigInt64BE(0).toString() };
  }
}

const invalid = (reason: string): DecodedKey => ({ ok: false, errorType: 'invalid_key_encoding', reason });

/** Length and the first bytes in hex, for reasons (a key can be long or secret-ish: never all of it). */
function describeBytes(bytes: Buffer): string {
  const head = bytes.subarray(0, 16).toString('hex');
  return `${bytes.length} bytes: ${head}${bytes.length > 16 ? '…' : ''}`;
}

/**
 * A decoded Avro key as text: a primitive as its string form, bytes/fixed as base64, anything
 * structured (record, array, map, wrapped union) as JSON with object keys sorted at every level, so
 * the same key always gives the same id whatever the field order of the writer schema.
 */
export function avroKeyText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return canonicalJson(value);
}

export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return value.toString(); // a JSON number, exactly
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('base64'));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
