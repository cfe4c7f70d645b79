// The few search-engine calls the benchmark needs, over undici. Every index it creates is named by the
// caller (unique per run) and deleted by exact name: never a wildcard.
import { Pool } from 'undici';

/** The same settings for every index of a run (ceiling, service, naive), so the engine does the same work. */
export const INDEX_SETTINGS = { settings: { number_of_shards: 1, number_of_replicas: 0 } };

export class Engine {
  readonly pool: Pool;

  constructor(readonly url: string, connections = 4) {
    this.pool = new Pool(new URL(url).origin, { connections, keepAliveTimeout: 30_000 });
  }

  async call<T = unknown>(method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await this.pool.request({
      method,
      path,
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, body: (text ? JSON.parse(text) : {}) as T };
  }

  async createIndex(index: string): Promise<void> {
    const r = await this.call('PUT', `/${index}`, INDEX_SETTINGS);
    if (r.status >= 300) throw new Error(`PUT /${index}: ${r.status} ${JSON.stringify(r.body)}`);
  }

  async deleteIndex(index: string): Promise<void> {
    if (!/^k2e-bench-[a-z0-9-]+$/.test(index)) throw new Error(`refusing to delete ${index}: not a benchmark index`);
    await this.call('DELETE', `/${index}`).catch(() => undefined);
  }

  async count(index: string): Promise<number> {
    await this.call('POST', `/${index}/_refresh`);
    const r = await this.call<{ count?: number }>('GET', `/${index}/_count`);
    return r.body.count ?? -1;
  }

  async info(): Promise<{ product: string; version: string }> {
    const r = await this.call<{ version?: { number?: string; distribution?: string } }>('GET', '/');
    return { product: r.body.version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch', version: r.body.version?.number ?? '?' };
  }

  /** Indices other than the engine's own (dot-prefixed): what earlier runs and tests left behind. */
  async userIndexCount(): Promise<number | undefined> {
    const r = await this.call<{ index: string }[]>('GET', '/_cat/indices?format=json&h=index&expand_wildcards=open,closed').catch(() => undefined);
    return Array.isArray(r?.body) ? r.body.filter((i) => !i.index.startsWith('.')).length : undefined;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
