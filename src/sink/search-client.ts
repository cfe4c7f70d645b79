// A small HTTP client for Elasticsearch and OpenSearch: the `_bulk` API and the few cluster/index
// calls the service needs. One client for both products, because the official Elasticsearch client
// refuses OpenSearch (see docs/decisions.md). Every request goes through the Transport (endpoints,
// TLS, proxy, headers, authentication: src/sink/transport.ts).
import { bulkBody, compressBody, type EncodedOperation } from './bulk-request.js';
import { type ConnectionSettings, Transport, TransportError } from './transport.js';
import { errorChain } from './transport-errors.js';
import {
  type BulkResponseBody,
  type ClassifyOverrides,
  type ItemOutcome,
  type RequestFailure,
  classifyBulkResponse,
  classifyRequestFailure,
  isRetriableStatus,
} from './bulk-response.js';

/**
 * Only what classifying an item needs comes back (positions kept: every item has a status), so a
 * bulk of thousands answers `{"errors":false,"items":[{"index":{"status":201}},...]}`.
 */
const BULK_PATH = '/_bulk?filter_path=errors,items.*.status,items.*.error';
const ALL_OK = /^\{\s*"errors"\s*:\s*false/;
const ACKED: ItemOutcome = Object.freeze({ kind: 'acked' });

export class SearchHttpError extends Error {
  override name = 'SearchHttpError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly retriable: boolean,
    /** Set by `bulk`: retriable, systemic (retriable is true: hold and retry) or fatal. */
    readonly failure?: RequestFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /**
   * Whether the engine may have received the request and may still apply it: no answer came (a
   * timeout, a connection closed mid-request) or a gateway answered for it (502, 504). Not when the
   * connection never opened. A write retried after such a failure is the same write; a newer write of
   * the same document must not overtake a late landing of the old one (partition-worker.ts).
   */
  get ambiguous(): boolean {
    if (this.status === 502 || this.status === 504) return true;
    if (this.status !== undefined) return false;
    return !errorChain(this.cause).some((e) => e.code !== undefined && NEVER_SENT.has(e.code));
  }
}

/** Codes of a connection that never carried the request. */
const NEVER_SENT: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/** The `elastic` section (or any part of it): credentials and every other connection setting. */
export type SearchAuth = ConnectionSettings;

export interface EngineInfo {
  product: 'elasticsearch' | 'opensearch';
  version: string;
}

export class SearchClient {
  readonly #transport: Transport;
  readonly #classify: ClassifyOverrides;

  /**
   * `url`: the engine (path prefix kept); `auth`: the `elastic` section, i.e. credentials and the
   * other connection settings (urls, tls, proxy, headers, aws); `classify`: the `errors.classify`
   * overrides applied to bulk items.
   */
  constructor(url: string, options: { connections?: number; timeoutMs?: number; auth?: SearchAuth; classify?: ClassifyOverrides } = {}) {
    this.#classify = options.classify ?? {};
    this.#transport = new Transport({ ...options.auth, url }, { connections: options.connections ?? 8, timeoutMs: options.timeoutMs ?? 30_000 });
  }

  /** The endpoints requests go to, without credentials. */
  get endpoints(): string[] {
    return this.#transport.endpoints;
  }

  /**
   * Sends one HTTP request; network errors become retriable SearchHttpErrors (their `cause` is the
   * TransportError saying which endpoint failed and why).
   */
  async request<T>(method: string, path: string, body?: string | Buffer, contentType = 'application/json', headers?: Record<string, string>): Promise<{ status: number; body: T }> {
    const { status, text } = await this.#send(method, path, body, { ...(body === undefined ? {} : { 'content-type': contentType }), ...headers });
    return { status, body: (text === '' ? {} : safeJson(text)) as T };
  }

  /** One request, its answer as text; a request that gets no answer is a retriable SearchHttpError. */
  async #send(method: string, path: string, body: string | Buffer | undefined, headers: Record<string, string>): Promise<{ status: number; text: string }> {
    let response;
    try {
      response = await this.#transport.request({ method, path, body, headers });
    } catch (error) {
      const detail = error instanceof TransportError ? error.message : (error as Error).message;
      throw new SearchHttpError(`${method} ${path}: ${detail}`, undefined, true, undefined, { cause: error });
    }
    return { status: response.status, text: response.body };
  }

  async #ok<T>(method: string, path: string, body?: string, contentType?: string): Promise<T> {
    const response = await this.request<T>(method, path, body, contentType);
    if (response.status >= 300) {
      throw new SearchHttpError(`${method} ${path} answered ${response.status}: ${JSON.stringify(response.body).slice(0, 500)}`, response.status, isRetriableStatus(response.status));
    }
    return response.body;
  }

  async info(): Promise<EngineInfo> {
    const body = await this.#ok<{ version?: { number?: string; distribution?: string } }>('GET', '/');
    return { product: body.version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch', version: body.version?.number ?? 'unknown' };
  }

  async clusterStatus(): Promise<string> {
    return (await this.#ok<{ status: string }>('GET', '/_cluster/health')).status;
  }

  async indexExists(index: string): Promise<boolean> {
    const { status } = await this.request('HEAD', `/${encodeURIComponent(index)}`);
    if (status === 200) return true;
    if (status === 404) return false;
    throw new SearchHttpError(`HEAD /${index} answered ${status}`, status, isRetriableStatus(status));
  }

  async createIndex(index: string, definition: object = {}): Promise<void> {
    const response = await this.request<{ error?: { type?: string } }>('PUT', `/${encodeURIComponent(index)}`, JSON.stringify(definition));
    // Another instance may have created it a moment ago.
    if (response.status === 400 && response.body.error?.type === 'resource_already_exists_exception') return;
    if (response.status >= 300) throw new SearchHttpError(`PUT /${index} answered ${response.status}: ${JSON.stringify(response.body)}`, response.status, isRetriableStatus(response.status));
  }

  async putIndexTemplate(name: string, template: object): Promise<void> {
    await this.#ok('PUT', `/_index_template/${encodeURIComponent(name)}`, JSON.stringify(template));
  }

  /**
   * Sends a bulk request; one outcome per operation. A whole-request failure throws a SearchHttpError
   * whose `failure` says what it is; a systemic one (401/403, a cluster block…) is `retriable`, so a
   * caller that only knows `retriable` holds and retries instead of stopping.
   */
  async bulk(ops: readonly EncodedOperation[], compress = false): Promise<ItemOutcome[]> {
    const plain = bulkBody(ops);
    const body = compress ? await compressBody(plain) : plain;
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson', ...(compress ? { 'content-encoding': 'gzip' } : {}) };
    const { status, text } = await this.#send('POST', BULK_PATH, body, headers);
    if (status >= 300) {
      const parsed = text === '' ? {} : safeJson(text);
      const failure = classifyRequestFailure(status, parsed);
      const detail = `${failure.kind}, ${failure.errorType}: ${JSON.stringify(parsed).slice(0, 500)}`;
      throw new SearchHttpError(`POST /_bulk answered ${status} (${detail})`, status, failure.kind !== 'fatal', failure);
    }
    // Most bulks succeed whole: then the answer is not even parsed.
    if (ALL_OK.test(text.slice(0, 32))) return new Array<ItemOutcome>(ops.length).fill(ACKED);
    return classifyBulkResponse(safeJson(text) as BulkResponseBody, ops.map((e) => e.op), this.#classify);
  }

  async close(): Promise<void> {
    await this.#transport.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text.slice(0, 1000) };
  }
}
