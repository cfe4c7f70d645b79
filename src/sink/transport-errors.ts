// Turns what fails on the way to a search engine (TLS, DNS, TCP, proxy, timeouts) or what it answers
// instead of data (401, 403, a gateway's HTML page) into one short sentence with the likely fix.
// Never includes credentials: messages come from Node/undici errors and the engine's error reason.

export { describeNetworkError, errorChain } from '../util/network-errors.js';

/** "401 (security_exception: unable to authenticate user [x])", "400 (No required SSL certificate was sent)". */
export function describeStatus(status: number, body: unknown): string {
  const detail = errorReason(body);
  return detail ? `${status} (${detail})` : String(status);
}

/** The engine's error type and reason, or an HTML page's title (a gateway's own answer). */
export function errorReason(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { error?: unknown; raw?: unknown; message?: unknown; Message?: unknown };
  if (typeof b.error === 'object' && b.error !== null) {
    const e = b.error as { type?: string; reason?: string };
    return [e.type, e.reason].filter(Boolean).join(': ').slice(0, 300) || undefined;
  }
  if (typeof b.error === 'string') return b.error.slice(0, 300);
  // Amazon's gateways answer {"message": "..."} (or "Message").
  if (typeof b.message === 'string') return b.message.slice(0, 300);
  if (typeof b.Message === 'string') return b.Message.slice(0, 300);
  if (typeof b.raw === 'string') {
    const title = /<title>([^<]*)<\/title>/i.exec(b.raw)?.[1];
    return (title ?? b.raw.replace(/\s+/g, ' ')).trim().slice(0, 200) || undefined;
  }
  return undefined;
}
