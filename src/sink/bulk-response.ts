// Classifies each item of a `_bulk` response, and a `_bulk` request that failed as a whole. A response
// with "errors": true is not one failure: each item is acknowledged, superseded by a newer version,
// retriable (429, 5xx), systemic (the cluster refuses for a reason the document did not cause: a
// missing privilege, a write block, a closed or missing index, an alias without a write index) or
// rejected for good (the document itself: mapping errors, other 4xx). Only `rejected` may reach the
// dead-letter topic: a permissions or cluster mistake must hold the stream, never drain it.
// Pure functions; the bodies they were written against are in test/unit/fixtures/bulk-errors.json.

import type { ErrorClass } from '../config/vocabulary.js';

/** `errors.classify`: engine error type (e.g. `mapper_parsing_exception`, or `http_<status>` when
 *  the item has none) → class, replacing the default for every item of that type. */
export type ClassifyOverrides = Readonly<Partial<Record<string, ErrorClass>>>;

interface Failed {
  status: number;
  errorType: string;
  reason: string;
}

export type ItemOutcome =
  | { kind: 'acked' }
  /** A newer version of the document (external versioning) is already indexed: this record is done.
   *  Carries the conflict so it can be logged; it is not a failure. */
  | ({ kind: 'superseded' } & Failed)
  /** Send again after a backoff: the engine is busy or a shard is unavailable. */
  | ({ kind: 'retriable' } & Failed)
  /** Hold the partition and retry with backoff until an operator fixes the cluster; never dead-letter. */
  | ({ kind: 'systemic' } & Failed)
  /** The document can never be indexed as it is: errors.policy (dead-letter, fail or skip). */
  | ({ kind: 'rejected' } & Failed);

/** What the classifier needs to know about the operation sent for an item. `BulkOperation` fits. */
export interface SentOperation {
  readonly action: 'index' | 'create' | 'update' | 'delete';
  /** The external version the action line carried (`version_type` external or external_gte). */
  readonly version?: number | bigint | undefined;
  /** The ingest pipeline the action line named, and whether the record chose it (a template). */
  readonly pipeline?: string | undefined;
  readonly pipelineFromRecord?: boolean | undefined;
}

interface BulkItemError {
  type?: string;
  reason?: string;
  caused_by?: { type?: string; reason?: string };
}

export interface BulkItemResult {
  _index?: string;
  _id?: string;
  result?: string;
  status: number;
  error?: BulkItemError;
}

export interface BulkResponseBody {
  errors?: boolean;
  items?: Record<string, BulkItemResult>[];
}

export function isRetriableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** Error types that are about the cluster whatever their status (a flood-stage block is a 429, an
 *  index write block a 403, a closed index a 400, a missing index with auto-create off a 404). */
const SYSTEMIC_TYPES: ReadonlySet<string> = new Set([
  'security_exception', // missing privilege (403) or failed authentication (401)
  'cluster_block_exception', // index.blocks.write/read_only, disk flood stage (read_only_allow_delete), cluster blocks
  'index_closed_exception',
  'index_not_found_exception', // the index was deleted, or auto-create is off / forbids this name
]);

/** Generic error types that are systemic only for some reasons. Both engines word these alike. */
const SYSTEMIC_REASONS: readonly { type: string; reason: RegExp }[] = [
  // An alias over several indices with none marked is_write_index.
  { type: 'illegal_argument_exception', reason: /^no write index is defined for alias \[/ },
  // index.default_pipeline / final_pipeline names a pipeline that does not exist.
  { type: 'illegal_argument_exception', reason: /^pipeline with id \[[^\]]*\] does not exist/ },
  // The target is a data stream and document.action is `index`: a configuration mismatch, every record would fail.
  { type: 'illegal_argument_exception', reason: /only write ops with an op_type of create are allowed in data streams/ },
  // Auto-creating the index would exceed cluster.max_shards_per_node.
  { type: 'validation_exception', reason: /would add \[\d+\] .*shards, but this cluster currently has/ },
  // A pipeline is configured but no node has the ingest role (OpenSearch answers the whole request 500).
  { type: 'illegal_state_exception', reason: /no ingest nodes in this cluster/ },
];

/** The default class of an engine error type, from the type and, for generic types, the reason. */
function defaultClass(errorType: string, reason: string): ErrorClass | undefined {
  if (SYSTEMIC_TYPES.has(errorType)) return 'systemic';
  if (SYSTEMIC_REASONS.some((rule) => rule.type === errorType && rule.reason.test(reason))) return 'systemic';
  return undefined;
}

/** For a type without a rule: 401/403 are the cluster saying no to us, not to the document. */
function classOfStatus(status: number): ErrorClass {
  if (isRetriableStatus(status)) return 'retriable';
  if (status === 401 || status === 403) return 'systemic';
  return 'rejected';
}

export function classifyItem(item: BulkItemResult, op: SentOperation, overrides: ClassifyOverrides = {}): ItemOutcome {
  const { status } = item;
  if (status >= 200 && status < 300) return { kind: 'acked' };
  // Deleting a document that is not there leaves the index as the record wants it. This includes a
  // missing index (auto-create off): the document is absent either way, and writes to that index
  // are held as systemic, so nothing is lost by settling the delete.
  if (op.action === 'delete' && status === 404) return { kind: 'acked' };
  // `create` of an id that exists: a redelivered record already written (create is write-once; a
  // data stream's documents too).
  if (op.action === 'create' && status === 409) return { kind: 'acked' };
  // An `update` of a document that does not exist (404 document_missing_exception, no upsert) falls
  // through to `rejected`: the partial change has nothing to apply to, and dead-lettering keeps it
  // for a re-drive once the document exists (document.action upsert creates it instead).

  const errorType = item.error?.type ?? `http_${status}`;
  const ownReason = item.error?.reason ?? `status ${status}`;
  const cause = item.error?.caused_by?.reason;
  const reason = cause === undefined ? ownReason : `${ownReason}: ${cause}`;
  const failed = { status, errorType, reason };

  // With external versioning a conflict means the index already holds this version or a newer one
  // (a later record of this document, or this record redelivered): this one has nothing left to do.
  // Without a version (the service sends no if_seq_no either) a 409 cannot be fixed by sending the
  // same operation again and is about this document, not the cluster: it stays `rejected` (unless
  // overridden), so the record is kept in the dead-letter topic instead of holding the partition forever.
  if (status === 409 && errorType === 'version_conflict_engine_exception' && op.version !== undefined) {
    return { kind: 'superseded', ...failed };
  }

  // hasOwn: an error type never reads Object.prototype members (`constructor`) as an override.
  const override = Object.hasOwn(overrides, errorType) ? overrides[errorType] : undefined;
  // A pipeline the record named through a template ({field:kind}-enrich) that does not exist is that
  // record's fault: dead-lettered, not a reason to hold the partition (any producer could stall it).
  if (override === undefined && op.pipelineFromRecord && op.pipeline !== undefined && ownReason.startsWith(`pipeline with id [${op.pipeline}] does not exist`)) {
    return { kind: 'rejected', ...failed };
  }
  const kind = override ?? defaultClass(errorType, ownReason) ?? classOfStatus(status);
  return { kind, ...failed };
}

/** One outcome per operation sent, in order. Throws if the response does not match the request. */
export function classifyBulkResponse(body: BulkResponseBody, ops: readonly SentOperation[], overrides: ClassifyOverrides = {}): ItemOutcome[] {
  const items = body.items ?? [];
  if (items.length !== ops.length) throw new Error(`bulk response has ${items.length} items for ${ops.length} operations`);
  return items.map((entry, i) => {
    const [action, result] = Object.entries(entry)[0] ?? [];
    if (action === undefined || result === undefined) throw new Error('bulk response item without an action');
    const op = ops[i]!;
    if (action !== op.action) throw new Error(`bulk response item ${i} answers '${action}' to a '${op.action}'`);
    return classifyItem(result, op, overrides);
  });
}

/** What to do when the `_bulk` request as a whole answered a non-2xx status. */
export interface RequestFailure {
  /** retriable: send again after a backoff; systemic: hold and retry, marking the sink not ready;
   *  fatal: the request itself is wrong (a bug or a wrong URL), stop without committing past it. */
  kind: 'retriable' | 'systemic' | 'fatal';
  errorType: string;
  reason: string;
}

/**
 * Classifies a whole `_bulk` request that failed (`status` ≥ 300; `body` as parsed, may be anything).
 * The engine's error type decides first (the same systemic types and reasons as for items), then the
 * status: 401/403 systemic (credentials or privileges, fixed on the cluster side); 408, 429 and 5xx
 * except 501 retriable; everything else fatal: 400 (a malformed body: resending the same bytes fails
 * the same way, and dead-lettering a whole batch for our own bug would be wrong), 404/405/501 without
 * an engine error (the URL does not reach a bulk API), 3xx. A 413 is split by the caller before it
 * gets here; alone it is fatal too. `errors.classify` does not apply: a whole request is never
 * "rejected" record by record.
 */
export function classifyRequestFailure(status: number, body: unknown): RequestFailure {
  const { errorType, reason } = describeRequestError(status, body);
  if (defaultClass(errorType, reason) === 'systemic') return { kind: 'systemic', errorType, reason };
  if (status === 401 || status === 403) return { kind: 'systemic', errorType, reason };
  if (status !== 501 && isRetriableStatus(status)) return { kind: 'retriable', errorType, reason };
  return { kind: 'fatal', errorType, reason };
}

/** `{"error": {"type", "reason"}}` (the engines' usual answer), `{"error": "text"}` (e.g. a 405) or anything else (a proxy). */
function describeRequestError(status: number, body: unknown): { errorType: string; reason: string } {
  const error = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  if (error !== null && typeof error === 'object') {
    const { type, reason } = error as { type?: unknown; reason?: unknown };
    return { errorType: typeof type === 'string' ? type : `http_${status}`, reason: typeof reason === 'string' ? reason : `status ${status}` };
  }
  if (typeof error === 'string') return { errorType: `http_${status}`, reason: error };
  return { errorType: `http_${status}`, reason: `status ${status}: ${JSON.stringify(body ?? null).slice(0, 300)}` };
}
