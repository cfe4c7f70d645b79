// The service's HTTP endpoints: /health (liveness), /ready (initialized and consuming) and
// /status (JSON snapshot of the pipeline).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { STATUS_PAGE_HTML } from './status-page.js';

export interface StatusSource {
  ready(): boolean | Promise<boolean>;
  status(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Liveness beyond "this server answers": the main thread of `workers: N` asks its members. */
  health?(): Promise<boolean>;
}

/** http.port cannot be bound: the message says which port, why, and what to set instead. */
export class HttpPortError extends Error {
  override name = 'HttpPortError';
}

function portProblem(port: number, error: NodeJS.ErrnoException): Error {
  const fix = 'set http.port (K2E_HTTP_PORT) to a free port, or 0 to take any free one';
  if (error.code === 'EADDRINUSE') return new HttpPortError(`http.port ${port} is already in use (another instance on this host?): ${fix}`);
  if (error.code === 'EACCES') return new HttpPortError(`http.port ${port} needs privileges this process does not have: ${fix}`);
  return error;
}

export async function startHttpServer(port: number, source: StatusSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    };
    // Values may be promises (the main thread of `workers: N` asks its members).
    const answer = <T>(value: T | Promise<T>, reply: (value: T) => void): void => {
      Promise.resolve(value).then(reply, (error: unknown) => send(500, { error: String(error) }));
    };
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(STATUS_PAGE_HTML);
    } else if (path === '/health') {
      if (source.health) answer(source.health(), (alive) => send(alive ? 200 : 503, { status: alive ? 'ok' : 'unavailable' }));
      else send(200, { status: 'ok' });
    } else if (path === '/ready') answer(source.ready(), (ready) => send(ready ? 200 : 503, { ready }));
    else if (path === '/status') answer(source.status(), (status) => send(200, status));
    else if (path === '/metrics') {
      source.metrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        (error: unknown) => send(500, { error: String(error) }),
      );
    }
    else send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(portProblem(port, error)));
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return server;
}

export const boundPort = (server: Server): number => (server.address() as AddressInfo).port;
