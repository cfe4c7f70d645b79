// Test-side helpers for records dated and routed like the routing tests need (produce them with
// produce() of kafka.ts, which takes timestamps and headers): a topic that keeps past-dated records,
// the dates, a config file for the maps env vars cannot hold, and what landed in which index.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withAdmin } from './kafka.js';
import { withSearch } from './search.js';

/**
 * A topic for records dated in the past (BASE_TIME): without retention by time, or the broker would
 * delete them at once (retention compares record timestamps with its clock), and a committed offset
 * would then point before the log's start.
 */
export async function createDatedTopic(topic: string, partitions: number): Promise<void> {
  await withAdmin((admin) => admin.createTopics({ topics: [topic], partitions, replicas: 1, configs: [{ name: 'retention.ms', value: '-1' }] }));
}

/** Writes a JSON config file (YAML is a superset) and returns its path, for K2E_CONFIG. */
export function configFile(config: object): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'k2e-routing-')), 'config.json');
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** Document count per index for the indices matching `pattern` (refreshed first); absent indices are not listed. */
export async function countsByIndex(url: string, pattern: string): Promise<Map<string, number>> {
  return withSearch(url, async (client) => {
    await client.request('POST', `/${pattern}/_refresh?allow_no_indices=true&expand_wildcards=all`);
    const { body } = await client.request<{ index: string; 'docs.count': string }[]>('GET', `/_cat/indices/${pattern}?format=json&h=index,docs.count&expand_wildcards=all`);
    return new Map(body.map((row) => [row.index, Number(row['docs.count'])]));
  });
}

export interface SearchHit {
  _index: string;
  _id: string;
  _routing?: string;
  _source: Record<string, unknown>;
}

/** Up to 10,000 hits of an index pattern or data stream (refreshed first). */
export async function searchAll(url: string, target: string, query: object = { match_all: {} }): Promise<SearchHit[]> {
  return withSearch(url, async (client) => {
    await client.request('POST', `/${target}/_refresh`);
    const { body } = await client.request<{ hits: { hits: SearchHit[] } }>('POST', `/${target}/_search`, JSON.stringify({ size: 10_000, query }));
    return body.hits.hits;
  });
}

export const DAY_MS = 86_400_000;
/** 2026-01-01T12:00:00Z: records of the tests are dated from here, never from the wall clock. */
export const BASE_TIME = Date.UTC(2026, 0, 1, 12);

/**
 * Deletes the indices (and, on OpenSearch, data streams and their index templates) whose names start
 * with these prefixes: the shared engines have a shard limit. Names are resolved first, because
 * Elasticsearch refuses wildcard deletes.
 */
export async function dropIndices(url: string, ...prefixes: string[]): Promise<void> {
  await withSearch(url, async (client) => {
    const { body } = await client.request<{ index: string }[]>('GET', '/_cat/indices?format=json&h=index&expand_wildcards=open,closed');
    const names = body.map((row) => row.index).filter((name) => !name.startsWith('.') && prefixes.some((p) => name.startsWith(p)));
    for (let i = 0; i < names.length; i += 50) await client.request('DELETE', `/${names.slice(i, i + 50).join(',')}`);
    const streams = await client.request<{ data_streams?: { name: string; template: string }[] }>('GET', '/_data_stream');
    for (const stream of streams.status === 200 ? (streams.body.data_streams ?? []) : []) {
      if (!prefixes.some((p) => stream.name.startsWith(p))) continue;
      await client.request('DELETE', `/_data_stream/${stream.name}`);
      if (stream.template.startsWith('k2e-')) await client.request('DELETE', `/_index_template/${stream.template}`);
    }
  });
}
