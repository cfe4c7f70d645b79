// errors.poisonAfter: the last line of defence against a record the pipeline cannot handle. A record's
// own failures are dead-lettered where they happen; a throw that escapes the pipeline costs the member
// its consumer and it starts over from the group's offsets, meeting the same record again. Counting
// those throws per record, in a row, turns the N-th meeting into one dead letter (type poison).
import type { SourceRecord } from './record.js';

type Coordinate = Pick<SourceRecord, 'topic' | 'partition' | 'offset'>;

export class PoisonStrikes {
  #last: (Coordinate & { count: number; reason: string }) | undefined;

  constructor(readonly poisonAfter: number) {}

  /** Handing `record` over threw; returns how many times in a row it did. */
  strike(record: Coordinate, reason: string): number {
    const last = this.#last;
    const count = last && last.topic === record.topic && last.partition === record.partition && last.offset === record.offset ? last.count + 1 : 1;
    this.#last = { topic: record.topic, partition: record.partition, offset: record.offset, count, reason: `the member failed ${count} time(s) in a row at this record: ${reason}` };
    return count;
  }

  /** The reason to dead-letter `record` as poison (once), or undefined when it is not. Cheap when nothing failed. */
  poison(record: Coordinate): string | undefined {
    const last = this.#last;
    if (last === undefined || last.count < this.poisonAfter || last.offset !== record.offset || last.partition !== record.partition || last.topic !== record.topic) return undefined;
    this.#last = undefined;
    return last.reason;
  }
}
