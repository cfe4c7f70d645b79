// Kafka's wire formats, owned (docs/decisions.md, "The record-batch format and Fetch, owned"): the Fetch
// request/response with raw records, record batches as batch views, codecs, read_committed.
export { Compression, type CompressionCodec, decompress, DEFAULT_MAX_DECOMPRESSED_BYTES } from './compression.js';
export { BatchFormatError, type CompressionName, DecompressionError, type DecompressionFailure, FetchResponseFormatError, UnsupportedMessageFormatError } from './errors.js';
export {
  type EpochEndOffset,
  type FetchArgs,
  type FetchPartitionArgs,
  type FetchTopicArgs,
  fetchRaw,
  IsolationLevel,
  type LeaderIdAndEpoch,
  MAX_FETCH_VERSION,
  MIN_FETCH_VERSION,
  negotiatedFetchVersion,
  type NodeEndpoint,
  parseFetchResponse,
  type RawFetchPartition,
  type RawFetchResponse,
  type RawFetchTopic,
  SESSIONLESS,
} from './fetch-api.js';
export { type ControlRecord, ControlType, RecordBatch } from './record-batch.js';
export { type ParsedRecordBatches, type ParseOptions, parseRecordBatches, readRecordBatch } from './record-batch-parser.js';
export { abortedBatches, type AbortedTransaction, type TransactionBatch } from './transactions.js';
