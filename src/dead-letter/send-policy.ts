// What a failed dead-letter produce attempt leads to: retry after a backoff, with a smaller batch
// (the topic refused the size), with a new producer (its client state is suspect), or not at all
// (the time bound, errors.dlqTimeoutMs, is spent). Pure: the producer acts on the answer.
import { type BackoffOptions, backoffDelay } from '../util/backoff.js';

/** An attempt that got no answer within its own bound (the client may be stuck on a connection). */
export class AttemptTimeoutError extends Error {
  override name = 'AttemptTimeoutError';
}

/** Broker answers that mean "this batch is too large": retrying the same batch can never succeed. */
const TOO_LARGE: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);
/**
 * Broker answers about the producer's identity or sequence numbers. @platformatic/kafka 1.35 never
 * resets its producer id or sequences after them (it retries with the same ones for ever), so the
 * producer is replaced. With our non-idempotent producer they are not expected at all.
 */
const PRODUCER_STATE: ReadonlySet<string> = new Set(['UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'DUPLICATE_SEQUENCE_NUMBER', 'PRODUCER_FENCED']);

export type ErrorKind = 'too-large' | 'producer-state' | 'stuck' | 'other';

interface ErrorLike {
  apiId?: unknown;
  producerFenced?: unknown;
  closed?: unknown;
  code?: unknown;
  message?: unknown;
  errors?: unknown;
  cause?: unknown;
}

/** The protocol error ids (apiId) anywhere in the error's tree (MultipleErrors → ResponseError → ProtocolError). */
function kafkaErrorIds(error: unknown, ids = new Set<string>(), depth = 0): Set<string> {
  if (depth > 8 || typeof error !== 'object' || error === null) return ids;
  const e = error as ErrorLike;
  if (typeof e.apiId === 'string') ids.add(e.apiId);
  if (e.producerFenced === true) ids.add('INVALID_PRODUCER_EPOCH');
  if (Array.isArray(e.errors)) for (const inner of e.errors) kafkaErrorIds(inner, ids, depth + 1);
  if (e.cause !== undefined) kafkaErrorIds(e.cause, ids, depth + 1);
  return ids;
}

/** Whether the client itself is wedged: our attempt bound passed, its request timed out, or it was closed under us. */
function stuck(error: unknown, depth = 0): boolean {
  if (depth > 8 || typeof error !== 'object' || error === null) return false;
  const e = error as ErrorLike;
  if (error instanceof AttemptTimeoutError || e.closed === true) return true;
  if (typeof e.message === 'string' && /^(Request timed out|Client is closed)/.test(e.message)) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => stuck(inner, depth + 1))) return true;
  return e.cause !== undefined && stuck(e.cause, depth + 1);
}

export function classifyProduceError(error: unknown): ErrorKind {
  const ids = kafkaErrorIds(error);
  if ([...ids].some((id) => TOO_LARGE.has(id))) return 'too-large';
  if ([...ids].some((id) => PRODUCER_STATE.has(id))) return 'producer-state';
  return stuck(error) ? 'stuck' : 'other';
}

export interface AttemptContext {
  /** Failed attempts of this send so far, this one included (1 after the first failure). */
  failures: number;
  /** How often this send already shrank its batches after a too-large answer. */
  shrinks: number;
  now: number;
  /** When the send gives up (its start + errors.dlqTimeoutMs). */
  deadline: number;
  backoff: BackoffOptions;
  random?: () => number;
}

export type SendStep =
  | { kind: 'give-up' }
  | {
      kind: 'retry';
      delayMs: number;
      /** Close the producer and make a new one (new connections, and a new producer id were it idempotent). */
      recreateProducer: boolean;
      /** Re-read the topic's max.message.bytes and send this batch in smaller groups. */
      shrink: boolean;
    };

/** Halving the budget this often brings any limit below one byte: shrinking further is pointless. */
export const MAX_SHRINKS = 24;

export function nextStep(error: unknown, ctx: AttemptContext): SendStep {
  if (ctx.now >= ctx.deadline) return { kind: 'give-up' };
  const kind = classifyProduceError(error);
  const remaining = ctx.deadline - ctx.now;
  // A size refusal is answered at once by resending smaller: no reason to wait.
  if (kind === 'too-large' && ctx.shrinks < MAX_SHRINKS) return { kind: 'retry', delayMs: 0, recreateProducer: false, shrink: true };
  const delayMs = Math.min(remaining, backoffDelay(ctx.failures - 1, ctx.backoff, ctx.random));
  return { kind: 'retry', delayMs, recreateProducer: kind === 'producer-state' || kind === 'stuck', shrink: false };
}
