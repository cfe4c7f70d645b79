// `dlq summary`: counts of a dead-letter topic by error class and type and by source partition, so
// an operator sees what broke, where, and since when, before looking at single records.
import type { DeadLetterRecord } from './records.js';
import { escapeControl } from '../util/redact.js';

export interface DlqSummary {
  topic: string;
  records: number;
  /** The end offsets the read stopped at ("partition": offset). */
  endOffsets: Record<string, string>;
  byError: { errorClass: string; errorType: string; count: number }[];
  bySource: { topic: string; partition: number | null; count: number; firstOffset: string | null; lastOffset: string | null }[];
  /** Dead-letter timestamps of the oldest and newest record (epoch ms), null when empty. */
  first: number | null;
  last: number | null;
}

export class SummaryBuilder {
  readonly #errors = new Map<string, { errorClass: string; errorType: string; count: number }>();
  readonly #sources = new Map<string, { topic: string; partition: number | null; count: number; first: bigint | null; last: bigint | null }>();
  #records = 0;
  #first: number | null = null;
  #last: number | null = null;

  add(record: DeadLetterRecord): void {
    this.#records++;
    const errorKey = `${record.errorClass}\u0000${record.errorType}`;
    const error = this.#errors.get(errorKey) ?? { errorClass: record.errorClass, errorType: record.errorType, count: 0 };
    error.count++;
    this.#errors.set(errorKey, error);
    const topic = record.source?.topic ?? '(unknown)';
    const partition = record.source?.partition ?? null;
    const sourceKey = `${topic}\u0000${partition}`;
    const source = this.#sources.get(sourceKey) ?? { topic, partition, count: 0, first: null, last: null };
    source.count++;
    const offset = record.source?.offset ?? null;
    if (offset !== null) {
      if (source.first === null || offset < source.first) source.first = offset;
      if (source.last === null || offset > source.last) source.last = offset;
    }
    this.#sources.set(sourceKey, source);
    const at = Number(record.timestamp);
    if (this.#first === null || at < this.#first) this.#first = at;
    if (this.#last === null || at > this.#last) this.#last = at;
  }

  build(topic: string, ends: ReadonlyMap<string, { end: bigint }>): DlqSummary {
    return {
      topic,
      records: this.#records,
      endOffsets: Object.fromEntries([...ends].map(([key, r]) => [key.slice(key.lastIndexOf(':') + 1), r.end.toString()])),
      byError: [...this.#errors.values()].sort((a, b) => b.count - a.count || a.errorClass.localeCompare(b.errorClass) || a.errorType.localeCompare(b.errorType)),
      bySource: [...this.#sources.values()]
        .sort((a, b) => a.topic.localeCompare(b.topic) || (a.partition ?? -1) - (b.partition ?? -1))
        .map((s) => ({ topic: s.topic, partition: s.partition, count: s.count, firstOffset: s.first?.toString() ?? null, lastOffset: s.last?.toString() ?? null })),
      first: this.#first,
      last: this.#last,
    };
  }
}

export function formatSummary(summary: DlqSummary): string {
  const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
  const lines = [
    `dead-letter topic ${summary.topic}: ${summary.records} records (read up to end offsets ${Object.entries(summary.endOffsets)
      .map(([p, o]) => `${p}:${o}`)
      .join(' ')})`,
  ];
  if (summary.records === 0) return lines.map(escapeControl).join('\n');
  lines.push(`dead-lettered between ${iso(summary.first)} and ${iso(summary.last)}`, '', 'by error:');
  lines.push(`  ${'class'.padEnd(10)} ${'type'.padEnd(40)} ${'records'.padStart(8)}`);
  for (const e of summary.byError) lines.push(`  ${e.errorClass.padEnd(10)} ${e.errorType.padEnd(40)} ${String(e.count).padStart(8)}`);
  lines.push('', 'by source partition:');
  lines.push(`  ${'topic:partition'.padEnd(40)} ${'records'.padStart(8)}  source offsets`);
  for (const s of summary.bySource) {
    const where = `${s.topic}:${s.partition ?? '?'}`;
    lines.push(`  ${where.padEnd(40)} ${String(s.count).padStart(8)}  ${s.firstOffset ?? '-'}..${s.lastOffset ?? '-'}`);
  }
  return lines.map(escapeControl).join('\n');
}
