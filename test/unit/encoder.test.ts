import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bulkBody } from '../../src/sink/bulk-request.js';
import { actionLineBytes, type BulkOperation, encode, writeActionLine } from '../../src/sink/encoder.js';

// Text that takes each path of the byte writer: plain ASCII (copied as is), characters JSON escapes,
// multi-byte UTF-8, a lone surrogate, the empty string.
const texts = ['a', 'order-42', '', 'with space', 'quote"d', 'back\\slash', 'tab\there', 'nl\n', 'ctl\u0001', 'del\u007f', 'ümlaut', '日本', '😀', 'lone\ud800', '{"json":1}', 'x'.repeat(300)];

function operations(): BulkOperation[] {
  const ops: BulkOperation[] = [];
  for (const text of texts) {
    ops.push({ action: 'index', index: 'logs', id: text, source: '{}' });
    ops.push({ action: 'delete', index: `idx-${text}`, id: 'k', version: 9_000_000_000_017n });
    ops.push({ action: 'update', index: 'u', id: 'k', routing: text, retryOnConflict: 3, source: '{"doc":{}}' });
    ops.push({ action: 'create', index: 'c', pipeline: text, source: Buffer.from('{"a":"ü"}') });
  }
  ops.push({ action: 'index', index: 'no-id', source: '{}' });
  ops.push({ action: 'index', index: 'all', id: 'i', routing: 'r', pipeline: 'p', version: 0n, source: '{}' });
  return ops;
}

/** The action line the obvious way, with JSON.stringify: the reference the byte writer must match. */
function actionLine(op: BulkOperation): string {
  let meta = `"_index":${JSON.stringify(op.index)}`;
  if (op.id !== undefined) meta += `,"_id":${JSON.stringify(op.id)}`;
  if (op.routing !== undefined) meta += `,"routing":${JSON.stringify(op.routing)}`;
  if (op.pipeline !== undefined) meta += `,"pipeline":${JSON.stringify(op.pipeline)}`;
  if (op.retryOnConflict !== undefined) meta += `,"retry_on_conflict":${op.retryOnConflict}`;
  if (op.version !== undefined) meta += `,"version":${op.version},"version_type":"external_gte"`;
  return `{"${op.action}":{${meta}}}`;
}

describe('encoder', () => {
  it('writes exactly the bytes of the reference action line, and counts them exactly', () => {
    for (const op of operations()) {
      const expected = Buffer.from(actionLine(op), 'utf8');
      assert.equal(actionLineBytes(op), expected.length, actionLine(op));
      const body = Buffer.alloc(expected.length + 8, 0xff);
      const end = writeActionLine(body, 4, op);
      assert.equal(end, 4 + expected.length, actionLine(op));
      assert.deepEqual(body.subarray(4, end), expected, actionLine(op));
      assert.equal(body[3], 0xff, 'nothing written before the position');
      assert.equal(body[end], 0xff, 'nothing written after the line');
    }
  });

  it('builds a body whose every line parses as JSON, with the operation counted to the byte', () => {
    const encoded = operations().map(encode);
    const body = bulkBody(encoded);
    assert.equal(body.length, encoded.reduce((sum, e) => sum + e.opBytes, 0));
    const lines = body.toString('utf8').split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    for (const line of lines) assert.doesNotThrow(() => JSON.parse(line), line);
    const first = JSON.parse(lines[0]!) as { index: { _index: string; _id: string } };
    assert.deepEqual(first, { index: { _index: 'logs', _id: 'a' } });
    const ids = lines.map((l) => JSON.parse(l) as Record<string, { _id?: string }>).flatMap((l) => (l.index?._id !== undefined ? [l.index._id] : []));
    assert.deepEqual(ids.slice(0, texts.length), texts, 'JSON escapes a lone surrogate, so it arrives as it was');
  });
});
