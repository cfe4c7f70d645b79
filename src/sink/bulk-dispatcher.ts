// Bulks across partitions. Each partition worker hands its batch (its operations, in its order) to
// the dispatcher; the dispatcher sends the batches waiting from several partitions as ONE `_bulk`
// request, bounded by documents and bytes, with a bounded (optionally adaptive) number of requests in
// flight, and gives each batch back its own slice of the answer. The engine handles one request of
// 5,000 documents far better than five of 1,000, while each partition's order is unchanged: a
// partition's next batch still waits for its previous one (or, with external versions, the engine
// keeps the order).
//
// Batches are never split: a request carries whole batches, first come first served. With nothing
// in flight a batch leaves at once, so combining costs no latency at low load; while requests are
// in flight, another one opens for at least half a bulk, or beside a request that is slow (out for
// SLOW_REQUEST_MS). So below capacity the batches that arrive meanwhile combine into the next
// request instead of going out as many small ones.
import type { ItemOutcome } from './bulk-response.js';
import type { EncodedOperation } from './encoder.js';
import { ConcurrencyLimit } from './concurrency-limit.js';
import { SearchHttpError } from './search-client.js';

export interface BulkTransport {
  bulk(ops: readonly EncodedOperation[], compress: boolean): Promise<ItemOutcome[]>;
}

export interface DispatcherOptions {
  maxDocs: number;
  maxBytes: number;
  /** Requests in flight: a number, or `auto` (additive increase, multiplicative decrease). */
  maxInFlight: number | 'auto';
  compression: boolean;
  /** Called once per HTTP request that got an answer (for metrics). */
  onRequest?: (durationSeconds: number, documents: number, bytes: number) => void;
}

/** A request out this long is slow (a stalled engine, a held connection): small batches stop waiting for it. */
export const SLOW_REQUEST_MS = 1000;

interface Waiting {
  ops: readonly EncodedOperation[];
  bytes: number;
  resolve(outcomes: ItemOutcome[]): void;
  reject(error: unknown): void;
}

export class BulkDispatcher {
  readonly #queue: Waiting[] = [];
  readonly limit: ConcurrencyLimit;
  #inFlight = 0;
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() at which each request in flight left, oldest first (pushed in time order, removed in place). */
  readonly #sentAt: number[] = [];

  constructor(
    private readonly transport: BulkTransport,
    private readonly options: DispatcherOptions,
  ) {
    this.limit = new ConcurrencyLimit(options.maxInFlight);
  }

  /** Requests on the wire now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Sends this batch, alone or with others; resolves with one outcome per operation, in order. */
  bulk(ops: readonly EncodedOperation[]): Promise<ItemOutcome[]> {
    let bytes = 0;
    for (const op of ops) bytes += op.opBytes;
    return new Promise((resolve, reject) => {
      this.#queue.push({ ops, bytes, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#queue.length > 0 && this.#inFlight < this.limit.current) {
      if (this.#inFlight > 0 && !this.#worthAnotherRequest()) {
        const out = performance.now() - this.#sentAt[0]!;
        if (out < SLOW_REQUEST_MS) return this.#pumpLater(SLOW_REQUEST_MS - out);
      }
      const group: Waiting[] = [this.#queue.shift()!];
      let docs = group[0]!.ops.length;
      let bytes = group[0]!.bytes;
      while (this.#queue.length > 0) {
        const next = this.#queue[0]!;
        if (docs + next.ops.length > this.options.maxDocs || bytes + next.bytes > this.options.maxBytes) break;
        group.push(this.#queue.shift()!);
        docs += next.ops.length;
        bytes += next.bytes;
      }
      this.#inFlight++;
      void this.#send(group, bytes).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  #pumpLater(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.ceil(ms));
  }

  /**
   * Another request goes out beside those in flight only for at least half a bulk (documents or
   * bytes); less waits for a request to come back and joins the next one, unless the oldest request
   * in flight has been out SLOW_REQUEST_MS (then waiting would only hold the batch back).
   * Below capacity this keeps one larger request in flight instead of many small ones: each bulk
   * costs the engine a request, a translog sync and write-thread time its refreshes then lack
   * (docs/benchmarks.md, "Latency"). A backlog fills half a bulk at once, so a catch-up still uses
   * every slot.
   */
  #worthAnotherRequest(): boolean {
    let docs = 0;
    let bytes = 0;
    for (const w of this.#queue) {
      docs += w.ops.length;
      bytes += w.bytes;
      if (docs * 2 >= this.options.maxDocs || bytes * 2 >= this.options.maxBytes) return true;
    }
    return false;
  }

  async #send(group: Waiting[], bytes: number): Promise<void> {
    const ops = group.length === 1 ? group[0]!.ops : group.flatMap((g) => g.ops);
    const started = performance.now();
    this.#sentAt.push(started);
    let outcomes: ItemOutcome[];
    try {
      outcomes = await this.transport.bulk(ops, this.options.compression);
    } catch (error) {
      this.#sentAt.splice(this.#sentAt.indexOf(started), 1);
      const status = error instanceof SearchHttpError ? error.status : undefined;
      this.limit.onFailure(status === 429 || status === 503);
      if (status === 413 && group.length > 1) {
        // The combination was too large for the engine: each batch again on its own.
        for (const g of group.reverse()) this.#queue.unshift(g);
        this.#sendAlone(group.length);
        return;
      }
      for (const g of group) g.reject(error);
      return;
    }
    this.#sentAt.splice(this.#sentAt.indexOf(started), 1);
    const seconds = (performance.now() - started) / 1000;
    this.options.onRequest?.(seconds, ops.length, bytes);
    let overloaded = false;
    for (const o of outcomes) if (o.kind === 'retriable' && o.status === 429) overloaded = true;
    this.limit.onResponse(seconds / Math.max(1, ops.length), overloaded, this.#inFlight);
    let at = 0;
    for (const g of group) {
      g.resolve(group.length === 1 ? outcomes : outcomes.slice(at, at + g.ops.length));
      at += g.ops.length;
    }
  }

  /** After a 413 on a combined request: the first `count` waiting batches leave one per request. */
  #sendAlone(count: number): void {
    for (let i = 0; i < count && this.#queue.length > 0; i++) {
      const alone = this.#queue.shift()!;
      this.#inFlight++;
      void this.#send([alone], alone.bytes).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }
}
