// Is the search engine usable by this account? Asked with requests a least-privilege writer may make:
// `HEAD /<index>` answers for reachability and authentication (any answer but 401 and 5xx means the
// engine took our credentials; 403 only means the account may not view the index's metadata), and,
// while the account may read it, the index's health (`_cluster/health/<index>`, the `monitor`
// privilege) adds "the index is red". A 403 there is remembered: such an account is never asked again.
import type { Logger } from '../util/logger.js';
import { SearchHttpError, type SearchClient } from './search-client.js';
import { TransportError } from './transport.js';
import { describeStatus } from './transport-errors.js';

type IndexState = 'exists' | 'missing' | 'unknown';

export interface ProbeResult {
  /** undefined when usable, else one sentence naming the endpoint and the cause. */
  problem: string | undefined;
  /** A configuration error (untrusted certificate, credentials refused) that waiting will not fix. */
  permanent: boolean;
  /** 'unknown' when the account may not view the index (HEAD answered 403) or the engine is not usable. */
  index: IndexState;
}

export class EngineProbe {
  #healthAllowed = true;

  constructor(
    private readonly search: SearchClient,
    private readonly index: string,
    private readonly logger?: Logger,
  ) {}

  /** Where requests go, for messages: the endpoint(s), without credentials. */
  get where(): string {
    return this.search.endpoints.join(', ');
  }

  async probe(): Promise<ProbeResult> {
    const path = `/${encodeURIComponent(this.index)}`;
    let status: number;
    try {
      status = (await this.search.request('HEAD', path)).status;
    } catch (error) {
      return unreachable(error, this.where);
    }
    if (status === 404) return { problem: undefined, permanent: false, index: 'missing' };
    if (status !== 200) return this.#explain(path);
    if (this.#healthAllowed) {
      const red = await this.#indexRed().catch(() => undefined);
      if (red) return { problem: `search engine ${this.where}: index ${this.index} is red (a primary shard is unassigned)`, permanent: false, index: 'exists' };
    }
    return { problem: undefined, permanent: false, index: 'exists' };
  }

  /**
   * A HEAD answer has no body: ask again with GET to learn who refused and why. The engine's security
   * (403 security_exception) means "authenticated, but may not view this index": usable. A 401, or a
   * 403 from anything else (an AWS front end refusing the signature), refuses our credentials; another
   * 4xx (a gateway wanting a client certificate, a wrong path prefix) is a configuration error too.
   */
  async #explain(path: string): Promise<ProbeResult> {
    let answer: { status: number; body: unknown };
    try {
      answer = await this.search.request('GET', path);
    } catch (error) {
      return unreachable(error, this.where);
    }
    const { status, body } = answer;
    const reason = describeStatus(status, body);
    if (status === 200) return { problem: undefined, permanent: false, index: 'exists' };
    if (status === 404) return { problem: undefined, permanent: false, index: 'missing' };
    if (status === 403 && (body as { error?: { type?: string } }).error?.type === 'security_exception') return { problem: undefined, permanent: false, index: 'unknown' };
    if (status === 401 || status === 403) return { problem: `search engine ${this.where} refused the credentials (${reason}): check elastic.username/password, apiKey or the AWS credentials`, permanent: true, index: 'unknown' };
    if (status >= 500 || status === 429 || status === 408) return { problem: `search engine ${this.where} answered ${reason}`, permanent: false, index: 'unknown' };
    return { problem: `search engine ${this.where} answered ${reason} to GET ${path}`, permanent: status >= 400, index: 'unknown' };
  }

  async #indexRed(): Promise<boolean> {
    const { status, body } = await this.search.request<{ status?: string }>('GET', `/_cluster/health/${encodeURIComponent(this.index)}`);
    if (status === 401 || status === 403) {
      this.#healthAllowed = false;
      this.logger?.info({ status: describeStatus(status, body) }, 'the account may not read cluster health (no monitor privilege): readiness is checked with HEAD on the index only');
      return false;
    }
    return status === 200 && body.status === 'red';
  }
}

function unreachable(error: unknown, where: string): ProbeResult {
  const cause = error instanceof SearchHttpError ? error.cause : error;
  if (cause instanceof TransportError) return { problem: `search engine ${cause.endpoint} not reachable: ${cause.text}`, permanent: cause.permanent, index: 'unknown' };
  return { problem: `search engine ${where} not reachable: ${(error as Error).message}`, permanent: false, index: 'unknown' };
}
