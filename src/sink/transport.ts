// The connection layer to the search engine: every request of the service goes through
// `Transport.request`. It owns the endpoints (one or more URLs, path prefixes kept), TLS and client
// certificates, an optional forward proxy, the headers sent with every request, and authentication
// (basic, API key, AWS SigV4). With several endpoints, requests go round-robin; an endpoint whose
// connection fails (or whose gateway answers 502/503/504) is skipped for a growing while (1 s, doubling
// to 60 s) and the request moves on to the next one; once its while is over it is tried again.
import { Agent, type Dispatcher, ProxyAgent } from 'undici';
import type { TlsConfig } from '../config/schema.js';
import { tlsFileOptions } from '../config/tls-files.js';
import { canonicalSearch, createSigV4Signer, parseQuery, type RequestSigner } from './aws-sigv4.js';
import { describeNetworkError } from './transport-errors.js';

/** What the transport needs from the `elastic` section of the configuration. */
export interface ConnectionSettings {
  url?: string | undefined;
  urls?: string[] | undefined;
  username?: string | undefined;
  password?: string | undefined;
  apiKey?: string | undefined;
  headers?: Record<string, string> | undefined;
  proxy?: string | undefined;
  tls?: TlsConfig | undefined;
  aws?: { region: string; service: 'es' | 'aoss' } | undefined;
}

export interface TransportRequest {
  method: string;
  /** Path and query below the endpoint's prefix, e.g. `/_bulk?refresh=false`. */
  path: string;
  body?: string | Buffer | undefined;
  headers?: Record<string, string> | undefined;
}

export interface TransportResponse {
  status: number;
  body: string;
  /** The endpoint that answered, without credentials (e.g. https://node-2:9200/es). */
  endpoint: string;
}

/** A request no endpoint answered: `text` says why in one sentence, naming the endpoint. */
export class TransportError extends Error {
  override name = 'TransportError';
  constructor(
    readonly endpoint: string,
    readonly text: string,
    /** A configuration error (untrusted certificate, unusable key) that retrying will not fix. */
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(`${endpoint}: ${text}`, options);
  }
}

interface Endpoint {
  origin: string;
  /** Path prefix without a trailing slash ("" or "/es"). */
  prefix: string;
  /** Shown in messages: the URL without user information. */
  label: string;
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number | undefined;
  /** Basic credentials given in the URL itself. */
  authorization: string | undefined;
  failures: number;
  deadUntil: number;
}

const GATEWAY_FAILURES = new Set([502, 503, 504]);
const MAX_DEAD_MS = 60_000;

export class Transport {
  readonly #endpoints: Endpoint[];
  readonly #dispatcher: Dispatcher;
  readonly #timeoutMs: number;
  readonly #headers: Record<string, string>;
  readonly #authorization: string | undefined;
  readonly #signer: Promise<RequestSigner> | undefined;
  readonly #hints: Parameters<typeof describeNetworkError>[1];
  #next = 0;

  constructor(settings: ConnectionSettings, options: { connections?: number; timeoutMs?: number } = {}) {
    const urls = settings.urls ?? (settings.url ? [settings.url] : []);
    if (urls.length === 0) throw new Error('elastic: no endpoint (set elastic.url, elastic.urls or elastic.cloudId)');
    this.#endpoints = urls.map(parseEndpoint);
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    // Lower-cased: credentials of the endpoint or elastic.username/apiKey replace an Authorization
    // header given here instead of going out beside it.
    this.#headers = Object.fromEntries(Object.entries(settings.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
    this.#authorization = settings.apiKey ? `ApiKey ${settings.apiKey}` : settings.username !== undefined ? basic(settings.username, settings.password ?? '') : undefined;
    this.#hints = { ca: 'elastic.tls.caFile', key: 'elastic.tls.certFile, keyFile and passphrase', servername: 'elastic.tls.servername', proxy: 'elastic.proxy' };
    const tls = settings.tls ? tlsFileOptions(settings.tls, 'elastic.tls') : undefined;
    const pool = { connections: options.connections ?? 8, headersTimeout: this.#timeoutMs, bodyTimeout: this.#timeoutMs, keepAliveTimeout: 30_000 };
    this.#dispatcher = settings.proxy
      ? // The engine's TLS settings apply inside the tunnel; an https:// proxy is verified with the same CA.
        new ProxyAgent({ uri: settings.proxy, ...pool, ...(tls ? { requestTls: tls, proxyTls: { ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: tls.rejectUnauthorized ?? true } } : {}) })
      : new Agent({ ...pool, ...(tls ? { connect: tls } : {}) });
    this.#signer = settings.aws ? createSigV4Signer(settings.aws) : undefined;
    // Not awaited until the first request: a failure there is reported by that request.
    this.#signer?.catch(() => undefined);
  }

  /** The endpoints, without credentials, in configuration order. */
  get endpoints(): string[] {
    return this.#endpoints.map((e) => e.label);
  }

  /**
   * Sends one request, moving on to the next endpoint when one cannot be reached (each endpoint at
   * most once per request). Resolves with whatever HTTP status the engine answered; rejects with a
   * TransportError when no endpoint answered.
   */
  async request(request: TransportRequest): Promise<TransportResponse> {
    const tried = new Set<Endpoint>();
    let failure: TransportError | undefined;
    let gatewayAnswer: TransportResponse | undefined;
    while (tried.size < this.#endpoints.length) {
      const endpoint = this.#pick(tried);
      tried.add(endpoint);
      try {
        const response = await this.#send(endpoint, request);
        if (GATEWAY_FAILURES.has(response.status) && this.#endpoints.length > 1) {
          this.#markDead(endpoint);
          gatewayAnswer = response;
          continue;
        }
        endpoint.failures = 0;
        endpoint.deadUntil = 0;
        return response;
      } catch (error) {
        const { text, permanent } = describeNetworkError(error, this.#hints);
        failure = new TransportError(endpoint.label, text, permanent, { cause: error });
        // A timeout means the endpoint took the request but the cluster is slow: another node
        // would be as slow, and the caller's retry decides.
        if (isTimeout(error)) throw failure;
        this.#markDead(endpoint);
      }
    }
    if (gatewayAnswer) return gatewayAnswer;
    throw failure!;
  }

  /** The next endpoint round-robin among those not skipped; when all are skipped, the one skipped longest ago. */
  #pick(tried: Set<Endpoint>): Endpoint {
    const now = Date.now();
    for (let i = 0; i < this.#endpoints.length; i++) {
      const endpoint = this.#endpoints[(this.#next + i) % this.#endpoints.length]!;
      if (!tried.has(endpoint) && endpoint.deadUntil <= now) {
        this.#next = (this.#next + i + 1) % this.#endpoints.length;
        return endpoint;
      }
    }
    return this.#endpoints.filter((e) => !tried.has(e)).reduce((a, b) => (b.deadUntil < a.deadUntil ? b : a));
  }

  #markDead(endpoint: Endpoint): void {
    endpoint.failures++;
    endpoint.deadUntil = Date.now() + Math.min(MAX_DEAD_MS, 1000 * 2 ** (endpoint.failures - 1));
  }

  async #send(endpoint: Endpoint, request: TransportRequest): Promise<TransportResponse> {
    let path = `${endpoint.prefix}${request.path}`;
    const headers: Record<string, string> = { ...this.#headers, ...request.headers };
    const authorization = endpoint.authorization ?? this.#authorization;
    if (authorization) headers.authorization = authorization;
    if (this.#signer) {
      const sign = await this.#signer;
      // SigV4 signs the host header, so it is sent exactly as signed.
      headers.host = endpoint.port ? `${endpoint.hostname}:${endpoint.port}` : endpoint.hostname;
      const [pathname, search = ''] = path.split('?', 2) as [string, string?];
      const query = parseQuery(search);
      if (search) path = `${pathname}?${canonicalSearch(query)}`;
      Object.assign(headers, await sign({ method: request.method, protocol: endpoint.protocol, hostname: endpoint.hostname, port: endpoint.port, path: pathname, query, headers, body: request.body }));
    }
    const response = await this.#dispatcher.request({
      origin: endpoint.origin,
      method: request.method as Dispatcher.HttpMethod,
      path,
      headers,
      body: request.body,
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    return { status: response.statusCode, body: await response.body.text(), endpoint: endpoint.label };
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}

function parseEndpoint(url: string): Endpoint {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`elastic: ${parsed.protocol} is not http: or https: (${parsed.origin})`);
  const prefix = parsed.pathname.replace(/\/+$/, '');
  const authorization = parsed.username ? basic(decodeURIComponent(parsed.username), decodeURIComponent(parsed.password)) : undefined;
  return {
    origin: parsed.origin,
    prefix,
    label: `${parsed.origin}${prefix}`,
    protocol: parsed.protocol,
    // The URL keeps IPv6 literals in brackets; the signer and the host header want them as written.
    hostname: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : undefined,
    authorization,
    failures: 0,
    deadUntil: 0,
  };
}

function isTimeout(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | undefined;
  return e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT';
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
