// A real Prometheus scrapes a running service, with the shipped alert rules loaded. While a write
// block holds every record, Prometheus sees the exact lag per partition, the stalled partitions, the
// service not ready, and the matching alerts pending; once lifted and fed at a steady rate, it sees
// lag 0, the exact indexed count, an indexed rate near the produced rate, bulk latency series equal
// to the service's own /metrics, and both the new and the deprecated metric names. Every query of
// the Grafana dashboard runs against it without error. (One engine: the scrape does not depend on it.)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Producer } from '@platformatic/kafka';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic, produce, untilCommittedToEnd } from '../helpers/kafka.js';
import { prometheusBinary, type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';
import { withSearch } from '../helpers/search.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';
import { skipUnless } from '../helpers/tools.js';

const engine = stack.engines[0]!;
const skip = skipUnless(prometheusBinary, "the scrape test runs Debian's Prometheus: apt-get install prometheus");
const RATE = 40; // records per second, produced while Prometheus watches
const SECONDS = 10;

async function setWriteBlock(index: string, blocked: boolean): Promise<void> {
  await withSearch(engine.url, async (c) => assert.equal((await c.request('PUT', `/${index}/_settings`, JSON.stringify({ 'index.blocks.write': blocked ? true : null }))).status, 200));
}

/** Polls a query until `check` accepts its samples; returns the last samples. */
async function until(prometheus: RunningPrometheus, expr: string, check: (s: Map<string, number>) => boolean, key = (m: Record<string, string>) => m.partition ?? '', timeoutMs = 30_000): Promise<Map<string, number>> {
  let last = new Map<string, number>();
  const ok = await waitFor(
    async () => {
      last = new Map((await prometheus.query(expr)).map((s) => [key(s.metric), s.value]));
      return check(last);
    },
    timeoutMs,
    500,
  );
  assert.ok(ok, `${expr}: ${JSON.stringify([...last])}`);
  return last;
}

const metricLine = (text: string, name: string): number => Number(text.split('\n').find((l) => l.startsWith(`${name} `))!.split(' ')[1]);

describe(`Prometheus scrape of the service on ${engine.name}`, () => {
  it('exposes per-partition lag, indexed rate, bulk latency and stalls to a real Prometheus, and the alerts see them', { skip }, async () => {
    const topic = uniqueName('scrape');
    await createTopic(topic, 2);
    await withSearch(engine.url, (c) => c.createIndex(topic, {}));
    const groupId = uniqueName('scrape-group');
    const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, [
      '--http.healthIntervalMs=500',
      '--stallTimeoutMs=3000',
      '--retry.initialDelayMs=100',
      '--retry.maxDelayMs=1000',
    ]);
    let prometheus: RunningPrometheus | undefined;
    try {
      assert.ok(await service.consuming(), service.output().slice(-2000));
      const port = /"port":(\d+),"msg":"http endpoints listening"/.exec(service.output())![1]!;
      prometheus = await startPrometheus([`127.0.0.1:${port}`], [path.join(repoRoot, 'deploy', 'prometheus', 'alerts.yml')]);
      // A running service with commits (3 records), then a write block holds the next 12.
      await produce(topic, [0, 0, 1].map((partition, i) => ({ key: `first-${i}`, value: JSON.stringify({ i }), partition })));
      assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), service.output().slice(-2000));
      await setWriteBlock(topic, true);
      await produce(topic, [
        ...Array.from({ length: 7 }, (_, i) => ({ key: `p0-${i}`, value: JSON.stringify({ i }), partition: 0 })),
        ...Array.from({ length: 5 }, (_, i) => ({ key: `p1-${i}`, value: JSON.stringify({ i }), partition: 1 })),
      ]);
      const t = `topic="${topic}"`;

      // Held by the write block: nothing is committed, so the lag is what was produced.
      await until(prometheus, `k2e_consumer_lag{${t}}`, (s) => s.get('0') === 7 && s.get('1') === 5);
      await until(prometheus, 'k2e_stalled_partitions{job="kafka-to-elastic"}', (s) => s.get('') === 2);
      await until(prometheus, 'k2e_ready{job="kafka-to-elastic"}', (s) => s.get('') === 0);
      await until(prometheus, `k2e_systemic_errors_total{${t}}`, (s) => (s.get('') ?? 0) > 0);
      assert.ok(
        await waitFor(async () => {
          const active = new Set((await prometheus!.alerts()).map((a) => a.labels.alertname));
          return ['K2EPartitionStalled', 'K2ESystemicRefusals', 'K2ENotReady'].every((a) => active.has(a));
        }, 30_000),
        JSON.stringify(await prometheus.alerts()),
      );

      await setWriteBlock(topic, false);
      await until(prometheus, `k2e_consumer_lag{${t}}`, (s) => s.get('0') === 0 && s.get('1') === 0);
      await until(prometheus, 'k2e_stalled_partitions{job="kafka-to-elastic"}', (s) => s.get('') === 0);

      // A steady stream at RATE records/s, then one record that cannot be decoded.
      const producer = new Producer({ clientId: 'k2e-test-steady', bootstrapBrokers: [brokers], idempotent: true });
      const startedAt = Date.now() / 1000;
      let producedFor = SECONDS;
      try {
        for (let tick = 0; tick < SECONDS * 10; tick++) {
          const due = startedAt * 1000 + tick * 100;
          if (due > Date.now()) await sleep(due - Date.now());
          await producer.send({ messages: Array.from({ length: RATE / 10 }, (_, i) => ({ topic, key: Buffer.from(`s-${tick}-${i}`), value: Buffer.from(JSON.stringify({ tick, i })), partition: i % 2 })) });
        }
        producedFor = Date.now() / 1000 - startedAt;
        await producer.send({ messages: [{ topic, key: Buffer.from('bad'), value: Buffer.from('not json'), partition: 0 }] });
      } finally {
        await producer.close();
      }
      const indexed = 3 + 12 + RATE * SECONDS;
      assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-2000));
      await until(prometheus, `k2e_records_indexed_total{${t}}`, (s) => s.get('') === indexed);
      await until(prometheus, `k2e_consumer_lag{${t}}`, (s) => s.get('0') === 0 && s.get('1') === 0);

      // The indexed rate over a window inside the steady stream is near the rate the producer achieved
      // (RATE, unless a loaded machine slowed its sends down).
      const produced = (RATE * SECONDS) / Math.max(producedFor, SECONDS);
      const [rate] = await prometheus.query(`sum(rate(k2e_records_indexed_total{${t}}[6s]))`, startedAt + Math.min(8, producedFor - 1));
      assert.ok(rate && rate.value > produced * 0.5 && rate.value < produced * 1.5, `indexed rate ${rate?.value}/s while producing ${produced}/s`);

      // The failure, under the new name and the deprecated one.
      await until(prometheus, `k2e_records_failed_total{${t}}`, (s) => s.get('decode/dead_lettered') === 1, (m) => `${m.error_class}/${m.outcome}`);
      await until(prometheus, `k2e_records_dead_lettered_total{${t}}`, (s) => s.get('decode') === 1, (m) => m.error_class!);

      // Bulk latency: once idle, Prometheus holds what /metrics says.
      const metricsUrl = `http://127.0.0.1:${port}/metrics`;
      const own = await (await fetch(metricsUrl)).text();
      const count = metricLine(own, 'k2e_bulk_duration_seconds_count');
      const sum = metricLine(own, 'k2e_bulk_duration_seconds_sum');
      assert.ok(count >= 2, `bulks: ${count}`);
      await until(prometheus, 'k2e_bulk_duration_seconds_count{job="kafka-to-elastic"}', (s) => s.get('') === count);
      const [scrapedSum] = await prometheus.query('k2e_bulk_duration_seconds_sum{job="kafka-to-elastic"}');
      assert.ok(Math.abs(scrapedSum!.value - sum) < 1e-9, `sum ${scrapedSum!.value} vs ${sum}`);
      const [p99] = await prometheus.query('histogram_quantile(0.99, sum by (le) (rate(k2e_bulk_duration_seconds_bucket{job="kafka-to-elastic"}[30s])))', startedAt + SECONDS);
      assert.ok(p99 && p99.value > 0 && p99.value <= 10, `p99 bulk latency ${p99?.value}`);

      // Renamed gauges: both names scraped, with the same value; the old HELP names the new one.
      const [buffered] = await prometheus.query('k2e_buffered_records{job="kafka-to-elastic"}');
      const [inFlight] = await prometheus.query('k2e_in_flight_records{job="kafka-to-elastic"}');
      assert.equal(buffered?.value, inFlight?.value);
      assert.match((await prometheus.help('k2e_in_flight_records')) ?? '', /^DEPRECATED, use k2e_buffered_records\./);
      assert.match((await prometheus.help('k2e_in_flight_bytes')) ?? '', /^DEPRECATED, use k2e_buffered_bytes\./);
      assert.match((await prometheus.help('k2e_records_dead_lettered_total')) ?? '', /^DEPRECATED, use k2e_records_failed_total/);

      // Every dashboard query is valid PromQL and the main panels have data.
      const dashboard = JSON.parse(readFileSync(path.join(repoRoot, 'deploy', 'grafana', 'kafka-to-elastic.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
      // rate() and increase() need two samples of the failure counter, which appeared last.
      await until(prometheus, `count_over_time(k2e_records_failed_total{${t}}[1m])`, (s) => (s.get('') ?? 0) >= 3, () => '');
      const empty: string[] = [];
      for (const panel of dashboard.panels) {
        for (const target of panel.targets ?? []) {
          const expr = target.expr.replaceAll('$__rate_interval', '30s').replaceAll('$job', 'kafka-to-elastic').replaceAll('$instance', '.*').replaceAll('$topic', topic);
          const result = await prometheus.query(expr);
          if (result.length === 0) empty.push(`${panel.title}: ${target.expr}`);
        }
      }
      // Only what this run never produced may be empty: superseded versions and ignored tombstones.
      assert.deepEqual(empty.filter((e) => !/superseded|tombstones/.test(e)), []);
    } finally {
      await prometheus?.stop();
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
    }
  });
});
