// How dead letters are cut into produce requests the dead-letter topic accepts: each request's record
// batch must stay under the topic's max.message.bytes (the broker refuses a larger one with
// MESSAGE_TOO_LARGE for good, so resending it can never succeed). Pure: sizes are upper bounds of the
// record format v2 encoding, so a group that fits here fits on the broker.

/** What one dead letter costs in a record batch: only the byte lengths matter. */
export interface SizedMessage {
  key?: Buffer | undefined;
  value: Buffer | null;
  headers: Map<Buffer, Buffer>;
}

/** A record batch's own header (base offset … record count), v2. */
export const BATCH_HEADER_BYTES = 61;
/** Kept free under the limit for what the estimate does not know about (none expected: it is an upper bound). */
const SAFETY_MARGIN_BYTES = 512;
/** Kafka's default message.max.bytes (what a topic without an override and a broker left alone allow). */
export const BROKER_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

// A varint takes at most 5 bytes (int32) or 10 (int64).
const VARINT = 5;
// length + attributes + timestamp delta (varlong) + offset delta + key length + value length + header count
const RECORD_OVERHEAD = VARINT + 1 + 10 + VARINT + VARINT + VARINT + VARINT;
const HEADER_OVERHEAD = VARINT + VARINT;

/** An upper bound of a record's bytes inside a v2 record batch (uncompressed). */
export function recordBytes(message: SizedMessage): number {
  let bytes = RECORD_OVERHEAD + (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [key, value] of message.headers) bytes += HEADER_OVERHEAD + key.length + value.length;
  return bytes;
}

/** The records' bytes one produce request may carry for a topic with this max.message.bytes. */
export function batchBudget(maxMessageBytes: number): number {
  return Math.max(0, maxMessageBytes - BATCH_HEADER_BYTES - SAFETY_MARGIN_BYTES);
}

/**
 * Cuts the items, in order, into groups whose records fit in `budget` bytes together. An item larger
 * than the budget on its own is a group of its own (the caller truncates it first).
 */
export function splitIntoGroups<T>(items: readonly T[], budget: number, messageOf: (item: T) => SizedMessage): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = recordBytes(messageOf(item));
    if (current.length > 0 && bytes + size > budget) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * A message too large for the budget even alone, cut down to fit: the value keeps its first bytes and
 * `truncatedHeader` records the original size (an existing one, from an earlier truncation, is kept).
 * When key and headers alone exceed the budget, the value is empty and `reasonHeader` is shortened
 * too. Returns undefined when the message already fits.
 */
export function truncateToFit<M extends SizedMessage>(message: M, budget: number, truncatedHeader: Buffer, reasonHeader: Buffer): M | undefined {
  if (recordBytes(message) <= budget) return undefined;
  const headers = new Map(message.headers);
  const existing = [...headers.keys()].find((k) => k.equals(truncatedHeader));
  if (existing === undefined) headers.set(truncatedHeader, Buffer.from(String(message.value?.length ?? 0)));
  const empty = { ...message, value: Buffer.alloc(0), headers };
  let room = budget - recordBytes(empty);
  if (room < 0) {
    // Key and headers alone are too large: the reason (up to 4000 characters) is what can give.
    const reasonKey = [...headers.keys()].find((k) => k.equals(reasonHeader));
    if (reasonKey !== undefined) {
      const reason = headers.get(reasonKey)!;
      headers.set(reasonKey, reason.subarray(0, Math.max(0, reason.length + room)));
      room = budget - recordBytes(empty);
    }
  }
  const value = message.value ?? Buffer.alloc(0);
  return { ...empty, value: value.subarray(0, Math.max(0, Math.min(value.length, room))) };
}
