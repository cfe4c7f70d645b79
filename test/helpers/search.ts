// Test-side search engine helpers: read back what the service indexed.
import assert from 'node:assert/strict';
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

interface Hit {
  _id: string;
  _version?: number;
  _source?: Record<string, unknown>;
}

/** Every hit of the index, through the scroll API (any size, both engines). */
async function scrollAll(client: SearchClient, index: string, request: object): Promise<Hit[]> {
  await client.request('POST', `/${index}/_refresh`);
  const hits: Hit[] = [];
  let { body } = await client.request<{ _scroll_id: string; hits: { hits: Hit[] } }>('POST', `/${index}/_search?scroll=1m`, JSON.stringify({ size: 5000, ...request }));
  while (body.hits.hits.length > 0) {
    hits.push(...body.hits.hits);
    ({ body } = await client.request<{ _scroll_id: string; hits: { hits: Hit[] } }>('POST', '/_search/scroll', JSON.stringify({ scroll: '1m', scroll_id: body._scroll_id })));
  }
  await client.request('DELETE', '/_search/scroll', JSON.stringify({ scroll_id: body._scroll_id }));
  return hits;
}

/** Every document of the index, by id. */
export async function allDocuments(url: string, index: string): Promise<Map<string, Record<string, unknown>>> {
  return withSearch(url, async (client) => new Map((await scrollAll(client, index, { query: { match_all: {} } })).map((h) => [h._id, h._source ?? {}])));
}

/**
 * How many writes of the index were rewrites of a document already there: successful index
 * operations (index stats) minus documents. Documents' `_version` cannot tell, because with external
 * versioning it is the record's offset, not a write counter.
 */
export async function rewrittenDocuments(url: string, index: string): Promise<number> {
  return withSearch(url, async (client) => {
    await client.request('POST', `/${index}/_refresh`);
    const { body } = await client.request<{ _all: { primaries: { indexing: { index_total: number }; docs: { count: number } } } }>('GET', `/${index}/_stats/indexing,docs`);
    return body._all.primaries.indexing.index_total - body._all.primaries.docs.count;
  });
}

/**
 * The index holds one document per key, each at the last sequence number produced for its key
 * (`sequencedEvents`): nothing lost, doubled or left stale.
 */
export async function assertLatestPerKey(url: string, index: string, lastSeq: ReadonlyMap<string, number>): Promise<void> {
  assert.equal(await refreshAndCount(url, index), lastSeq.size, 'one document per key');
  const docs = await allDocuments(url, index);
  const stale = [...lastSeq].filter(([key, seq]) => (docs.get(key) as { seq?: number } | undefined)?.seq !== seq);
  assert.deepEqual(stale.slice(0, 5), [], `${stale.length} keys are not at their last sequence number`);
}
