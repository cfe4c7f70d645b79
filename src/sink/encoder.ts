// The encoder: one record's bulk operation → the bytes it adds to a `_bulk` body. Nothing is built
// per record when the record is prepared: only the operation's byte count (it bounds the batch). The
// action line is written straight into the body when the request is built, from a cached prefix per
// action and index; a JSON value nobody transformed travels as the bytes it arrived in. (The action
// line used to be a string kept with each buffered record: with thousands of records waiting, those
// strings were most of what every young-generation collection had to copy.)
export interface BulkOperation {
  /** `update` carries a partial document (`{"doc":…}`, with `doc_as_upsert` for an upsert). */
  action: 'index' | 'create' | 'update' | 'delete';
  index: string;
  id?: string;
  /** The source line: the document (the record's own bytes, or serialized JSON), or an update's
   *  `{"doc":…}`; absent for deletes. */
  source?: Buffer | string;
  /**
   * External version (`version_type=external_gte`): the engine refuses this write with a 409 when the
   * document already holds a higher version, so a late write of an older record can never win.
   */
  version?: bigint;
  /** Shard routing value: every write and delete of a document must carry the same one. */
  routing?: string;
  /** Ingest pipeline (index and create only; the engines run none for updates). */
  pipeline?: string;
  /** The pipeline's name came from the record (a template): if it does not exist, that is the record's fault. */
  pipelineFromRecord?: boolean;
  /** update: how often the engine re-applies it after a concurrent change of the document. */
  retryOnConflict?: number;
}

/** An operation ready for a body, with the bytes it takes there. */
export interface EncodedOperation {
  readonly op: BulkOperation;
  /** Action line, source and their newlines, in bytes. */
  readonly opBytes: number;
}

export function encode(op: BulkOperation): EncodedOperation {
  return { op, opBytes: operationBytes(op) };
}

/** The bytes an operation adds to a body: its action line, its source, a newline after each. */
export function operationBytes(op: BulkOperation): number {
  const source = op.source === undefined ? 0 : (typeof op.source === 'string' ? Buffer.byteLength(op.source) : op.source.length) + 1;
  return actionLineBytes(op) + 1 + source;
}

const ID = Buffer.from(',"_id":');
const ROUTING = Buffer.from(',"routing":');
const PIPELINE = Buffer.from(',"pipeline":');
const RETRY_ON_CONFLICT = Buffer.from(',"retry_on_conflict":');
const VERSION = Buffer.from(',"version":');
const VERSION_TYPE = Buffer.from(',"version_type":"external_gte"');
const CLOSE = Buffer.from('}}');
const QUOTE = 0x22;

/** Printable ASCII without `"` and `\`: a JSON string of it is the text in quotes, one byte per character. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

const jsonStringBytes = (text: string): number => (PLAIN.test(text) ? text.length + 2 : Buffer.byteLength(JSON.stringify(text)));

function writeJsonString(body: Buffer, at: number, text: string): number {
  if (!PLAIN.test(text)) return at + body.write(JSON.stringify(text), at, 'utf8');
  body[at++] = QUOTE;
  at += body.write(text, at, 'latin1');
  body[at++] = QUOTE;
  return at;
}

/** `{"<action>":{"_index":<index>` per index and action, encoded once (routed indices: bounded). */
const prefixes = new Map<string, Partial<Record<BulkOperation['action'], Buffer>>>();
const MAX_CACHED_INDICES = 1024;

function prefixOf(op: BulkOperation): Buffer {
  let byAction = prefixes.get(op.index);
  if (byAction === undefined) {
    if (prefixes.size >= MAX_CACHED_INDICES) prefixes.clear();
    prefixes.set(op.index, (byAction = {}));
  }
  return (byAction[op.action] ??= Buffer.from(`{"${op.action}":{"_index":${JSON.stringify(op.index)}`));
}

export function actionLineBytes(op: BulkOperation): number {
  let bytes = prefixOf(op).length + CLOSE.length;
  if (op.id !== undefined) bytes += ID.length + jsonStringBytes(op.id);
  if (op.routing !== undefined) bytes += ROUTING.length + jsonStringBytes(op.routing);
  if (op.pipeline !== undefined) bytes += PIPELINE.length + jsonStringBytes(op.pipeline);
  if (op.retryOnConflict !== undefined) bytes += RETRY_ON_CONFLICT.length + String(op.retryOnConflict).length;
  if (op.version !== undefined) bytes += VERSION.length + String(op.version).length + VERSION_TYPE.length;
  return bytes;
}

/** Writes the action line (no newline) at `at`; returns the position after it. */
export function writeActionLine(body: Buffer, at: number, op: BulkOperation): number {
  at += prefixOf(op).copy(body, at);
  if (op.id !== undefined) at = writeJsonString(body, at + ID.copy(body, at), op.id);
  if (op.routing !== undefined) at = writeJsonString(body, at + ROUTING.copy(body, at), op.routing);
  if (op.pipeline !== undefined) at = writeJsonString(body, at + PIPELINE.copy(body, at), op.pipeline);
  if (op.retryOnConflict !== undefined) {
    at += RETRY_ON_CONFLICT.copy(body, at);
    at += body.write(String(op.retryOnConflict), at, 'latin1');
  }
  if (op.version !== undefined) {
    at += VERSION.copy(body, at);
    at += body.write(String(op.version), at, 'latin1');
    at += VERSION_TYPE.copy(body, at);
  }
  return at + CLOSE.copy(body, at);
}
