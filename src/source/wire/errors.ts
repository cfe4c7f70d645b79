// The typed errors of the wire layer. Anything that reads bytes from a broker throws one of these and
// nothing else (no RangeError from a bad length, no wasm trap), so a caller can tell "this batch is
// bad" (skip, dead-letter or stop that one partition) from a bug.

/** The Kafka compression codecs by their attribute bits (0-4). */
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Why a decoder refused its input. */
export type DecompressionFailure =
  /** Not valid data of that codec (bad framing, bad checksum, truncated, or the codec's own error). */
  | 'corrupt'
  /** Its decompressed size is or could be larger than the maximum allowed (a decompression bomb). */
  | 'too-large';

export class DecompressionError extends Error {
  override readonly name = 'DecompressionError';
  readonly codec: CompressionName;
  readonly reason: DecompressionFailure;

  constructor(codec: CompressionName, reason: DecompressionFailure, detail: string, cause?: unknown) {
    super(`${codec}: ${reason === 'too-large' ? 'decompressed size over the limit' : 'corrupt input'}: ${detail}`, cause === undefined ? undefined : { cause });
    this.codec = codec;
    this.reason = reason;
  }
}

/**
 * A record batch that cannot be read: what was wrong, in which batch (its base offset, when the
 * header got that far) and where it starts in the buffer that was parsed. A failed decompression is
 * its `cause` (a DecompressionError).
 */
export class BatchFormatError extends Error {
  override readonly name: string = 'BatchFormatError';
  /** The batch's base offset, or undefined when not even that could be read. */
  readonly baseOffset: bigint | undefined;
  /** Where the batch starts in the buffer given to the parser. */
  readonly position: number;

  constructor(baseOffset: bigint | undefined, position: number, detail: string, cause?: unknown) {
    super(`record batch ${baseOffset === undefined ? '(base offset unreadable)' : `at base offset ${baseOffset}`}: ${detail}`, cause === undefined ? undefined : { cause });
    this.baseOffset = baseOffset;
    this.position = position;
  }
}

/** A batch in the legacy message-set format (magic 0 or 1), which this consumer does not read. */
export class UnsupportedMessageFormatError extends BatchFormatError {
  override readonly name = 'UnsupportedMessageFormatError';
  readonly magic: number;

  constructor(baseOffset: bigint, position: number, magic: number) {
    super(baseOffset, position, `unsupported message format v${magic} (only v2 record batches, Kafka 0.11+, are read)`);
    this.magic = magic;
  }
}

/** A Fetch response whose framing cannot be read (not a per-partition error: those are returned). */
export class FetchResponseFormatError extends Error {
  override readonly name = 'FetchResponseFormatError';
}

/** A codec's frame is cut short: `bytes` more should be at `pos`. */
export function needBytes(codec: CompressionName, input: Buffer, pos: number, bytes: number, what: string): void {
  if (pos + bytes > input.length) throw new DecompressionError(codec, 'corrupt', `${what} truncated at byte ${pos} (${input.length} bytes)`);
}
