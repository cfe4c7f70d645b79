// Builds the NDJSON body of a `_bulk` request: one action line and one source line per document.
export interface BulkOperation {
  action: 'index' | 'create' | 'delete';
  index: string;
  id?: string;
  /** Already-serialized JSON document; absent for deletes. */
  source?: string;
  /**
   * External version (`version_type=external_gte`): the engine refuses this write with a 409 when the
   * document already holds a higher version, so a late write of an older record can never win.
   */
  version?: bigint;
}

export function actionLine(op: BulkOperation): string {
  const id = op.id === undefined ? '' : `,"_id":${JSON.stringify(op.id)}`;
  const version = op.version === undefined ? '' : `,"version":${op.version},"version_type":"external_gte"`;
  return `{"${op.action}":{"_index":${JSON.stringify(op.index)}${id}${version}}}`;
}

/** Bytes this operation adds to a bulk body (both lines and their newlines). */
export function operationBytes(op: BulkOperation): number {
  const action = Buffer.byteLength(actionLine(op)) + 1;
  return op.source === undefined ? action : action + Buffer.byteLength(op.source) + 1;
}

export function bulkBody(ops: readonly BulkOperation[]): string {
  let body = '';
  for (const op of ops) {
    body += actionLine(op) + '\n';
    if (op.source !== undefined) body += op.source + '\n';
  }
  return body;
}
