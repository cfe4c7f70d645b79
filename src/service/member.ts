// The member side of `workers: N`: the service runs as usual in its worker thread, but instead of an
// HTTP server it answers the main thread's requests, and its metrics carry a `worker` label so the
// main thread can merge all members into one /metrics.
import type { MessagePort } from 'node:worker_threads';
import type { RunOptions } from './run.js';
import { Metrics } from '../metrics/metrics.js';
import type { StatusSource } from '../http/server.js';
import { isMemberRequest, type MemberQuery, type MemberResponse } from './member-protocol.js';

const json = (value: unknown): string => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

export function memberOptions(name: string, port: MessagePort): RunOptions {
  const metrics = new Metrics();
  metrics.registry.setDefaultLabels({ worker: name });
  const answer = async (source: StatusSource, query: MemberQuery): Promise<unknown> => {
    switch (query) {
      case 'ping':
        return true;
      case 'ready':
        return source.ready();
      case 'status':
        return json(source.status());
      case 'metrics':
        return metrics.registry.getMetricsAsJSON();
    }
  };
  return {
    metrics,
    logBindings: { worker: name },
    serve(source) {
      const onMessage = (message: unknown): void => {
        if (!isMemberRequest(message)) return;
        const { id, query } = message.request;
        answer(source, query).then(
          (value) => port.postMessage({ response: { id, value } } satisfies MemberResponse),
          (error: unknown) => port.postMessage({ response: { id, error: String(error) } } satisfies MemberResponse),
        );
      };
      port.on('message', onMessage);
      return { close: () => port.off('message', onMessage) };
    },
  };
}
