// The encoder: one record's bulk operation → the bytes it adds to a `_bulk` body. The action line is
// built once, when the record is prepared (its length bounds the batch), and written into the body
// as is; a JSON value nobody transformed travels as the bytes it arrived in.
export interface BulkOperation {
  action: 'index' | 'create' | 'delete';
  index: string;
  id?: string;
  /** The document: the record's own bytes (JSON sent as is) or serialized JSON; absent for deletes. */
  source?: Buffer | string;
  /**
   * External version (`version_type=external_gte`): the engine refuses this write with a 409 when the
   * document already holds a higher version, so a late write of an older record can never win.
   */
  version?: bigint;
}

/** An operation ready for a body: its action line (no newline) and the bytes both lines take. */
export interface EncodedOperation {
  readonly op: BulkOperation;
  readonly line: string;
  /** Action line, source and their newlines, in bytes. */
  readonly opBytes: number;
}

export function actionLine(op: BulkOperation): string {
  const id = op.id === undefined ? '' : `,"_id":${JSON.stringify(op.id)}`;
  const version = op.version === undefined ? '' : `,"version":${op.version},"version_type":"external_gte"`;
  return `{"${op.action}":{"_index":${JSON.stringify(op.index)}${id}${version}}}`;
}

export function encode(op: BulkOperation): EncodedOperation {
  const line = actionLine(op);
  const source = op.source === undefined ? 0 : (typeof op.source === 'string' ? Buffer.byteLength(op.source) : op.source.length) + 1;
  return { op, line, opBytes: Buffer.byteLength(line) + 1 + source };
}
