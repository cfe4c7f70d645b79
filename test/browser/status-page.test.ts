// The live status page at `/` in a real headless browser (Debian's chromium driven by playwright-core):
// while events flow the page's indexed count and lag move, one row per partition appears, the chart
// fills, and once the producer stops the page settles on the produced count with lag 0. Keeps
// docs/status-page.png current (a screenshot taken while data flows). Served by the service's own HTTP
// server, under its Content-Security-Policy; with http.tokenFile set the page asks for the token.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Producer } from '@platformatic/kafka';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '../../scripts/stack/layout.js';
import { STATUS_PAGE_HTML } from '../../src/http/status-page.js';
import { startHttpServer } from '../../src/http/server.js';
import { isBulk, startFaultProxy } from '../helpers/fault-proxy.js';
import { createTopic } from '../helpers/kafka.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(repoRoot, 'docs', 'status-page.png');
const BATCH = 500;
const EVERY_MS = 300;
const PRODUCE_MS = 30_000; // at most: the producer stops once the screenshot is taken
// The service indexes ~1,700 events/s faster than the broker's end offsets are re-read, so its lag
// would sit at 0: a slow engine (each bulk held 250 ms, small bulks, two in flight) keeps it behind
// the producer while events flow, and it catches up once they stop.
const BULK_DELAY_MS = 250;
const SLOW_SINK_FLAGS = ['--batch.maxDocs=150', '--batch.maxInFlight=2'];

const SKIP = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: install Debian's chromium to run the status page tests`;
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const portOf = (output: string): string | undefined => /"port":(\d+),"msg":"http endpoints listening"/.exec(output)?.[1];

/** The raw number a page element carries in data-value (null when the page shows "—"). */
async function pageNumber(page: Page, testId: string): Promise<number | null> {
  const raw = await page.getByTestId(testId).getAttribute('data-value');
  return raw === null || raw === '' ? null : Number(raw);
}

/** Produces BATCH keyed events every EVERY_MS until `stop` is set; resolves with how many it wrote. */
async function produceContinuously(topic: string, control: { stop: boolean }): Promise<number> {
  const producer = new Producer({ clientId: 'k2e-test-status-page', bootstrapBrokers: [brokers], idempotent: true });
  let sent = 0;
  try {
    while (!control.stop) {
      const started = Date.now();
      await producer.send({
        messages: Array.from({ length: BATCH }, (_, i) => ({
          topic,
          key: Buffer.from(`k-${sent + i}`),
          value: Buffer.from(JSON.stringify({ n: sent + i, at: new Date().toISOString(), text: 'status page event' })),
        })),
      });
      sent += BATCH;
      await sleep(Math.max(0, EVERY_MS - (Date.now() - started)));
    }
  } finally {
    await producer.close();
  }
  return sent;
}

describe(`status page in a headless browser on ${engine.name}`, () => {
  it(
    'shows the indexed count and lag moving while events flow, a row per partition and a chart',
    { skip: SKIP, timeout: 180_000 },
    async () => {
      const topic = uniqueName('status-page');
      await createTopic(topic, 3);
      const proxy = await startFaultProxy(engine.url);
      proxy.set({ kind: 'delay', ms: BULK_DELAY_MS }, isBulk);
      const service = startService(
        { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('status-page-group'), K2E_ELASTIC_URL: proxy.url, K2E_INDEX: topic },
        ['--http.healthIntervalMs=500', ...SLOW_SINK_FLAGS],
      );
      const control = { stop: false };
      let producing: Promise<number> | undefined;
      let browser: Browser | undefined;
      let stopAfter: NodeJS.Timeout | undefined;
      const pageErrors: string[] = [];
      try {
        assert.ok(await service.consuming(60_000), service.output().slice(-2000));
        const port = portOf(service.output());
        assert.ok(port, 'the service logged no HTTP port');

        producing = produceContinuously(topic, control);
        stopAfter = setTimeout(() => (control.stop = true), PRODUCE_MS);

        browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        page.on('pageerror', (error) => pageErrors.push(error.message));
        page.on('console', (message) => {
          if (message.type() === 'error') pageErrors.push(`${message.text()} (${message.location().url})`);
        });
        page.on('response', (response) => {
          if (response.status() >= 400) pageErrors.push(`${response.status()} for ${response.url()}`);
        });
        await page.goto(`http://127.0.0.1:${port}/`);

        // One row per partition, each naming its owner.
        await page.getByTestId('partition-row').nth(2).waitFor({ timeout: 30_000 });
        assert.equal(await page.getByTestId('partition-row').count(), 3);
        const partitions = await page.getByTestId('partition-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-partition')));
        assert.deepEqual(partitions, ['0', '1', '2']);
        for (const owner of await page.locator('[data-testid="partition-row"] [data-col="owner"]').allTextContents()) assert.ok(owner.length > 1 && owner !== '—');
        assert.equal(await page.getByTestId('ready').getAttribute('data-value'), 'true');
        assert.equal(await page.getByTestId('sink-state').textContent(), 'ok');
        assert.equal(await page.getByTestId('index').textContent(), topic);

        // The indexed count grows between two reads a few seconds apart.
        assert.ok(await waitFor(async () => ((await pageNumber(page, 'total-indexed')) ?? 0) > 0, 30_000), 'the page never showed an indexed record');
        const indexedBefore = (await pageNumber(page, 'total-indexed'))!;
        // Lag as the page shows it, read once a second: it moves while events flow.
        const lags: (number | null)[] = [];
        for (let i = 0; i < 5; i++) {
          await sleep(1000);
          lags.push(await pageNumber(page, 'total-lag'));
        }
        const indexedAfter = (await pageNumber(page, 'total-indexed'))!;
        assert.ok(indexedAfter > indexedBefore, `indexed did not grow on the page: ${indexedBefore} → ${indexedAfter}`);
        const distinctLags = new Set(lags.filter((l) => l !== null));
        assert.ok(distinctLags.size >= 2, `the page's lag did not change: ${JSON.stringify(lags)}`);

        // The chart fills with samples (one every 2 s) with throughput above zero.
        assert.ok(await waitFor(async () => Number(await page.getByTestId('chart').getAttribute('data-points')) >= 8, 30_000), 'the chart never got 8 samples');
        assert.ok(Number(await page.getByTestId('chart').getAttribute('data-max-rate')) > 0);
        assert.equal(await page.getByTestId('chart-rate').count(), 1);
        assert.equal(await page.getByTestId('chart-lag').count(), 1);

        // The screenshot in docs/ while data still flows.
        assert.ok(!control.stop, 'the producer stopped before the screenshot; raise PRODUCE_MS');
        mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT, fullPage: true });

        // Once the producer stops, the page settles on every produced record indexed and lag 0.
        clearTimeout(stopAfter);
        control.stop = true;
        const produced = await producing;
        const settled = await waitFor(async () => (await pageNumber(page, 'total-indexed')) === produced && (await pageNumber(page, 'total-lag')) === 0, 60_000, 500);
        assert.ok(settled, `the page shows indexed ${await pageNumber(page, 'total-indexed')} (produced ${produced}), lag ${await pageNumber(page, 'total-lag')}`);
        const rowIndexed = await page.locator('[data-testid="partition-row"] [data-col="indexed"]').allTextContents();
        assert.equal(rowIndexed.reduce((sum, text) => sum + Number(text.replaceAll(',', '')), 0), produced);
        assert.equal(await page.getByTestId('connection').getAttribute('data-state'), 'ok');
        assert.deepEqual(pageErrors, []);
      } finally {
        clearTimeout(stopAfter);
        control.stop = true;
        await producing?.catch(() => undefined);
        await browser?.close();
        assert.equal(await service.stop(), 0, service.output().slice(-2000));
        await proxy.close();
      }
    },
  );

  // The page against answers a /status may give while the service starts, is idle or is in trouble
  // (served by a stand-in of the HTTP endpoint: this is about the page, not the pipeline).
  it('degrades gracefully when /status lacks fields, shows a sink error and a lost connection', { skip: SKIP, timeout: 60_000 }, async () => {
    const answers: (object | 'fail')[] = [
      {},
      { instance: 'i-1', ready: false, lag: null, partitions: [{ topic: 't', partition: 0, committed: null, end: null, lag: null }] },
      {
        instance: 'i-1', ready: false, groupId: 'g', topics: ['t'], index: 'x', delivery: 'at-least-once', assigned: [], partitions: [], consumed: 5, indexed: 3, lag: 2,
        reachable: { kafka: true, searchEngine: false, since: Date.now() }, sink: { state: 'unreachable', lastError: 'connect ECONNREFUSED 127.0.0.1:9200', lastErrorAt: Date.now() },
      },
      'fail',
    ];
    let served = 0;
    let answer: object | 'fail' = answers[0]!;
    const server = createServer((req, res) => {
      if (req.url === '/') return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(STATUS_PAGE_HTML);
      served++;
      if (answer === 'fail') return void res.writeHead(503, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const next = async (i: number): Promise<void> => {
        answer = answers[i]!;
        const before = served;
        assert.ok(await waitFor(async () => served >= before + 1, 10_000), 'the page stopped polling');
        await sleep(300);
      };

      await next(0); // an empty object: every value "—", a waiting note instead of rows
      assert.equal(await page.getByTestId('total-indexed').textContent(), '—');
      assert.equal(await page.getByTestId('total-lag').getAttribute('data-value'), '');
      assert.match((await page.getByTestId('no-partitions').textContent()) ?? '', /Waiting for the consumer/);
      assert.equal(await page.getByTestId('chart').getAttribute('data-points'), '0');

      await next(1); // a partition with no offsets yet
      assert.equal(await page.getByTestId('partition-row').count(), 1);
      assert.equal(await page.locator('[data-testid="partition-row"] [data-col="lag"]').textContent(), '—');
      assert.equal(await page.getByTestId('ready').getAttribute('data-value'), 'false');

      await next(2); // idle instance, engine down: the sink error is shown
      assert.match((await page.getByTestId('no-partitions').textContent()) ?? '', /No partitions assigned/);
      assert.equal(await page.getByTestId('sink-state').textContent(), 'unreachable');
      assert.equal(await page.getByTestId('reachable-search').getAttribute('data-state'), 'bad');
      assert.match((await page.getByTestId('sink-error').textContent()) ?? '', /ECONNREFUSED/);
      assert.equal(await page.getByTestId('total-lag').getAttribute('data-value'), '2');

      await next(3); // /status fails: the last data stays, the page says it is retrying
      assert.equal(await page.getByTestId('connection').getAttribute('data-state'), 'error');
      assert.match((await page.getByTestId('updated').textContent()) ?? '', /HTTP 503.*retrying/);
      assert.equal(await page.getByTestId('total-indexed').getAttribute('data-value'), '3');

      await next(2); // and recovers
      assert.equal(await page.getByTestId('connection').getAttribute('data-state'), 'ok');
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  // Honest badges, under the real server's CSP: phase (initializing neutral, running ok, stopping
  // warn), reachability unknown before the first probe (neutral, never "reachable"), a refused sink and
  // stalled partitions in red, the version in the header.
  it('shows the phase, unknown reachability as neutral, refused and stalled as bad', { skip: SKIP, timeout: 60_000 }, async () => {
    const partitions = [
      { topic: 't', partition: 0, committed: '10', end: '10', lag: '0', indexed: 10 },
      { topic: 't', partition: 1, committed: '3', end: '9', lag: '6', indexed: 3 },
    ];
    const answers: Record<string, unknown>[] = [
      { instance: 'i-phase', version: '9.8.7', phase: 'initializing', ready: false, reachable: { kafka: null, searchEngine: null, since: Date.now() }, stalled: [] },
      { instance: 'i-phase', version: '9.8.7', phase: 'running', ready: false, reachable: { kafka: true, searchEngine: true, since: Date.now() }, sink: { state: 'refused', lastError: 'cluster_block_exception: index read-only', lastErrorAt: Date.now() }, stalled: ['t:1'], assigned: ['t:0', 't:1'], partitions, lag: 6 },
      { instance: 'i-phase', version: '9.8.7', phase: 'stopping', ready: false, reachable: { kafka: true, searchEngine: false, since: Date.now() }, sink: { state: 'ok' }, stalled: [], partitions },
    ];
    let answer = answers[0]!;
    let served = 0;
    const server = await startHttpServer({ port: 0, host: '127.0.0.1' }, { ready: () => false, status: () => (served++, answer), metrics: async () => ({ contentType: 'text/plain', body: '' }) });
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const next = async (i: number): Promise<void> => {
        answer = answers[i]!;
        const before = served;
        assert.ok(await waitFor(async () => served >= before + 1, 10_000), 'the page stopped polling');
        await sleep(300);
      };
      const badge = async (id: string): Promise<[string | null, string | null]> => [await page.getByTestId(id).textContent(), await page.getByTestId(id).getAttribute('data-state')];

      await next(0);
      assert.deepEqual(await badge('phase'), ['initializing', 'unknown']);
      assert.deepEqual(await badge('reachable-kafka'), ['unknown', 'unknown']);
      assert.deepEqual(await badge('reachable-search'), ['unknown', 'unknown']);
      assert.equal(await page.getByTestId('stalled').isVisible(), false);
      assert.equal(await page.getByTestId('version').textContent(), 'v9.8.7');

      await next(1);
      assert.deepEqual(await badge('phase'), ['running', 'ok']);
      assert.deepEqual(await badge('reachable-kafka'), ['reachable', 'ok']);
      assert.deepEqual(await badge('sink-state'), ['refused', 'bad']);
      assert.equal(await page.getByTestId('stalled').isVisible(), true);
      assert.deepEqual(await badge('stalled'), ['1 stalled', 'bad']);
      assert.deepEqual(await page.getByTestId('partition-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-stalled'))), ['false', 'true']);
      const stalledColour = await page.locator('[data-testid="partition-row"][data-stalled="true"] [data-col="lag"]').evaluate((cell) => (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(cell).color);
      assert.equal(stalledColour, 'rgb(192, 38, 45)', 'the stalled partition\'s lag is red');

      await next(2);
      assert.deepEqual(await badge('phase'), ['stopping', 'warn']);
      assert.deepEqual(await badge('reachable-search'), ['unreachable', 'bad']);
      assert.equal(await page.getByTestId('stalled').isVisible(), false);
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  // The service's HTTP server with a token (http.tokenFile): the page, under its CSP, asks for the
  // token, keeps it for the tab, and shows the status once /status accepts it.
  it('asks for the bearer token when /status wants one, under the Content-Security-Policy', { skip: SKIP, timeout: 60_000 }, async () => {
    const token = 'k2e-browser-token-0123456789';
    const server = await startHttpServer(
      { port: 0, host: '127.0.0.1', token },
      {
        ready: () => true,
        status: () => ({ instance: 'i-token', ready: true, groupId: 'g', topics: ['t'], partitions: [], consumed: 7, indexed: 7, lag: 0, sink: { state: 'ok' } }),
        metrics: async () => ({ contentType: 'text/plain', body: '' }),
      },
    );
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      // A CSP violation (a blocked inline script, style or request) is reported on the console.
      page.on('console', (message) => {
        if (message.type() === 'error' && !/401/.test(message.text())) problems.push(message.text());
      });
      const response = await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'sha256-/);
      await page.locator('[data-testid="token-needed"].show').waitFor({ timeout: 10_000 });
      assert.match((await page.getByTestId('updated').textContent()) ?? '', /token required/);
      assert.equal(await page.getByTestId('total-indexed').textContent(), '—');

      await page.getByTestId('token-input').fill('wrong-token-0123456789');
      await page.getByTestId('token-input').press('Enter');
      assert.ok(await waitFor(async () => /token refused/.test((await page.getByTestId('updated').textContent()) ?? ''), 10_000), 'a wrong token is refused');

      await page.getByTestId('token-input').fill(token);
      await page.getByTestId('token-input').press('Enter');
      assert.ok(await waitFor(async () => (await page.getByTestId('instance').textContent()) === 'i-token', 10_000), 'the page never showed the status');
      assert.equal(await page.getByTestId('total-indexed').getAttribute('data-value'), '7');
      assert.equal(await page.locator('[data-testid="token-needed"].show').count(), 0);
      assert.equal(await page.getByTestId('connection').getAttribute('data-state'), 'ok');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
