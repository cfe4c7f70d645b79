// Deterministic tweet-like JSON documents (~300 bytes each), shared by the client benchmarks.
const WORDS = ('kafka elastic search index bulk stream node java broker shard replica offset commit lag ' +
  'partition consumer producer cluster latency throughput memory heap json record batch query').split(' ');
const TAGS = ['kafka', 'opensearch', 'elasticsearch', 'nodejs', 'streaming', 'devops', 'search', 'bigdata'];
const LANGS = ['en', 'en', 'en', 'de', 'fr', 'es', 'ja', 'pt'];

function text(i) {
  const words = [];
  let x = (i * 2654435761) >>> 0;
  for (let w = 0; w < 12; w++) {
    words.push(WORDS[x % WORDS.length]);
    x = (x * 1103515245 + 12345) >>> 0;
  }
  return words.join(' ');
}

const BASE_ID = 1_900_000_000_000_000_000n;
const BASE_TIME = Date.UTC(2026, 10, 25);

/** The key (tweet id) of document i. */
export const tweetKey = (i) => (BASE_ID + BigInt(i)).toString();

/** The JSON source of document i. */
export function tweet(i) {
  const user = (i * 7919) % 500_000;
  return JSON.stringify({
    id: tweetKey(i),
    created_at: new Date(BASE_TIME + i * 37).toISOString(),
    user: { id: 10_000 + user, screen_name: `user_${user}`, followers: (i * 31) % 100_000 },
    text: `${text(i)} #${TAGS[i % TAGS.length]}`,
    lang: LANGS[i % LANGS.length],
    retweets: i % 1000,
    likes: (i * 13) % 5000,
    hashtags: [TAGS[i % TAGS.length], TAGS[(i * 3) % TAGS.length]],
  });
}
