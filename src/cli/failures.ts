// What the admin commands (lag, replay, status, dlq, demo produce) print when something outside them
// fails: one line naming the setting to check, exit code 1, never a stack trace. A dead broker is
// "not reachable", never "topic does not exist"; a timeout says which option sets it.
import type { Config } from '../config/schema.js';
import { describeKafkaError } from '../source/connection-errors.js';
import { describeNetworkError, errorChain } from '../sink/transport-errors.js';
import { UsageError } from './args.js';

/** A runtime failure, already in one line: printed as it is, exit code 1. */
export class CommandFailure extends Error {
  override name = 'CommandFailure';
}

/** How long admin commands wait for a broker, a service or a registry, unless --timeout-ms says otherwise. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Whether the error is about reaching the broker at all (refused, unknown host, timed out, TLS, SASL). */
function unreachable(error: unknown): boolean {
  return errorChain(error).some(
    (e) =>
      /Connection to \S+ (failed|timed out)|timed out|Connection closed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH/i.test(e.message) ||
      ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH'].includes(e.code ?? '') ||
      e.code === 'PLT_KFK_NETWORK' ||
      e.code === 'PLT_KFK_TIMEOUT' ||
      (e as Error).name === 'TimeoutError',
  );
}

/** An error of the Kafka client or of the network under it (not one of this tool's own). */
const isKafkaClientError = (error: unknown): boolean =>
  errorChain(error).some((e) => e.code?.startsWith('PLT_KFK_') === true || /^E[A-Z]+$/.test(e.code ?? '')) || unreachable(error);

/** One line for an error of a Kafka client: which brokers, what went wrong, the setting to check. */
export function kafkaFailure(error: unknown, kafka: Config['kafka'], timeoutMs: number): CommandFailure {
  if (error instanceof CommandFailure) return error;
  const { broker, text, permanent } = describeKafkaError(error, kafka);
  // TLS trust, client certificates, SASL credentials: the text names the setting.
  if (permanent) return new CommandFailure(`kafka.brokers ${broker}: ${text}`);
  if (unreachable(error)) {
    const timedOut = /timed out|within the request timeout/.test(text);
    return new CommandFailure(`kafka.brokers ${broker} not reachable: ${text}${timedOut ? ` (waited ${timeoutMs} ms: --timeout-ms)` : ''}; check kafka.brokers (K2E_BROKERS, --brokers)${kafka.tls !== false || kafka.sasl ? ', kafka.tls and kafka.sasl' : ''}`);
  }
  return new CommandFailure(`kafka (${broker}) answered with an error: ${text}`);
}

/** Runs a Kafka admin step; any client error becomes one line. */
export async function withKafka<T>(kafka: Config['kafka'], timeoutMs: number, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw isKafkaClientError(error) ? kafkaFailure(error, kafka, timeoutMs) : error;
  }
}

/** --timeout-ms: a positive integer of milliseconds. */
export function timeoutOption(text: string | boolean | undefined): number {
  if (text === undefined || typeof text === 'boolean') return DEFAULT_TIMEOUT_MS;
  if (!/^\d+$/.test(text) || Number(text) <= 0) throw new UsageError(`--timeout-ms "${text}": expected a positive number of milliseconds`);
  return Number(text);
}

/** Why an HTTP request (fetch) failed, in a few words: "connection refused", "host not found (…)", "bad port". */
export function fetchProblem(error: unknown): string {
  const { text } = describeNetworkError(error, { ca: 'the CA (NODE_EXTRA_CA_CERTS)', key: 'the client certificate', servername: 'the host name' });
  if (text !== 'fetch failed') return text;
  // undici's own wrapper says nothing: its innermost cause does.
  return errorChain(error).at(-1)?.message.split('\n')[0] ?? text;
}
