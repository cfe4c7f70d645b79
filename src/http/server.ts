// The service's HTTP endpoints: /health (liveness), /ready (initialized and consuming), /status (JSON
// snapshot of the pipeline), /metrics (Prometheus) and the status page at /. Read-only: GET and HEAD,
// anything else is 405. /status and /metrics may require a bearer token (http.token/tokenFile);
// /health and /ready never do (orchestrators probe them without credentials).
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.js';

export interface StatusSource {
  ready(): boolean | Promise<boolean>;
  status(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Liveness beyond "this server answers": the main thread of `workers: N` asks its members. */
  health?(): Promise<boolean>;
}

export interface HttpOptions {
  port: number;
  /** The address to listen on; default: dual stack ('::', IPv4 included), 0.0.0.0 where the host has no IPv6. */
  host?: string | undefined;
  /** Required as `Authorization: Bearer <token>` by /status and /metrics when set. */
  token?: string | undefined;
  /** Applied to every /status and /metrics body (masks secrets a message might quote). */
  redact?: ((text: string) => string) | undefined;
}

/** http.port cannot be bound: the message says which port, why, and what to set instead. */
export class HttpPortError extends Error {
  override name = 'HttpPortError';
}

function portProblem(port: number, host: string | undefined, error: NodeJS.ErrnoException): Error {
  const fix = 'set http.port (K2E_HTTP_PORT) to a free port, or 0 to take any free one';
  if (error.code === 'EADDRINUSE') return new HttpPortError(`http.port ${port} is already in use (another instance on this host?): ${fix}`);
  if (error.code === 'EACCES') return new HttpPortError(`http.port ${port} needs privileges this process does not have: ${fix}`);
  if (host !== undefined && (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')) {
    return new HttpPortError(`http.host ${host} is not an address of this host (${error.code}): set http.host (K2E_HTTP_HOST) to one of its addresses, or unset it to listen on all`);
  }
  return error;
}

const ALLOW = 'GET, HEAD';
/** Every answer: no content sniffing (a JSON body is never run as a script or page). */
const COMMON_HEADERS = { 'x-content-type-options': 'nosniff' };
const PROTECTED = new Set(['/status', '/metrics']);

/** A bearer-token check that takes the same time whatever the token given (both sides hashed to equal lengths). */
function tokenCheck(token: string): (req: IncomingMessage) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const given = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
    const equal = timingSafeEqual(createHash('sha256').update(given ?? '').digest(), expected);
    return given !== undefined && equal;
  };
}

export async function startHttpServer(options: HttpOptions, source: StatusSource): Promise<Server> {
  const authorized = options.token === undefined ? () => true : tokenCheck(options.token);
  const redact = options.redact ?? ((text: string) => text);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [name, value] of Object.entries(COMMON_HEADERS)) res.setHeader(name, value);
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(code, { 'content-type': 'application/json', ...headers });
      res.end(redact(JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))));
    };
    // Values may be promises (the main thread of `workers: N` asks its members).
    const answer = <T>(value: T | Promise<T>, reply: (value: T) => void): void => {
      Promise.resolve(value).then(reply, (error: unknown) => send(500, { error: String(error) }));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: `${req.method} is not allowed: the endpoints are read-only` }, { allow: ALLOW });
    if (PROTECTED.has(path!) && !authorized(req)) return send(401, { error: 'a bearer token is required (Authorization: Bearer <http.tokenFile content>)' }, { 'www-authenticate': 'Bearer realm="kafka-to-elastic"' });
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': STATUS_PAGE_CSP, 'referrer-policy': 'no-referrer' });
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
          res.end(redact(body));
        },
        (error: unknown) => send(500, { error: String(error) }),
      );
    } else send(404, { error: 'not found' });
  };
  const server = createServer(handle);
  const host = options.host?.replace(/^\[(.*)\]$/, '$1');
  const listen = (address: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException): void => reject(error);
      server.once('error', onError);
      server.listen(options.port, address, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    if (host !== undefined) await listen(host);
    else {
      // '::' takes IPv4 connections too (as ::ffff:a.b.c.d) unless the OS makes IPv6 sockets IPv6-only.
      await listen('::').catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EAFNOSUPPORT' && error.code !== 'EADDRNOTAVAIL' && error.code !== 'EINVAL') throw error;
        return listen('0.0.0.0');
      });
    }
  } catch (error) {
    throw portProblem(options.port, host, error as NodeJS.ErrnoException);
  }
  return server;
}

export const boundPort = (server: Server): number => (server.address() as AddressInfo).port;

/** The address listened on ('::' for dual stack), for the start-up log line. */
export const boundHost = (server: Server): string => (server.address() as AddressInfo).address;
