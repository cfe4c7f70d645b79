// `kafka-to-elastic demo produce`: tweet-like events (the course's TwitterAvroModel: userId, id, text,
// createdAt as epoch millis) at a steady rate, as Avro (Confluent wire format, schema registered in
// the registry) or JSON. Used by the quick start; handy against any cluster.
import { Producer } from '@platformatic/kafka';
import avro from 'avsc';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrls, splitUrlCredentials } from '../util/redact.js';
import { CommandFailure, fetchProblem, kafkaFailure } from './failures.js';

export interface DemoProduceOptions {
  brokers: string[];
  topic: string;
  format: 'avro' | 'json';
  /** Records per second. */
  rate: number;
  /** Stop after this many (default: until SIGINT/SIGTERM). */
  count?: number | undefined;
  registryUrl?: string | undefined;
  /** How long to wait for the broker and the registry (connect and each request). */
  timeoutMs?: number;
  /** Stops producing; the call returns what was produced, at once even when a send hangs. */
  signal?: AbortSignal;
  onProgress?: (produced: number) => void;
}

const schemaFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'twitter', 'twitter-avro-model.avsc');
const WORDS = ['kafka', 'elasticsearch', 'opensearch', 'stream', 'index', 'consumer', 'offset', 'partition', 'bulk', 'search', 'avro', 'schema'];

/** Registers the schema under `<topic>-value` and returns its id. */
export async function registerSchema(registryUrl: string, subject: string, schema: string, signal?: AbortSignal): Promise<number> {
  // fetch refuses URLs with user information: it goes as basic auth.
  let parts: ReturnType<typeof splitUrlCredentials>;
  try {
    parts = splitUrlCredentials(registryUrl);
    new URL(parts.url);
  } catch {
    throw new CommandFailure(`schema registry "${redactUrls(registryUrl)}" is not a URL (--registry, K2E_SCHEMA_REGISTRY_URL)`);
  }
  const { url, username, password } = parts;
  const where = `schema registry ${redactUrls(url)} (--registry, K2E_SCHEMA_REGISTRY_URL)`;
  const auth: Record<string, string> = username !== undefined ? { authorization: `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}` } : {};
  let response: Response;
  try {
    response = await fetch(`${url.replace(/\/+$/, '')}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...auth },
      body: JSON.stringify({ schema }),
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') throw new CommandFailure(`${where}: no answer in time (--timeout-ms)`);
    throw new CommandFailure(`${where} not reachable: ${fetchProblem(error)}`);
  }
  const text = await response.text();
  if (!response.ok) throw new CommandFailure(`${where}: registering ${subject} failed: ${response.status} ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
  try {
    return (JSON.parse(text) as { id: number }).id;
  } catch {
    throw new CommandFailure(`${where} answered ${response.status} but not JSON: is this a Confluent-compatible registry?`);
  }
}

/** The promise, or undefined as soon as the signal aborts (what it was waiting for is abandoned). */
async function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return promise;
  if (signal.aborted) return undefined;
  let onAbort = (): void => undefined;
  const aborted = new Promise<undefined>((resolve) => (onAbort = () => resolve(undefined)));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
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
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 5000);
    const schemaId = await registerSchema(options.registryUrl, `${options.topic}-value`, schema, options.signal ? AbortSignal.any([options.signal, timeout]) : timeout);
    encode = (tweet) => confluentAvro(schemaId, type, tweet);
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  const producer = new Producer({ clientId: 'k2e-demo-producer', bootstrapBrokers: options.brokers, idempotent: true, timeout: timeoutMs, connectTimeout: timeoutMs, requestTimeout: timeoutMs, retries: 2, retryDelay: 250 });
  // (2, not 1: the client turns an idempotent producer's retries of 1 or fewer into "retry forever".)
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
      // A send to a dead broker may wait for long: a signal ends the loop at once.
      const sent = await unlessAborted(producer.send({ messages }), options.signal).catch((error: unknown) => {
        throw kafkaFailure(error, { brokers: options.brokers, tls: false } as Parameters<typeof kafkaFailure>[1], timeoutMs);
      });
      if (sent === undefined) {
        produced -= n; // not acknowledged
        break;
      }
      options.onProgress?.(produced);
      await sleep(Math.max(0, 100 - (Date.now() - started)), undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    }
  } finally {
    // Closing waits for what is in flight: bounded, so a dead broker cannot hold the exit.
    await Promise.race([producer.close().catch(() => undefined), sleep(1000, undefined, { ref: false })]);
  }
  return produced;
}
