// The transport's endpoint handling against the real engine: a node that refuses connections is
// skipped and tried again once its pause is over, a gateway's 503 moves the request on, and path
// prefixes reach the server intact.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Transport } from '../../src/sink/transport.js';
import { stack } from '../helpers/stack.js';
import { freePort } from '../helpers/tcp-forwarder.js';

const engine = stack.engines[0]!;

/** An HTTP server on `port` that records request paths, strips `prefix` and forwards to the engine (or answers `status`). */
async function recordingServer(port: number, options: { prefix?: string; status?: number } = {}): Promise<{ paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const target = new URL(engine.url);
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    if (options.status) return void res.writeHead(options.status, { 'content-type': 'application/json' }).end('{"error":"gateway says no"}');
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: (req.url ?? '/').slice(options.prefix?.length ?? 0) || '/' }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { paths, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('transport endpoints', () => {
  it('skips a node that refuses connections and tries it again later', async () => {
    const port = await freePort();
    const transport = new Transport({ urls: [`http://127.0.0.1:${port}`, engine.url] }, { connections: 2, timeoutMs: 5000 });
    try {
      for (let i = 0; i < 4; i++) {
        const answer = await transport.request({ method: 'GET', path: '/' });
        assert.equal(answer.status, 200);
        assert.equal(answer.endpoint, engine.url);
      }
      // The node comes back (under a prefix-less recording server); after its pause it gets requests again.
      const node = await recordingServer(port);
      try {
        await sleep(2100);
        const endpoints = [];
        for (let i = 0; i < 6; i++) endpoints.push((await transport.request({ method: 'GET', path: '/' })).endpoint);
        assert.ok(node.paths.length >= 2, `the recovered node got ${node.paths.length} requests (${endpoints.join(', ')})`);
        assert.ok(endpoints.includes(engine.url) && endpoints.includes(`http://127.0.0.1:${port}`), endpoints.join(', '));
      } finally {
        await node.close();
      }
    } finally {
      await transport.close();
    }
  });

  it('moves on when a gateway answers 503, and answers with it when every endpoint does', async () => {
    const port = await freePort();
    const failing = await recordingServer(port, { status: 503 });
    const transport = new Transport({ urls: [`http://127.0.0.1:${port}`, engine.url] }, { timeoutMs: 5000 });
    const alone = new Transport({ urls: [`http://127.0.0.1:${port}`] }, { timeoutMs: 5000 });
    try {
      const answer = await transport.request({ method: 'GET', path: '/' });
      assert.equal(answer.status, 200);
      assert.equal(answer.endpoint, engine.url);
      assert.equal((await alone.request({ method: 'GET', path: '/' })).status, 503);
    } finally {
      await transport.close();
      await alone.close();
      await failing.close();
    }
  });

  it('keeps the path prefix of each endpoint', async () => {
    const port = await freePort();
    const node = await recordingServer(port, { prefix: '/search/es' });
    const transport = new Transport({ url: `http://127.0.0.1:${port}/search/es/` }, { timeoutMs: 5000 });
    try {
      const answer = await transport.request({ method: 'GET', path: '/_cluster/health?timeout=1s' });
      assert.equal(answer.status, 200);
      assert.equal(answer.endpoint, `http://127.0.0.1:${port}/search/es`);
      assert.deepEqual(node.paths, ['/search/es/_cluster/health?timeout=1s']);
    } finally {
      await transport.close();
      await node.close();
    }
  });

  it('names the endpoint and the cause when none answers', async () => {
    const port = await freePort();
    const transport = new Transport({ url: `https://127.0.0.1:${port}/es` }, { timeoutMs: 5000 });
    try {
      await assert.rejects(transport.request({ method: 'GET', path: '/' }), { name: 'TransportError', message: `https://127.0.0.1:${port}/es: connection refused` });
    } finally {
      await transport.close();
    }
  });
});
