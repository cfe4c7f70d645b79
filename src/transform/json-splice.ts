// Rewrites a JSON object the service did not parse, as bytes: wraps it as the partial document of an
// update (`{"doc":<object>}`, with `"doc_as_upsert":true` for an upsert) and adds a top-level field
// (a data stream's @timestamp) after its opening brace. This keeps the pass-through path's promise
// (values nobody reads are never parsed) for updates and data streams. The bytes are trusted to be
// one JSON object on one line (looksLikeOneLineObject); a malformed one is refused by the engine item
// by item, as on the pass-through path.

const DOC_OPEN = Buffer.from('{"doc":');
const UPDATE_CLOSE = Buffer.from('}');
const UPSERT_CLOSE = Buffer.from(',"doc_as_upsert":true}');

/** The source line of an `update`: the document as a partial `doc`, inserted when missing for an upsert. */
export function updateSource(document: Buffer | string, upsert: boolean): Buffer | string {
  if (typeof document === 'string') return `{"doc":${document}${upsert ? ',"doc_as_upsert":true' : ''}}`;
  return Buffer.concat([DOC_OPEN, document, upsert ? UPSERT_CLOSE : UPDATE_CLOSE]);
}

const isSpace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x09;

/**
 * The object with `"name":<json>` as its first member. The caller makes sure the object has no
 * member of that name (the engines refuse duplicate keys); see `mayHaveKey`.
 */
export function withFirstMember(document: Buffer, name: string, json: string): Buffer {
  let open = 0;
  while (isSpace(document[open])) open++;
  if (document[open] !== 0x7b) throw new Error('withFirstMember: not a JSON object');
  let next = open + 1;
  while (isSpace(document[next])) next++;
  const empty = document[next] === 0x7d;
  const member = Buffer.from(`${JSON.stringify(name)}:${json}${empty ? '' : ','}`);
  return Buffer.concat([document.subarray(0, open + 1), member, document.subarray(open + 1)]);
}

/** False when the object certainly has no member `name` at any depth (its quoted name never occurs). */
export const mayHaveKey = (document: Buffer, name: string): boolean => document.includes(JSON.stringify(name));
