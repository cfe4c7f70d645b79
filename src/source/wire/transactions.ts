// read_committed: which of a partition's fetched batches belong to aborted transactions, decided
// exactly as Kafka's Java consumer does (CompletedFetch.nextFetchedRecord) from the response's
// aborted_transactions list alone, which the broker fills with every aborted transaction that
// overlaps the fetched range (so an abort marker beyond this response needs no state across fetches):
// - the aborted transactions are taken in firstOffset order;
// - at each batch with a producer id, every aborted transaction whose firstOffset <= the batch's last
//   offset moves into the set of aborted producers (a producer's next aborted transaction re-adds it);
// - an ABORT control batch removes its producer from the set; a transactional data batch whose
//   producer is in the set is aborted. Non-transactional batches are never aborted.

export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

/** What the decision reads of a batch (RecordBatch has all of it). */
export interface TransactionBatch {
  readonly producerId: bigint;
  readonly isTransactional: boolean;
  readonly lastOffset: bigint;
  /** A control batch whose first record is an ABORT marker. */
  readonly isAbortMarker: boolean;
}

/**
 * For each of `batches` (one partition's, in offset order) whether it is an aborted transaction's
 * data, to be skipped under read_committed. Control batches are never marked (they are skipped
 * anyway); `abortedTransactions` is the partition's list from the Fetch response (null: none).
 */
export function abortedBatches(batches: readonly TransactionBatch[], abortedTransactions: readonly AbortedTransaction[] | null): boolean[] {
  const aborted = new Array<boolean>(batches.length).fill(false);
  if (!abortedTransactions || abortedTransactions.length === 0) return aborted;
  const pending = [...abortedTransactions].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
  let next = 0;
  const abortedProducers = new Set<bigint>();
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    if (batch.producerId < 0n) continue; // no producer id: neither idempotent nor transactional
    const lastOffset = batch.lastOffset;
    while (next < pending.length && pending[next]!.firstOffset <= lastOffset) abortedProducers.add(pending[next++]!.producerId);
    if (batch.isAbortMarker) abortedProducers.delete(batch.producerId);
    else if (batch.isTransactional && abortedProducers.has(batch.producerId)) aborted[i] = true;
  }
  return aborted;
}
