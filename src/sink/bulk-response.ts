// Classifies each item of a `_bulk` response. A response with "errors": true is not one failure:
// each item is acknowledged, retriable (429, 5xx) or rejected for good (mapping errors, 4xx).
export type ItemOutcome =
  | { kind: 'acked' }
  /** A newer write of the document is already in the index (external versioning): this record is done. */
  | { kind: 'superseded' }
  | { kind: 'retriable'; status: number; reason: string }
  /** The cluster refuses for a reason the document did not cause (permissions, write block): hold and retry. */
  | { kind: 'systemic'; status: number; errorType: string; reason: string }
  | { kind: 'rejected'; status: number; errorType: string; reason: string };

interface BulkItemResult {
  _index?: string;
  _id?: string;
  result?: string;
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

export interface BulkResponseBody {
  errors?: boolean;
  items?: Record<string, BulkItemResult>[];
}

export function isRetriableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

export function classifyItem(item: BulkItemResult, action: string, versioned = false): ItemOutcome {
  const { status } = item;
  if (status >= 200 && status < 300) return { kind: 'acked' };
  if (versioned && status === 409 && item.error?.type === 'version_conflict_engine_exception') return { kind: 'superseded' };
  // Deleting a document that is not there leaves the index as the record wants it.
  if (action === 'delete' && status === 404) return { kind: 'acked' };
  // `create` of an id that exists: a redelivered record already written (create is write-once).
  if (action === 'create' && status === 409) return { kind: 'acked' };
  const errorType = item.error?.type ?? `http_${status}`;
  const cause = item.error?.caused_by?.reason;
  const reason = [item.error?.reason ?? `status ${status}`, cause].filter(Boolean).join(': ');
  if (isRetriableStatus(status)) return { kind: 'retriable', status, reason: `${errorType}: ${reason}` };
  return { kind: 'rejected', status, errorType, reason };
}

/** One outcome per operation sent, in order. Throws if the response does not match the request. */
export function classifyBulkResponse(body: BulkResponseBody, sent: readonly { version?: bigint | undefined }[]): ItemOutcome[] {
  const items = body.items ?? [];
  if (items.length !== sent.length) throw new Error(`bulk response has ${items.length} items for ${sent.length} operations`);
  return items.map((entry, i) => {
    const [action, result] = Object.entries(entry)[0] ?? [];
    if (action === undefined || result === undefined) throw new Error('bulk response item without an action');
    return classifyItem(result, action, sent[i]!.version !== undefined);
  });
}
