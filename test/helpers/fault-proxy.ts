// A loopback HTTP proxy in front of the real search engine that misbehaves on request: answer with a
// status (429/503), reset connections, delay or hang, for the requests a test chooses. Everything
// else is forwarded unchanged.
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'status'; status: number }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  /** Forward, then answer 429 for every `every`-th item of the bulk response (as if the engine rejected it). */
  | { kind: 'fail-items'; every: number };

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
    // The client went away (killed) while its request was held back: its body is gone, and an
    // upstream request without it would stay open forever and keep the test process alive.
    if (req.destroyed || res.destroyed) return void res.destroy();
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
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
      case 'fail-items':
        return failItems(req, res, active.every);
    }
  });
  /** The engine really receives the request; the items chosen are reported as rejected with 429. */
  const failItems = (req: IncomingMessage, res: ServerResponse, every: number): void => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { errors: boolean; items: Record<string, { status: number; error?: unknown }>[] };
        body.items.forEach((item, i) => {
          if (i % every !== 0) return;
          const result = Object.values(item)[0]!;
          result.status = 429;
          result.error = { type: 'es_rejected_execution_exception', reason: 'injected by the fault proxy' };
          body.errors = true;
        });
        const text = JSON.stringify(body);
        res.writeHead(answer.statusCode ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  };

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
