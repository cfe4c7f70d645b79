// The service's HTTP endpoints: /health (liveness), /ready (initialized and consuming) and
// /status (JSON snapshot of the pipeline).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { STATUS_PAGE_HTML } from './status-page.js';

export interface StatusSource {
  ready(): boolean;
  status(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export async function startHttpServer(port: number, source: StatusSource): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    };
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(STATUS_PAGE_HTML);
    } else if (path === '/health') send(200, { status: 'ok' });
    else if (path === '/ready') send(source.ready() ? 200 : 503, { ready: source.ready() });
    else if (path === '/status') send(200, source.status());
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
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return server;
}

export const boundPort = (server: Server): number => (server.address() as AddressInfo).port;
