// The HTTP layer alone (src/http/server.ts) on loopback, with a fixed status source: read-only
// methods (405 + Allow), nosniff on every answer, the status page's Content-Security-Policy (hashes of
// exactly its inline script and style), the optional bearer token on /status and /metrics (/health and
// /ready stay open), the default dual-stack listener reachable on [::1] and 127.0.0.1, and http.host.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { boundHost, boundPort, HttpPortError, startHttpServer, type StatusSource } from '../../src/http/server.js';
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML, statusPagePolicy } from '../../src/http/status-page.js';

const TOKEN = 'tok-0123456789abcdef-unit';
const source: StatusSource = {
  ready: () => true,
  status: () => ({ instance: 'unit', lag: 0n, note: 'see http://u:leaked-pw@host/' }),
  metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'k2e_ready 1\n' }),
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with node:http (fetch refuses methods such as TRACE and CONNECT). */
function call(host: string, port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

describe('http endpoints', () => {
  let open: Server;
  let guarded: Server;
  before(async () => {
    open = await startHttpServer({ port: 0, redact: (text) => text.replaceAll('leaked-pw', '***') }, source);
    guarded = await startHttpServer({ port: 0, token: TOKEN }, source);
  });
  after(async () => {
    await close(open);
    await close(guarded);
  });

  it('answers anything but GET and HEAD with 405 and Allow: GET, HEAD, on every path', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
      for (const path of ['/', '/status', '/metrics', '/health', '/nowhere']) {
        const answer = await call('127.0.0.1', boundPort(open), method, path);
        assert.equal(answer.status, 405, `${method} ${path}`);
        assert.equal(answer.headers.allow, 'GET, HEAD', `${method} ${path}`);
        assert.equal(answer.headers['x-content-type-options'], 'nosniff');
      }
    }
    const head = await call('127.0.0.1', boundPort(open), 'HEAD', '/status');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('sends nosniff on every answer, and the status page with its CSP', async () => {
    for (const path of ['/', '/index.html', '/status', '/metrics', '/health', '/ready', '/nowhere']) {
      const answer = await call('127.0.0.1', boundPort(open), 'GET', path);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', path);
    }
    const page = await call('127.0.0.1', boundPort(open), 'GET', '/');
    assert.equal(page.status, 200);
    assert.equal(page.body, STATUS_PAGE_HTML);
    const csp = page.headers['content-security-policy'] as string;
    assert.equal(csp, STATUS_PAGE_CSP);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
  });

  it('the CSP allows exactly the page\'s inline script and style, and the page has no inline handlers or style attributes', () => {
    const script = /<script>([\s\S]*?)<\/script>/.exec(STATUS_PAGE_HTML)![1]!;
    const style = /<style>([\s\S]*?)<\/style>/.exec(STATUS_PAGE_HTML)![1]!;
    const sha = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    assert.match(STATUS_PAGE_CSP, new RegExp(`script-src ${sha(script).replace(/[+/]/g, '\\$&')};`));
    assert.match(STATUS_PAGE_CSP, new RegExp(`style-src ${sha(style).replace(/[+/]/g, '\\$&')};`));
    assert.equal((STATUS_PAGE_HTML.match(/<script/g) ?? []).length, 1);
    assert.ok(!/\sstyle=|\son[a-z]+=/i.test(STATUS_PAGE_HTML), 'an inline style attribute or event handler: the CSP blocks it');
    assert.ok(!/setAttribute\('style'|style: '/.test(script), 'a style attribute set from the script: the CSP blocks it');
    assert.equal(statusPagePolicy('<p>no script</p>').includes("script-src 'none'"), true);
  });

  it('masks secrets in /status and /metrics bodies with the given redactor', async () => {
    const status = await call('127.0.0.1', boundPort(open), 'GET', '/status');
    assert.equal(status.status, 200);
    assert.ok(!status.body.includes('leaked-pw'), status.body);
    assert.deepEqual(JSON.parse(status.body), { instance: 'unit', lag: '0', note: 'see http://u:***@host/' });
  });

  it('with a token: /status and /metrics answer 401 without it or with a wrong one, 200 with it; /health, /ready and the page stay open', async () => {
    const port = boundPort(guarded);
    for (const path of ['/status', '/metrics']) {
      for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong-token-0123456789' }, { authorization: `Bearer ${TOKEN}x` }, { authorization: `Basic ${TOKEN}` }, { authorization: TOKEN }]) {
        const answer = await call('127.0.0.1', port, 'GET', path, headers);
        assert.equal(answer.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.equal(answer.headers['www-authenticate'], 'Bearer realm="kafka-to-elastic"');
        assert.ok(!answer.body.includes('k2e_ready') && !answer.body.includes('unit'));
      }
      assert.equal((await call('127.0.0.1', port, 'GET', path, { authorization: `Bearer ${TOKEN}` })).status, 200, path);
      assert.equal((await call('127.0.0.1', port, 'GET', path, { authorization: `bearer  ${TOKEN}` })).status, 200, path);
    }
    for (const path of ['/health', '/ready', '/']) assert.equal((await call('127.0.0.1', port, 'GET', path)).status, 200, path);
  });

  it('listens dual stack by default: reachable on [::1] and on 127.0.0.1', async () => {
    assert.equal(boundHost(open), '::');
    for (const host of ['::1', '127.0.0.1']) assert.equal((await call(host, boundPort(open), 'GET', '/health')).status, 200, host);
  });

  it('listens on http.host only when set, and names a host that is not one of this machine\'s', async () => {
    const loopback = await startHttpServer({ port: 0, host: '127.0.0.1' }, source);
    try {
      assert.equal(boundHost(loopback), '127.0.0.1');
      assert.equal((await call('127.0.0.1', boundPort(loopback), 'GET', '/health')).status, 200);
      await assert.rejects(call('::1', boundPort(loopback), 'GET', '/health'), /ECONNREFUSED/);
    } finally {
      await close(loopback);
    }
    const v6 = await startHttpServer({ port: 0, host: '[::1]' }, source);
    try {
      assert.equal(boundHost(v6), '::1');
      assert.equal((await call('::1', boundPort(v6), 'GET', '/health')).status, 200);
    } finally {
      await close(v6);
    }
    await assert.rejects(startHttpServer({ port: 0, host: '192.0.2.1' }, source), (error: Error) => error instanceof HttpPortError && /http\.host 192\.0\.2\.1 is not an address of this host/.test(error.message));
  });
});
