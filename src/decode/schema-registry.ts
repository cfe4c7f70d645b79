// A Confluent-compatible schema registry client (Confluent, Apicurio's ccompat API, Karapace): fetches
// writer schemas by id and caches them forever (ids are immutable). Unreachable registry → a
// retriable error; unknown id → a permanent one (the record goes to the dead-letter topic).
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';
import { splitUrlCredentials } from '../util/redact.js';

export class RegistryUnavailableError extends Error {
  override name = 'RegistryUnavailableError';
}

export class SchemaNotFoundError extends Error {
  override name = 'SchemaNotFoundError';
}

export interface RegistryOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  caFile?: string | undefined;
  rejectUnauthorized?: boolean | undefined;
  timeoutMs?: number;
}

export class SchemaRegistryClient {
  readonly #cache = new Map<number, string>();
  readonly #inFlight = new Map<number, Promise<string>>();
  readonly #headers: Record<string, string>;
  readonly #dispatcher: Agent;
  readonly #base: string;

  constructor(private readonly options: RegistryOptions) {
    // User information in the URL is basic auth (the loader moves it already; any other caller too):
    // the URL kept, requested and quoted in messages carries none.
    const inUrl = splitUrlCredentials(options.url);
    this.#base = inUrl.url.replace(/\/+$/, '');
    this.#headers = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    const username = options.username ?? inUrl.username;
    const password = options.username !== undefined ? options.password : inUrl.password;
    if (username !== undefined) {
      this.#headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
    }
    this.#dispatcher = new Agent({
      connect: {
        ...(options.caFile ? { ca: readFileSync(options.caFile) } : {}),
        ...(options.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      },
    });
  }

  /** The schema already fetched for this id, without I/O. */
  cached(id: number): string | undefined {
    return this.#cache.get(id);
  }

  async schemaById(id: number): Promise<string> {
    const hit = this.#cache.get(id);
    if (hit !== undefined) return hit;
    let pending = this.#inFlight.get(id);
    if (!pending) {
      pending = this.#fetchSchema(id).finally(() => this.#inFlight.delete(id));
      this.#inFlight.set(id, pending);
    }
    return pending;
  }

  async #fetchSchema(id: number): Promise<string> {
    const body = await this.#get<{ schema?: string }>(`/schemas/ids/${id}`, id);
    if (typeof body.schema !== 'string') throw new RegistryUnavailableError(`schema registry answered without a schema for id ${id}`);
    this.#cache.set(id, body.schema);
    return body.schema;
  }

  /** Answers when the registry is reachable (used by the initialization check). */
  async ping(): Promise<void> {
    await this.#get('/subjects', undefined);
  }

  async #get<T>(path: string, id: number | undefined): Promise<T> {
    let response;
    try {
      response = await fetch(`${this.#base}${path}`, { headers: this.#headers, dispatcher: this.#dispatcher, signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    } catch (error) {
      throw new RegistryUnavailableError(`schema registry ${this.#base} not reachable: ${(error as Error).message}`);
    }
    if (response.status === 404 && id !== undefined) throw new SchemaNotFoundError(`schema id ${id} is not in the registry`);
    if (response.status >= 400) throw new RegistryUnavailableError(`schema registry answered ${response.status} for ${path}`);
    try {
      return (await response.json()) as T;
    } catch (error) {
      // A body cut off or garbled on the way (a proxy, a restart): the registry's answer is unknown, so
      // it is asked again; the record waits, it is never dead-lettered for this.
      throw new RegistryUnavailableError(`schema registry ${this.#base}: reading its answer for ${path} failed: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.#dispatcher.close();
  }
}
