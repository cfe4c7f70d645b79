// elastic.maxIndices: how many distinct index (or data stream) names templates may produce in one
// run. Templates with {field:..}, {header:..} or {key} let producers choose names; without a cap a
// producer writing ever new values makes an index per value until the cluster's shard limit holds
// every partition. Names past the cap are the records' failure (too_many_indices), dead-lettered.
import type { Failure } from '../config/vocabulary.js';

export class IndexBudget {
  readonly #names = new Set<string>();

  constructor(readonly max: number) {}

  /** undefined when `index` may be written (known, or within the cap), else the record's failure. */
  admit(index: string): Failure | undefined {
    if (this.#names.has(index)) return undefined;
    if (this.#names.size < this.max) {
      this.#names.add(index);
      return undefined;
    }
    return {
      errorClass: 'transform',
      errorType: 'too_many_indices',
      reason: `index "${index.slice(0, 200)}" would be name number ${this.max + 1} produced by templates in this run, over elastic.maxIndices (${this.max}); raise it, or restrict the names (elastic.allowedIndices, elastic.fallbackIndex)`,
    };
  }

  get size(): number {
    return this.#names.size;
  }
}
