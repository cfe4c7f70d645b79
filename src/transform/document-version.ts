// External document versions (`version_type=external_gte`), as Kafka Connect's sink uses them: the
// engine keeps the highest version it has seen per id and refuses (409) a write that carries a lower
// one. So a bulk that lands late (a revoked owner's, a fenced member's, a dead-letter re-drive) can
// never overwrite a newer value or bring a deleted document back.
import type { SourceRecord } from '../source/record.js';

export type { VersionStrategy } from '../config/topic-settings.js';
import type { VersionStrategy } from '../config/topic-settings.js';

/** One epoch spans 10^12 offsets: epoch 2, offset 17 → version 2000000000017 (readable in the index). */
const EPOCH_SPAN = 1_000_000_000_000n;
/** Engines store versions as a signed 64-bit long; external versions must be below this. */
const MAX_VERSION = 9_223_372_036_854_775_807n;

export type VersionResult = { ok: true; version: bigint | undefined } | { ok: false; reason: string };

export function documentVersion(
  record: Pick<SourceRecord, 'offset' | 'timestamp' | 'headers' | 'origin'>,
  value: Record<string, unknown> | undefined,
  strategy: VersionStrategy,
  epoch = 0,
): VersionResult {
  if (strategy === 'none') return { ok: true, version: undefined };
  let base: bigint | undefined;
  if (strategy === 'offset') {
    // A re-driven dead letter keeps the version of the record it stands for (never a header's word).
    base = record.origin?.offset ?? record.offset;
  } else if (strategy === 'timestamp') {
    base = record.timestamp;
  } else if (strategy.startsWith('header:')) {
    const name = strategy.slice('header:'.length);
    const text = record.headers.get(name)?.toString('utf8');
    if (text === undefined || !/^\d+$/.test(text.trim())) return { ok: false, reason: `version header "${name}" is ${text === undefined ? 'missing' : `not a non-negative integer (${JSON.stringify(text.slice(0, 40))})`}` };
    base = BigInt(text.trim());
  } else if (strategy.startsWith('field:')) {
    const path = strategy.slice('field:'.length);
    // A tombstone has no fields: its delete carries no version (it applies whatever the document holds).
    if (value === undefined) return { ok: true, version: undefined };
    const field = path.split('.').reduce<unknown>((node, k) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[k] : undefined), value);
    if (typeof field === 'number' && Number.isSafeInteger(field) && field >= 0) base = BigInt(field);
    else if (typeof field === 'bigint' && field >= 0n) base = field;
    else if (typeof field === 'string' && /^\d+$/.test(field)) base = BigInt(field);
    else return { ok: false, reason: `version field "${path}" is ${field === undefined ? 'missing' : `not a non-negative integer (${JSON.stringify(field)?.slice(0, 40)})`}` };
  } else {
    throw new Error(`unknown version strategy ${strategy}`);
  }
  const version = epoch === 0 ? base : BigInt(epoch) * EPOCH_SPAN + base;
  if (version < 0n || version >= MAX_VERSION) return { ok: false, reason: `version ${version} is outside the engine's range (0 to 2^63-2)` };
  return { ok: true, version };
}
