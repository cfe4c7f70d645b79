// Tweet-like benchmark events: id, userId, text, createdAt and a few nested fields, ~350-450 bytes.
const WORDS = 'kafka elastic search stream index partition offset consumer bulk shard replica latency throughput cluster schema record event broker topic'.split(' ');

export function tweet(i: number): { key: string; value: string } {
  const words = Array.from({ length: 12 + (i % 9) }, (_, j) => WORDS[(i * 7 + j * 13) % WORDS.length]).join(' ');
  const doc = {
    id: String(i),
    userId: i % 50_000,
    text: words,
    createdAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    user: { name: `user-${i % 50_000}`, followers: (i * 31) % 10_000, verified: i % 17 === 0 },
    entities: { hashtags: [WORDS[i % WORDS.length], WORDS[(i + 3) % WORDS.length]], mentions: i % 5 },
    retweets: (i * 13) % 1000,
    lang: i % 3 === 0 ? 'en' : 'de',
  };
  return { key: String(i), value: JSON.stringify(doc) };
}
