// What one bulk answer means for each slot, as a table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WritableRecord } from '../../src/pipeline/batch.js';
import { type OpenSlot, settle, tooLarge } from '../../src/pipeline/settle.js';
import type { ItemOutcome } from '../../src/sink/bulk-response.js';

const rec = (offset: number, action: 'index' | 'update' | 'create' = 'index', index = 'i'): WritableRecord =>
  ({ offset: BigInt(offset), bytes: 1, op: { action, index, id: 'd' }, opBytes: 1, record: { topic: 't', partition: 0, offset: BigInt(offset), timestamp: 0n, key: null, value: null, headers: new Map() } }) as WritableRecord;
const offsets = (records: readonly { offset: bigint }[]): number[] => records.map((r) => Number(r.offset));
const fail = (kind: 'retriable' | 'systemic' | 'rejected' | 'superseded', errorType = 'x', status = 400): ItemOutcome => ({ kind, status, errorType, reason: 'why' });

describe('settle', () => {
  it('acked and superseded slots are done with all their folded candidates; a sequential slot settles its head only', () => {
    const slots: OpenSlot[] = [{ candidates: [rec(3), rec(1)] }, { candidates: [rec(4)] }, { candidates: [rec(5, 'update'), rec(6, 'update')], sequential: true }];
    const s = settle(slots, [{ kind: 'acked' }, fail('superseded', 'version_conflict_engine_exception', 409), { kind: 'acked' }]);
    assert.deepEqual(offsets(s.indexed), [3, 1, 5]);
    assert.deepEqual(offsets(s.superseded), [4]);
    assert.deepEqual(s.next.map((slot) => [offsets(slot.candidates), slot.sequential, slot.retry]), [[[6], true, undefined]], 'the next update goes at once');
    assert.equal(s.retrying, 0);
  });

  it('retriable and systemic items go again after a backoff; the first systemic reason and missing indices are reported', () => {
    const slots: OpenSlot[] = [{ candidates: [rec(1)] }, { candidates: [rec(2, 'index', 'gone')] }, { candidates: [rec(3)] }];
    const s = settle(slots, [fail('retriable', 'es_rejected_execution_exception', 429), fail('systemic', 'index_not_found_exception', 404), fail('systemic', 'cluster_block_exception', 403)]);
    assert.deepEqual(s.next.map((slot) => [offsets(slot.candidates), slot.retry]), [[[1], true], [[2], true], [[3], true]]);
    assert.equal(s.retrying, 3);
    assert.equal(s.systemic, '404 index_not_found_exception: why');
    assert.deepEqual([...(s.missingIndices ?? [])], ['gone']);
  });

  it('a rejected head is rejected with the engine\'s reason; the slot\'s next candidate goes instead, at once', () => {
    const s = settle([{ candidates: [rec(7), rec(2)] }], [fail('rejected', 'mapper_parsing_exception')]);
    assert.deepEqual(s.rejected.map((r) => [Number(r.prepared.offset), r.failure.errorClass, r.failure.errorType]), [[7, 'rejected', 'mapper_parsing_exception']]);
    assert.deepEqual(s.next.map((slot) => [offsets(slot.candidates), slot.retry]), [[[2], undefined]]);
    assert.deepEqual(s.indexed, []);
  });
});

describe('tooLarge (413)', () => {
  it('several slots: two halves; one slot: its head is oversize and the next candidate goes', () => {
    const three: OpenSlot[] = [{ candidates: [rec(1)] }, { candidates: [rec(2)] }, { candidates: [rec(3)] }];
    const split = tooLarge(three, '413');
    assert.ok('halves' in split);
    assert.deepEqual(split.halves.map((h) => h.length), [2, 1]);
    const one = tooLarge([{ candidates: [rec(9), rec(4)] }], 'request too large');
    assert.ok('rejected' in one);
    assert.deepEqual([Number(one.rejected.prepared.offset), one.rejected.failure.errorClass, one.rejected.failure.errorType], [9, 'oversize', 'request_entity_too_large']);
    assert.deepEqual(one.rest.map((slot) => offsets(slot.candidates)), [[4]]);
    const last = tooLarge([{ candidates: [rec(9)] }], 'x');
    assert.ok('rejected' in last && last.rest.length === 0);
  });
});
