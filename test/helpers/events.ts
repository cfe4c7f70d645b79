// Keyed events with a per-key sequence number: after any crash or rebalance, each key's document
// must hold the last sequence number produced for that key.
import type { TestMessage } from './kafka.js';

export interface SequencedEvents {
  messages: TestMessage[];
  /** key → last sequence number */
  lastSeq: Map<string, number>;
}

export function sequencedEvents(count: number, distinctKeys: number): SequencedEvents {
  const lastSeq = new Map<string, number>();
  const messages: TestMessage[] = [];
  for (let i = 0; i < count; i++) {
    const key = `key-${i % distinctKeys}`;
    const seq = Math.floor(i / distinctKeys);
    lastSeq.set(key, seq);
    messages.push({ key, value: JSON.stringify({ key, seq, payload: 'x'.repeat(100) }) });
  }
  return { messages, lastSeq };
}
