// Deterministic tweet-like JSON events (~300-600 bytes), keyed by their id, and how they reach Kafka:
// written once to a "key<TAB>value" file that kcat produces from and the bulk-ceiling loader reads.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const WORDS = ('kafka elastic search index bulk stream node java broker shard replica offset commit lag partition ' +
  'consumer producer cluster latency throughput memory heap json record batch query mapping refresh segment merge ' +
  'schema topic event pipeline sink source retry backoff watermark rebalance').split(' ');
const TAGS = ['kafka', 'opensearch', 'elasticsearch', 'nodejs', 'streaming', 'devops', 'search', 'bigdata', 'typescript', 'jvm'];
const LANGS = ['en', 'en', 'en', 'en', 'de', 'fr', 'es', 'ja', 'pt', 'it'];
const CITIES = ['Berlin', 'Paris', 'Madrid', 'Tokyo', 'Lisbon', 'Rome', 'New York', 'London', 'Amsterdam', 'Zurich'];
const SOURCES = ['web', 'android', 'iphone', 'api'];
const BASE_TIME = Date.UTC(2026, 10, 1);

/** A small, fast PRNG (mulberry32) so event i is the same in every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The key (= tweet id, = document _id) of event i. */
export const tweetKey = (i: number): string => String(1_900_000_000_000_000 + i);

/** The JSON text of event i. `extra` fields (e.g. a marker's send time) are appended. */
export function tweet(i: number, extra?: Record<string, unknown>): string {
  const r = random(i * 2654435761);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const words: string[] = [];
  const n = 8 + Math.floor(r() * 22); // 8-29 words: documents of ~330-560 bytes
  for (let w = 0; w < n; w++) words.push(pick(WORDS));
  const tags = [pick(TAGS), pick(TAGS)];
  const userId = 10_000 + Math.floor(r() * 500_000);
  const mentions = r() < 0.5 ? [`user_${Math.floor(r() * 500_000)}`] : [];
  const doc: Record<string, unknown> = {
    id: tweetKey(i),
    userId,
    text: `${words.join(' ')} #${tags[0]} #${tags[1]}`,
    createdAt: new Date(BASE_TIME + i * 37).toISOString(),
    lang: pick(LANGS),
    source: pick(SOURCES),
    user: { screenName: `user_${userId}`, followers: Math.floor(r() * 100_000), verified: r() < 0.05, location: pick(CITIES) },
    entities: { hashtags: tags, mentions, urls: r() < 0.3 ? [`https://example.com/p/${i}`] : [] },
    metrics: { retweets: Math.floor(r() * 1000), likes: Math.floor(r() * 5000), replies: Math.floor(r() * 100) },
    ...extra,
  };
  return JSON.stringify(doc);
}

export interface DataFile {
  path: string;
  count: number;
  /** Bytes of the values (JSON) only. */
  valueBytes: number;
  generateSeconds: number;
}

/** Writes N events as "key\tvalue\n" lines. */
export async function writeDataFile(path: string, count: number): Promise<DataFile> {
  const started = performance.now();
  const out = createWriteStream(path);
  let chunk = '';
  let valueBytes = 0;
  for (let i = 0; i < count; i++) {
    const value = tweet(i);
    valueBytes += value.length; // ASCII only
    chunk += `${tweetKey(i)}\t${value}\n`;
    if (chunk.length > 4 * 1024 * 1024) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
  return { path, count, valueBytes, generateSeconds: (performance.now() - started) / 1000 };
}
