// Test-side search engine helpers: read back what the service indexed.
import { SearchClient } from '../../src/sink/search-client.js';

export async function withSearch<T>(url: string, fn: (client: SearchClient) => Promise<T>): Promise<T> {
  const client = new SearchClient(url, { connections: 2 });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export async function refreshAndCount(url: string, index: string): Promise<number> {
  return withSearch(url, async (client) => {
    await client.request('POST', `/${index}/_refresh`);
    const { body } = await client.request<{ count: number }>('GET', `/${index}/_count`);
    return body.count;
  });
}

/** Every document of the index (up to 10,000), by id. */
export async function allDocuments(url: string, index: string): Promise<Map<string, Record<string, unknown>>> {
  return withSearch(url, async (client) => {
    await client.request('POST', `/${index}/_refresh`);
    const { body } = await client.request<{ hits: { hits: { _id: string; _source: Record<string, unknown> }[] } }>(
      'POST',
      `/${index}/_search`,
      JSON.stringify({ size: 10_000, query: { match_all: {} } }),
    );
    return new Map(body.hits.hits.map((h) => [h._id, h._source]));
  });
}
