// The encoder: one record's bulk operation → the bytes it adds to a `_bulk` body. The action line is
// built once, when the record is prepared (its length bounds the batch), and written into the body
// as is; a JSON value nobody transformed travels as the bytes it arrived in.
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
  /** update: how often the engine re-applies it after a concurrent change of the document. */
  retryOnConflict?: number;
}

/** An operation ready for a body: its action line (no newline) and the bytes both lines take. */
export interface EncodedOperation {
  readonly op: BulkOperation;
  readonly line: string;
  /** Action line, source and their newlines, in bytes. */
  readonly opBytes: number;
}

export function actionLine(op: BulkOperation): string {
  let meta = `"_index":${JSON.stringify(op.index)}`;
  if (op.id !== undefined) meta += `,"_id":${JSON.stringify(op.id)}`;
  if (op.routing !== undefined) meta += `,"routing":${JSON.stringify(op.routing)}`;
  if (op.pipeline !== undefined) meta += `,"pipeline":${JSON.stringify(op.pipeline)}`;
  if (op.retryOnConflict !== undefined) meta += `,"retry_on_conflict":${op.retryOnConflict}`;
  if (op.version !== undefined) meta += `,"version":${op.version},"version_type":"external_gte"`;
  return `{"${op.action}":{${meta}}}`;
}

export function encode(op: BulkOperation): EncodedOperation {
  const line = actionLine(op);
  const source = op.source === undefined ? 0 : (typeof op.source === 'string' ? Buffer.byteLength(op.source) : op.source.length) + 1;
  return { op, line, opBytes: Buffer.byteLength(line) + 1 + source };
}
