// What an operator sees: /health, /ready, /status with lag and history, Prometheus metrics with the
// right counts, secrets never in logs or /status, and --help for every command.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic, produce } from '../helpers/kafka.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const bin = path.join(repoRoot, 'bin', 'kafka-to-elastic.js');
const SECRETS = { password: 'hunter2-p4ss-Zq9', apiKey: 'api-k3y-Xw7-secret', sasl: 'sasl-s3cret-Vv1' };

const portOf = (output: string): string | undefined => /"port":(\d+),"msg":"http endpoints listening"/.exec(output)?.[1];
const metricValue = (text: string, name: string, labels: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
};

describe(`observability on ${engine.name}`, () => {
  it('serves health, readiness, status with lag and history, and metrics with the right counts', async () => {
    const topic = uniqueName('observe');
    await createTopic(topic, 3);
    await produce(topic, Array.from({ length: 600 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i }) })));
    await produce(topic, [{ key: 'bad', value: 'not json' }]);
    const service = startService(
      { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('observe-group'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_ELASTIC_USERNAME: 'k2e', K2E_ELASTIC_PASSWORD: SECRETS.password },
      ['--http.healthIntervalMs=500'],
    );
    try {
      assert.ok(await waitFor(async () => (await service.status())?.indexed === 600, 60_000), service.output().slice(-2000));
      const base = `http://127.0.0.1:${portOf(service.output())}`;
      assert.equal((await fetch(`${base}/health`)).status, 200);
      assert.ok(await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, 20_000));

      // Lag reaches 0 once everything is committed and the end offsets were read again.
      assert.ok(
        await waitFor(async () => {
          const s = (await (await fetch(`${base}/status`)).json()) as { lag: number | null; history: unknown[] };
          return s.lag === 0 && s.history.length >= 2;
        }, 30_000),
      );
      const status = (await (await fetch(`${base}/status`)).json()) as {
        partitions: { partition: number; committed: string; end: string; lag: string; owner: string }[];
        sink: { state: string };
        deadLettered: number;
        history: { t: number; indexedPerSec: number }[];
      };
      assert.equal(status.partitions.length, 3);
      for (const p of status.partitions) {
        assert.equal(p.lag, '0');
        assert.equal(p.committed, p.end);
        assert.ok(p.owner.length > 0);
      }
      assert.equal(status.sink.state, 'ok');
      assert.equal(status.deadLettered, 1);
      assert.ok(status.history.some((h) => h.indexedPerSec > 0) || status.history.length > 0);

      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.equal(metricValue(metrics, 'k2e_records_consumed_total', `topic="${topic}"`), 601);
      assert.equal(metricValue(metrics, 'k2e_records_indexed_total', `topic="${topic}"`), 600);
      assert.equal(metricValue(metrics, 'k2e_records_dead_lettered_total', `topic="${topic}",error_class="decode"`), 1);
      // Observed once per partition's run in each acknowledged bulk (its oldest record), not per record.
      const delays = metricValue(metrics, 'k2e_event_to_indexed_seconds_count', '') ?? 0;
      assert.ok(delays >= 3 && delays <= 600, `k2e_event_to_indexed_seconds_count ${delays}`);
      assert.ok((metricValue(metrics, 'k2e_bulk_duration_seconds_count', '') ?? 0) > 0);
      assert.ok((metricValue(metrics, 'k2e_commit_duration_seconds_count', '') ?? 0) > 0);
      for (let p = 0; p < 3; p++) assert.equal(metricValue(metrics, 'k2e_consumer_lag', `topic="${topic}",partition="${p}"`), 0);
      assert.equal(metricValue(metrics, 'k2e_assigned_partitions', ''), 3);
      assert.equal(metricValue(metrics, 'k2e_ready', ''), 1);
      assert.match(metrics, /k2e_process_resident_memory_bytes/);

      const everything = service.output() + JSON.stringify(status) + metrics;
      assert.ok(!everything.includes(SECRETS.password), 'the password leaked into logs, /status or /metrics');
    } finally {
      assert.equal(await service.stop(), 0);
    }
    assert.ok(!service.output().includes(SECRETS.password));
  });

  it('runs over SASL/PLAIN with an API key, and neither secret reaches the logs, /status or /metrics', { skip: stack.sasl ? false : 'no SASL listener in this stack' }, async () => {
    const sasl = stack.sasl!;
    const topic = uniqueName('sasl');
    await createTopic(topic, 1);
    await produce(topic, Array.from({ length: 20 }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i }) })));
    const dir = mkdtempSync(path.join(tmpdir(), 'k2e-sasl-'));
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, `kafka:\n  brokers: [${sasl.brokers}]\n  sasl: { mechanism: PLAIN, username: ${sasl.username}, password: ${sasl.password} }\n`);
    const service = startService({ K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('sasl-group'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic, K2E_ELASTIC_API_KEY: SECRETS.apiKey, K2E_LOG_LEVEL: 'debug' }, [
      '--config',
      file,
    ]);
    let seen: string;
    try {
      assert.ok(await waitFor(async () => (await service.status())?.indexed === 20, 60_000), service.output().slice(-2000));
      const base = `http://127.0.0.1:${portOf(service.output())}`;
      seen = (await (await fetch(`${base}/status`)).text()) + (await (await fetch(`${base}/metrics`)).text());
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
    }
    for (const secret of [sasl.password, SECRETS.apiKey]) {
      assert.ok(!(service.output() + seen).includes(secret), `a secret leaked: ${secret}`);
    }
  });

  it('masks every secret in config check and never prints it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k2e-secrets-'));
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, `kafka:\n  topics: [t]\n  sasl: { mechanism: SCRAM-SHA-512, username: svc, password: ${SECRETS.sasl} }\nelastic:\n  index: i\n  apiKey: ${SECRETS.apiKey}\n  password: ${SECRETS.password}\n`);
    const result = spawnSync(process.execPath, [bin, 'config', 'check', '--config', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const printed = result.stdout + result.stderr;
    for (const secret of Object.values(SECRETS)) assert.ok(!printed.includes(secret), `${secret} printed`);
    const config = JSON.parse(result.stdout) as { kafka: { sasl: { password: string; username: string } }; elastic: { apiKey: string } };
    assert.equal(config.kafka.sasl.password, '***');
    assert.equal(config.kafka.sasl.username, 'svc');
    assert.equal(config.elastic.apiKey, '***');
  });

  it('documents every command with --help', () => {
    for (const command of [['run'], ['status'], ['lag'], ['replay'], ['config', 'check'], []]) {
      const result = spawnSync(process.execPath, [bin, ...command, '--help'], { encoding: 'utf8' });
      assert.equal(result.status, 0, `${command.join(' ')} --help`);
      assert.match(result.stdout, /usage: kafka-to-elastic/);
    }
  });
});
