// Messages between the main thread of `workers: N` and its members (worker threads). The main thread
// serves the HTTP port and asks each member for what it would have served itself.

/** What the main thread asks: ping (liveness: the member's event loop answers), ready, status, metrics. */
export type MemberQuery = 'ping' | 'ready' | 'status' | 'metrics';

export interface MemberRequest {
  request: { id: number; query: MemberQuery };
}

/**
 * The answer: for `status`, the member's /status as JSON text (it holds bigints); for `metrics`, its
 * registry's `getMetricsAsJSON()`, the form prom-client's AggregatorRegistry merges.
 */
export interface MemberResponse {
  response: { id: number; value?: unknown; error?: string };
}

export const isMemberRequest = (message: unknown): message is MemberRequest =>
  typeof message === 'object' && message !== null && 'request' in message;

export const isMemberResponse = (message: unknown): message is MemberResponse =>
  typeof message === 'object' && message !== null && 'response' in message;
