import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  type BulkItemResult,
  type BulkResponseBody,
  type ClassifyOverrides,
  type ItemOutcome,
  type SentOperation,
  classifyBulkResponse,
  classifyItem,
  classifyRequestFailure,
} from '../../src/sink/bulk-response.js';
import { bulkBody, encode } from '../../src/sink/bulk-request.js';
import type { EngineCapture } from './fixtures/capture-bulk-errors.js';

// Real answers of Elasticsearch 9.5.3 and OpenSearch 3.8.0 to each condition, recorded by
// fixtures/capture-bulk-errors.ts (dist/ → the source tree's fixture).
const fixture = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../test/unit/fixtures/bulk-errors.json'), 'utf8')) as Record<
  'elasticsearch' | 'opensearch',
  EngineCapture
>;

/** The operation as the classifier sees it, from the action line that was sent. */
function sentOperation(actionLine: Record<string, unknown>): SentOperation {
  const [action, meta] = Object.entries(actionLine)[0]!;
  const { version } = meta as { version?: number };
  return { action: action as SentOperation['action'], version };
}

function classifyCaptured(engine: keyof typeof fixture, label: string, overrides?: ClassifyOverrides, sent?: SentOperation): ItemOutcome {
  const captured = fixture[engine].items[label];
  assert.ok(captured, `${engine} fixture has no ${label}`);
  const op = sent ?? sentOperation(captured.sent);
  return classifyBulkResponse({ errors: true, items: [captured.item as Record<string, BulkItemResult>] }, [op], overrides)[0]!;
}

interface Expected {
  label: string;
  kind: ItemOutcome['kind'];
  /** Per engine when they differ. */
  errorType?: string | { elasticsearch: string; opensearch: string };
  status?: number;
  /** Conditions only one local engine can produce (see the capture script). */
  only?: keyof typeof fixture;
}

const EXPECTED: Expected[] = [
  { label: 'index_closed_index', kind: 'systemic', errorType: 'index_closed_exception', status: 400 },
  { label: 'index_closed_delete', kind: 'systemic', errorType: 'index_closed_exception', status: 400 },
  { label: 'write_block_index', kind: 'systemic', errorType: 'cluster_block_exception', status: 403 },
  { label: 'write_block_delete', kind: 'systemic', errorType: 'cluster_block_exception', status: 403 },
  { label: 'read_only_index', kind: 'systemic', errorType: 'cluster_block_exception', status: 403 },
  // The flood-stage block answers 429: still the cluster, not a busy node.
  { label: 'read_only_allow_delete_index', kind: 'systemic', errorType: 'cluster_block_exception', status: 429 },
  { label: 'alias_without_write_index_index', kind: 'systemic', errorType: 'illegal_argument_exception', status: 400 },
  { label: 'alias_without_write_index_delete', kind: 'systemic', errorType: 'illegal_argument_exception', status: 400 },
  { label: 'auto_create_off_index', kind: 'systemic', errorType: 'index_not_found_exception', status: 404 },
  { label: 'auto_create_pattern_index', kind: 'systemic', errorType: 'index_not_found_exception', status: 404 },
  // A delete into a missing index: the document is absent, as the record wants.
  { label: 'auto_create_off_delete', kind: 'acked' },
  { label: 'shard_limit_on_auto_create', kind: 'systemic', errorType: 'validation_exception', status: 400 },
  { label: 'missing_default_pipeline', kind: 'systemic', errorType: 'illegal_argument_exception', status: 400, only: 'elasticsearch' },
  { label: 'data_stream_index_op', kind: 'systemic', errorType: 'illegal_argument_exception', status: 400, only: 'opensearch' },
  { label: 'data_stream_create_ok', kind: 'acked', only: 'opensearch' },
  { label: 'external_gte_index_ok', kind: 'acked' },
  { label: 'external_gte_index_same_version', kind: 'acked' },
  { label: 'external_gte_index_conflict', kind: 'superseded', errorType: 'version_conflict_engine_exception', status: 409 },
  { label: 'external_gte_delete_conflict', kind: 'superseded', errorType: 'version_conflict_engine_exception', status: 409 },
  { label: 'external_index_equal_conflict', kind: 'superseded', errorType: 'version_conflict_engine_exception', status: 409 },
  { label: 'create_conflict', kind: 'acked' },
  // A 409 on an operation without an external version is not "a newer one is there".
  { label: 'if_seq_no_conflict', kind: 'rejected', errorType: 'version_conflict_engine_exception', status: 409 },
  { label: 'mapping_type_error', kind: 'rejected', errorType: { elasticsearch: 'document_parsing_exception', opensearch: 'mapper_parsing_exception' }, status: 400 },
  { label: 'mapping_strict_dynamic', kind: 'rejected', errorType: 'strict_dynamic_mapping_exception', status: 400 },
  { label: 'not_object_array', kind: 'rejected', errorType: { elasticsearch: 'document_parsing_exception', opensearch: 'mapper_parsing_exception' }, status: 400 },
  { label: 'not_object_string', kind: 'rejected', errorType: { elasticsearch: 'document_parsing_exception', opensearch: 'mapper_parsing_exception' }, status: 400 },
  { label: 'not_object_number', kind: 'rejected', errorType: { elasticsearch: 'document_parsing_exception', opensearch: 'mapper_parsing_exception' }, status: 400 },
  // Too many fields is caused by the document's fields: rejected unless overridden.
  { label: 'total_fields_limit', kind: 'rejected', errorType: { elasticsearch: 'document_parsing_exception', opensearch: 'illegal_argument_exception' }, status: 400 },
  { label: 'delete_missing_document', kind: 'acked' },
  { label: 'unassigned_primary', kind: 'retriable', errorType: 'unavailable_shards_exception', status: 503 },
];

for (const engine of ['elasticsearch', 'opensearch'] as const) {
  describe(`bulk items as ${engine} ${fixture[engine].version} answers them`, () => {
    for (const expected of EXPECTED) {
      if (expected.only !== undefined && expected.only !== engine) continue;
      const errorType = typeof expected.errorType === 'object' ? expected.errorType[engine] : expected.errorType;
      it(`${expected.label} → ${expected.kind}${errorType ? ` (${errorType})` : ''}`, () => {
        const outcome = classifyCaptured(engine, expected.label);
        assert.equal(outcome.kind, expected.kind);
        if (outcome.kind === 'acked') return;
        assert.equal(outcome.errorType, errorType);
        assert.equal(outcome.status, expected.status);
        assert.ok(outcome.reason.length > 0);
      });
    }

    it('a version conflict on an operation sent without a version is rejected, not superseded', () => {
      const outcome = classifyCaptured(engine, 'external_gte_index_conflict', undefined, { action: 'index' });
      assert.equal(outcome.kind, 'rejected');
      assert.equal(classifyCaptured(engine, 'external_gte_delete_conflict', undefined, { action: 'delete' }).kind, 'rejected');
    });

    it('errors.classify overrides the default of an error type, and only of that type', () => {
      const mapping = engine === 'elasticsearch' ? 'document_parsing_exception' : 'mapper_parsing_exception';
      const outcome = classifyCaptured(engine, 'mapping_type_error', { [mapping]: 'systemic' });
      assert.equal(outcome.kind, 'systemic');
      assert.equal(classifyCaptured(engine, 'mapping_strict_dynamic', { [mapping]: 'systemic' }).kind, 'rejected');
      assert.equal(classifyCaptured(engine, 'auto_create_off_index', { index_not_found_exception: 'rejected' }).kind, 'rejected');
      assert.equal(classifyCaptured(engine, 'unassigned_primary', { unavailable_shards_exception: 'systemic' }).kind, 'systemic');
      // An override of a generic type replaces its reason rules too.
      assert.equal(classifyCaptured(engine, 'alias_without_write_index_index', { illegal_argument_exception: 'rejected' }).kind, 'rejected');
    });

    it('overrides do not turn a settled operation into a failure', () => {
      const overrides: ClassifyOverrides = { version_conflict_engine_exception: 'rejected', index_not_found_exception: 'systemic' };
      assert.equal(classifyCaptured(engine, 'external_gte_index_conflict', overrides).kind, 'superseded');
      assert.equal(classifyCaptured(engine, 'create_conflict', overrides).kind, 'acked');
      assert.equal(classifyCaptured(engine, 'auto_create_off_delete', overrides).kind, 'acked');
      // …but they do apply to a conflict that is a failure.
      assert.equal(classifyCaptured(engine, 'if_seq_no_conflict', { version_conflict_engine_exception: 'retriable' }).kind, 'retriable');
    });
  });
}

// The local engines run without a security plugin, so a missing privilege cannot be produced here.
// These bodies are shaped exactly like Elasticsearch's documented security_exception answers
// ("action [...] is unauthorized for user [...] with effective roles [...] on indices [...], this
// action is granted by the index privileges [...]"); OpenSearch's security plugin uses the same type.
const SECURITY_ITEM: Record<string, BulkItemResult> = {
  index: {
    _index: 'orders',
    _id: '1',
    status: 403,
    error: {
      type: 'security_exception',
      reason:
        'action [indices:data/write/bulk[s]] is unauthorized for user [k2e-writer] with effective roles [k2e_reader] on indices [orders], this action is granted by the index privileges [create_doc,create,delete,index,write,all]',
    },
  },
};
const AUTHENTICATE_HEADER = { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] };
const SECURITY_401 = {
  error: {
    root_cause: [{ type: 'security_exception', reason: 'unable to authenticate user [k2e-writer] for REST request [/_bulk]', header: AUTHENTICATE_HEADER }],
    type: 'security_exception',
    reason: 'unable to authenticate user [k2e-writer] for REST request [/_bulk]',
    header: AUTHENTICATE_HEADER,
  },
  status: 401,
};
const SECURITY_403 = {
  error: {
    root_cause: [{ type: 'security_exception', reason: 'action [indices:data/write/bulk] is unauthorized for user [k2e-writer] with effective roles [k2e_reader], this action is granted by the cluster privileges [all]' }],
    type: 'security_exception',
    reason: 'action [indices:data/write/bulk] is unauthorized for user [k2e-writer] with effective roles [k2e_reader], this action is granted by the cluster privileges [all]',
  },
  status: 403,
};

describe('security errors (documented Elasticsearch shape)', () => {
  it('an item-level 403 security_exception is systemic: a missing privilege must not dead-letter the stream', () => {
    const [outcome] = classifyBulkResponse({ errors: true, items: [SECURITY_ITEM] }, [{ action: 'index' }]);
    assert.equal(outcome?.kind, 'systemic');
    assert.equal(outcome.kind === 'systemic' && outcome.errorType, 'security_exception');
  });

  it('a 401 or 403 of the whole request is systemic', () => {
    assert.deepEqual(classifyRequestFailure(401, SECURITY_401), { kind: 'systemic', errorType: 'security_exception', reason: 'unable to authenticate user [k2e-writer] for REST request [/_bulk]' });
    assert.equal(classifyRequestFailure(403, SECURITY_403).kind, 'systemic');
    // A proxy's 403 without an engine error is the same: we are not allowed, the records are fine.
    assert.equal(classifyRequestFailure(403, { raw: '<html>Forbidden</html>' }).kind, 'systemic');
  });

  it('an item 401/403 of an unknown type is systemic too', () => {
    assert.equal(classifyItem({ status: 403 }, { action: 'index' }).kind, 'systemic');
    assert.equal(classifyItem({ status: 401, error: { type: 'some_auth_exception' } }, { action: 'create' }).kind, 'systemic');
  });
});

describe('classifyRequestFailure with real whole-request answers', () => {
  for (const engine of ['elasticsearch', 'opensearch'] as const) {
    const { requests } = fixture[engine];
    const expectFatal = (label: string, errorType: string): void => {
      it(`${engine}: ${label} → fatal (${errorType})`, () => {
        const captured = requests[label];
        assert.ok(captured, `${engine} fixture has no ${label}`);
        const failure = classifyRequestFailure(captured.status, captured.body);
        assert.equal(failure.kind, 'fatal');
        assert.equal(failure.errorType, errorType);
      });
    };
    expectFatal('no_final_newline', 'illegal_argument_exception');
    expectFatal('malformed_action_line', 'illegal_argument_exception');
    expectFatal('not_json', engine === 'elasticsearch' ? 'x_content_parse_exception' : 'json_parse_exception');
    expectFatal('wrong_path', 'http_405');
  }

  it('opensearch: a default pipeline on a cluster without ingest nodes (500) → systemic', () => {
    const captured = fixture.opensearch.requests.missing_default_pipeline!;
    assert.equal(captured.status, 500);
    assert.deepEqual(classifyRequestFailure(captured.status, captured.body).kind, 'systemic');
  });

  it('busy, timed out or unavailable → retriable; a cluster block at any status → systemic', () => {
    // Shapes of the engines' documented 429 answers.
    const breaker = { error: { type: 'circuit_breaking_exception', reason: '[parent] Data too large, data for [<http_request>] would be [1000/1kb], which is larger than the limit of [900/900b]', durability: 'TRANSIENT' }, status: 429 };
    assert.equal(classifyRequestFailure(429, breaker).kind, 'retriable');
    assert.equal(classifyRequestFailure(429, { error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' }, status: 429 }).kind, 'retriable');
    assert.equal(classifyRequestFailure(503, { raw: '<html>503 Service Unavailable</html>' }).kind, 'retriable');
    assert.equal(classifyRequestFailure(408, {}).kind, 'retriable');
    assert.equal(classifyRequestFailure(502, undefined).kind, 'retriable');
    const block = { error: { type: 'cluster_block_exception', reason: 'blocked by: [FORBIDDEN/6/cluster read-only (api)];' }, status: 403 };
    assert.deepEqual(classifyRequestFailure(403, block), { kind: 'systemic', errorType: 'cluster_block_exception', reason: 'blocked by: [FORBIDDEN/6/cluster read-only (api)];' });
  });

  it('404 is systemic only when the engine says the index is missing; 404/405/501/413 otherwise are fatal', () => {
    const missing = { error: { type: 'index_not_found_exception', reason: 'no such index [orders]' }, status: 404 };
    assert.equal(classifyRequestFailure(404, missing).kind, 'systemic');
    assert.equal(classifyRequestFailure(404, { raw: 'Not Found' }).kind, 'fatal');
    assert.equal(classifyRequestFailure(501, {}).kind, 'fatal');
    assert.equal(classifyRequestFailure(413, {}).kind, 'fatal');
    assert.equal(classifyRequestFailure(302, {}).kind, 'fatal');
  });
});

describe('classifyBulkResponse', () => {
  it('classifies every item of a mixed response, in order', () => {
    const es = fixture.elasticsearch.items;
    const pick = (label: string): Record<string, BulkItemResult> => es[label]!.item as Record<string, BulkItemResult>;
    const labels = ['external_gte_index_ok', 'unassigned_primary', 'mapping_type_error', 'delete_missing_document', 'write_block_index', 'external_gte_index_conflict'];
    const body: BulkResponseBody = { errors: true, items: labels.map(pick) };
    const outcomes = classifyBulkResponse(body, labels.map((l) => sentOperation(es[l]!.sent)));
    assert.deepEqual(outcomes.map((o) => o.kind), ['acked', 'retriable', 'rejected', 'acked', 'systemic', 'superseded']);
    assert.deepEqual(outcomes[2], {
      kind: 'rejected',
      status: 400,
      errorType: 'document_parsing_exception',
      reason: "[1:6] failed to parse field [n] of type [long] in document with id '1'. Preview of field's value: 'not a number': For input string: \"not a number\"",
    });
  });

  it('accepts bigint versions (Kafka offsets)', () => {
    const conflict = fixture.opensearch.items.external_gte_index_conflict!.item as Record<string, BulkItemResult>;
    assert.equal(classifyBulkResponse({ items: [conflict] }, [{ action: 'index', version: 3n }])[0]!.kind, 'superseded');
  });

  it('never reads an override from Object.prototype', () => {
    assert.equal(classifyItem({ status: 400, error: { type: 'constructor' } }, { action: 'index' }).kind, 'rejected');
  });

  it('refuses a response that does not match the request', () => {
    assert.throws(() => classifyBulkResponse({ items: [] }, [{ action: 'index' }]), /0 items for 1 operations/);
    assert.throws(() => classifyBulkResponse({ items: [{ delete: { status: 200 } }] }, [{ action: 'index' }]), /item 0 answers 'delete' to a 'index'/);
  });
});

describe('bulkBody', () => {
  it('writes NDJSON into one buffer: an action line, a source line except for deletes, and a final newline', () => {
    const body = bulkBody([
      encode({ action: 'index', index: 'i', id: 'a', source: '{"x":1}' }),
      encode({ action: 'delete', index: 'i', id: 'b', version: 7n }),
      encode({ action: 'create', index: 'i', id: 'é"', source: Buffer.from('{"y":"ü"}') }),
    ]);
    assert.ok(Buffer.isBuffer(body));
    assert.equal(
      body.toString('utf8'),
      '{"index":{"_index":"i","_id":"a"}}\n{"x":1}\n{"delete":{"_index":"i","_id":"b","version":7,"version_type":"external_gte"}}\n{"create":{"_index":"i","_id":"é\\""}}\n{"y":"ü"}\n',
    );
  });

  it('counts each operation`s bytes exactly, multi-byte characters included', () => {
    for (const op of [{ action: 'index' as const, index: 'i', id: 'ü€', source: '{"t":"日本"}' }, { action: 'delete' as const, index: 'i', id: 'x' }]) {
      const encoded = encode(op);
      assert.equal(encoded.opBytes, bulkBody([encoded]).length);
    }
  });
});
