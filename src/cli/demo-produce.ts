// `kafka-to-elastic demo produce`: tweet-like events (the course's TwitterAvroModel: userId, id, text,
// createdAt as epoch millis) at a steady rate, as Avro (Confluent wire format, schema registered in
// the registry) or JSON. Used by the quick start; handy against any cluster.
import { Producer } from '@platformatic/kafka';
import avro from 'avsc';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { splitUrlCredentials } from '../util/redact.js';

export interface DemoProduceOptions {
  brokers: string[];
  topic: string;
  format: 'avro' | 'json';
  /** Records per second. */
  rate: number;
  /** Stop after this many (default: until SIGINT/SIGTERM). */
  count?: number | undefined;
  registryUrl?: string | undefined;
  signal?: AbortSignal;
  onProgress?: (produced: number) => void;
}

const schemaFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'twitter', 'twitter-avro-model.avsc');
const WORDS = ['kafka', 'elasticsearch', 'opensearch', 'stream', 'index', 'consumer', 'offset', 'partition', 'bulk', 'search', 'avro', 'schema'];

/** Registers the schema under `<topic>-value` and returns its id. */
export async function registerSchema(registryUrl: string, subject: string, schema: string): Promise<number> {
  // fetch refuses URLs with user information: it goes as basic auth.
  const { url, username, password } = splitUrlCredentials(registryUrl);
  const auth: Record<string, string> = username !== undefined ? { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` } : {};
  const response = await fetch(`${url.replace(/\/+$/, '')}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...auth },
    body: JSON.stringify({ schema }),
  });
  if (!response.ok) throw new Error(`registering ${subject} failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { id: number }).id;
}

export function confluentAvro(schemaId: number, type: avro.Type, value: unknown): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

export async function demoProduce(options: DemoProduceOptions): Promise<number> {
  let encode: (tweet: Record<string, unknown>) => Buffer = (tweet) => Buffer.from(JSON.stringify(tweet));
  if (options.format === 'avro') {
    if (!options.registryUrl) throw new Error('--format avro needs --registry (or K2E_SCHEMA_REGISTRY_URL)');
    const schema = readFileSync(schemaFile, 'utf8');
    const type = avro.Type.forSchema(JSON.parse(schema) as avro.Schema);
    const schemaId = await registerSchema(options.registryUrl, `${options.topic}-value`, schema);
    encode = (tweet) => confluentAvro(schemaId, type, tweet);
  }
  const producer = new Producer({ clientId: 'k2e-demo-producer', bootstrapBrokers: options.brokers, idempotent: true });
  let produced = 0;
  const perTick = Math.max(1, Math.round(options.rate / 10));
  try {
    while (!options.signal?.aborted && (options.count === undefined || produced < options.count)) {
      const started = Date.now();
      const n = options.count === undefined ? perTick : Math.min(perTick, options.count - produced);
      const messages = Array.from({ length: n }, () => {
        const id = Date.now() * 1000 + (produced++ % 1000);
        const pick = (): string => WORDS[Math.floor(Math.random() * WORDS.length)]!;
        const tweet = { userId: Math.floor(Math.random() * 1000), id, text: `${pick()} ${pick()} ${pick()}`, createdAt: Date.now() };
        return { topic: options.topic, key: Buffer.from(String(id)), value: encode(tweet) };
      });
      await producer.send({ messages });
      options.onProgress?.(produced);
      await sleep(Math.max(0, 100 - (Date.now() - started)));
    }
  } finally {
    await producer.close();
  }
  return produced;
}
