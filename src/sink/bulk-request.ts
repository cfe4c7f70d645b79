// The request builder: encoded operations → one `_bulk` body, written into a single Buffer (no string
// concatenation, no second UTF-8 encoding of the documents), optionally gzip-compressed.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { type EncodedOperation, writeActionLine } from './encoder.js';

// encode: bench/clients/bulk-transport.mjs builds bodies with it.
export type { EncodedOperation } from './encoder.js';
export { encode } from './encoder.js';

const NEWLINE = 0x0a;

export function bulkBody(ops: readonly EncodedOperation[]): Buffer {
  let total = 0;
  for (const e of ops) total += e.opBytes;
  const body = Buffer.allocUnsafe(total);
  let at = 0;
  for (const { op } of ops) {
    at = writeActionLine(body, at, op);
    body[at++] = NEWLINE;
    const source = op.source;
    if (source === undefined) continue;
    at += typeof source === 'string' ? body.write(source, at, 'utf8') : source.copy(body, at);
    body[at++] = NEWLINE;
  }
  if (at !== total) throw new Error(`bulk body of ${at} bytes, ${total} expected`);
  return body;
}

const gzipAsync = promisify(gzip);

/** gzip on libuv's thread pool, off the event loop; level 1: most of the saving for little CPU. */
export function compressBody(body: Buffer): Promise<Buffer> {
  return gzipAsync(body, { level: 1 });
}
