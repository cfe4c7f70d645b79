// A loopback HTTP proxy in front of the real search engine that misbehaves on request: answer with a
// status (429/503), reset connections, delay or hang, for the requests a test chooses. Everything
// else is forwarded unchanged.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = { kind: 'pass' } | { kind: 'status'; status: number } | { kind: 'reset' } | { kind: 'delay'; ms: number } | { kind: 'hang' };

export interface FaultProxy {
  url: string;
  /** The fault applied to matching requests from now on (default: pass). */
  set(fault: Fault, match?: (req: IncomingMessage) => boolean): void;
  /** Requests that matched a fault other than pass. */
  faulted: number;
  close(): Promise<void>;
}

export const isBulk = (req: IncomingMessage): boolean => (req.url ?? '').includes('_bulk');

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let fault: Fault = { kind: 'pass' };
  let matches: (req: IncomingMessage) => boolean = () => true;
  const hung = new Set<ServerResponse>();
  const state = { faulted: 0 };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

  const server: Server = createServer((req, res) => {
    const active = fault.kind !== 'pass' && matches(req) ? fault : { kind: 'pass' as const };
    if (active.kind !== 'pass') state.faulted++;
    switch (active.kind) {
      case 'pass':
        return forward(req, res);
      case 'status':
        req.resume();
        res.writeHead(active.status, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ error: { type: 'fault_proxy', reason: `injected ${active.status}` }, status: active.status }));
      case 'reset':
        req.resume();
        return void req.socket.destroy();
      case 'delay':
        return void setTimeout(() => forward(req, res), active.ms);
      case 'hang':
        req.resume();
        hung.add(res);
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set(next, match = () => true) {
      fault = next;
      matches = match;
    },
    get faulted() {
      return state.faulted;
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
