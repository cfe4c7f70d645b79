// Builds the NDJSON body of a `_bulk` request: one action line and one source line per document.
export interface BulkOperation {
  action: 'index' | 'create' | 'delete';
  index: string;
  id?: string;
  /** Already-serialized JSON document; absent for deletes. */
  source?: string;
}

export function actionLine(op: BulkOperation): string {
  const meta: Record<string, string> = { _index: op.index };
  if (op.id !== undefined) meta._id = op.id;
  return JSON.stringify({ [op.action]: meta });
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
