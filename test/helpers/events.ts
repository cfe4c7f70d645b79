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

export interface EventWaves {
  /** Produce these one after the other; the sequence number of an update is its wave. */
  waves: TestMessage[][];
  /** key → last sequence number */
  lastSeq: Map<string, number>;
}

/**
 * `distinctKeys` keys updated in `waveCount` waves, key-i taking part in waves 0 … i % waveCount:
 * some keys get their last update in every wave. An older value written late (a revoked owner's
 * bulk landing after the new owner's) stays visible at the end for the keys already retired, whenever
 * in the run it happens; with sequencedEvents only writes after the last wave would show.
 * With `partitions`, key-i goes to partition i % partitions (so a test knows where each key lives).
 */
export function retiringKeyWaves(distinctKeys: number, waveCount: number, partitions?: number): EventWaves {
  const lastSeq = new Map<string, number>();
  const waves: TestMessage[][] = Array.from({ length: waveCount }, () => []);
  for (let i = 0; i < distinctKeys; i++) {
    const key = `key-${i}`;
    const last = i % waveCount;
    lastSeq.set(key, last);
    for (let seq = 0; seq <= last; seq++) {
      waves[seq]!.push({ key, value: JSON.stringify({ key, seq, payload: 'x'.repeat(100) }), ...(partitions ? { partition: i % partitions } : {}) });
    }
  }
  return { waves, lastSeq };
}
