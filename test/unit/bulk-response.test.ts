import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BulkResponseBody, classifyBulkResponse } from '../../src/sink/bulk-response.js';
import { bulkBody } from '../../src/sink/bulk-request.js';

describe('classifyBulkResponse', () => {
  it('classifies every item of a real mixed response', () => {
    // Item bodies as Elasticsearch 9 / OpenSearch 3 return them.
    const body: BulkResponseBody = {
      errors: true,
      items: [
        { index: { _index: 'i', _id: '1', status: 201, result: 'created' } },
        { index: { _index: 'i', _id: '2', status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' } } },
        {
          index: {
            _index: 'i',
            _id: '3',
            status: 400,
            error: { type: 'document_parsing_exception', reason: "[1:9] failed to parse field [n] of type [long]", caused_by: { type: 'illegal_argument_exception', reason: 'For input string: "x"' } },
          },
        },
        { delete: { _index: 'i', _id: '4', status: 404, result: 'not_found' } },
        { index: { _index: 'i', _id: '5', status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } } },
      ],
    };
    const outcomes = classifyBulkResponse(body, Array.from({ length: 5 }, () => ({})));
    assert.deepEqual(outcomes.map((o) => o.kind), ['acked', 'retriable', 'rejected', 'acked', 'retriable']);
    assert.deepEqual(outcomes[2], {
      kind: 'rejected',
      status: 400,
      errorType: 'document_parsing_exception',
      reason: '[1:9] failed to parse field [n] of type [long]: For input string: "x"',
    });
  });

  it('treats a create conflict (redelivery of a write-once document) as done, but not an index conflict', () => {
    const conflict = { status: 409, error: { type: 'version_conflict_engine_exception', reason: '[1]: version conflict, document already exists' } };
    const outcomes = classifyBulkResponse({ errors: true, items: [{ create: conflict }, { index: conflict }] }, [{}, {}]);
    assert.deepEqual(outcomes.map((o) => o.kind), ['acked', 'rejected']);
  });

  it('refuses a response that does not match the request', () => {
    assert.throws(() => classifyBulkResponse({ items: [] }, [{}]), /0 items for 1 operations/);
  });
});

describe('bulkBody', () => {
  it('writes NDJSON: an action line, a source line except for deletes, and a final newline', () => {
    const body = bulkBody([
      { action: 'index', index: 'i', id: 'a', source: '{"x":1}' },
      { action: 'delete', index: 'i', id: 'b' },
    ]);
    assert.equal(body, '{"index":{"_index":"i","_id":"a"}}\n{"x":1}\n{"delete":{"_index":"i","_id":"b"}}\n');
  });
});
