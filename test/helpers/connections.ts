// For the connection tests: run the real service with a config file (TLS, SASL, endpoints…), feed it
// records over the plain listener and wait until the engine has them; or expect the initialization
// check to fail with one clear line.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { createTopic, produce } from './kafka.js';
import { refreshAndCount } from './search.js';
import { type RunningService, startService, waitFor } from './service.js';
import { brokers, uniqueName } from './stack.js';

const dir = mkdtempSync(path.join(tmpdir(), 'k2e-connections-'));

/** Writes a file (a config, a secret) into the test's temporary folder; returns its path. */
export function tempFile(name: string, content: string): string {
  const file = path.join(dir, `${uniqueName(name)}`);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
}

export interface ConnectionRun {
  kafka?: Record<string, unknown>;
  elastic?: Record<string, unknown>;
  /** Engine URL the test reads the index from (not through the service's path). */
  readUrl: string;
  env?: Record<string, string>;
  /** Use this index (e.g. a least-privilege one created beforehand) instead of a new one. */
  index?: string;
  records?: number;
}

/**
 * Starts the service with the given kafka/elastic settings, produces `records` records and waits
 * until all are searchable; returns the service (still running) and its output.
 */
export async function indexesThrough(run: ConnectionRun): Promise<{ service: RunningService; topic: string; index: string }> {
  const topic = uniqueName('conn');
  const index = run.index ?? topic;
  const records = run.records ?? 20;
  await createTopic(topic, 1);
  await produce(topic, Array.from({ length: records }, (_, i) => ({ key: `k-${i}`, value: JSON.stringify({ i }) })));
  const config = tempFile('config.yaml', stringify({ kafka: { brokers: [brokers], topics: [topic], groupId: uniqueName('g'), ...run.kafka }, elastic: { index, ...run.elastic }, maxHeapMb: 0 }));
  const service = startService({ K2E_CONFIG: config, ...run.env }, ['--init.initialDelayMs=200', '--init.maxDelayMs=1000', '--http.healthIntervalMs=500']);
  const done = await waitFor(async () => (await refreshAndCount(run.readUrl, index).catch(() => 0)) === records, 60_000);
  if (!done) {
    await service.stop();
    assert.fail(`the service did not index ${records} records into ${index}:\n${service.output().slice(-3000)}`);
  }
  return { service, topic, index };
}

/**
 * Starts the service, expects it to exit 1 within `withinMs`, and returns the initialization check's
 * failure: exactly one line, no stack trace, none of the given secrets anywhere in the output.
 */
export async function initFailure(run: Omit<ConnectionRun, 'readUrl'>, secrets: string[] = [], budgetMs = 4000, withinMs = 30_000): Promise<string> {
  const topic = uniqueName('conn-fail');
  await createTopic(topic, 1);
  const config = tempFile('config.yaml', stringify({ kafka: { brokers: [brokers], topics: [topic], groupId: uniqueName('g'), ...run.kafka }, elastic: { index: run.index ?? topic, ...run.elastic }, maxHeapMb: 0 }));
  const service = startService({ K2E_CONFIG: config, K2E_LOG_FORMAT: 'json', ...run.env }, [`--init.budgetMs=${budgetMs}`, '--init.initialDelayMs=200', '--init.maxDelayMs=1000']);
  const started = Date.now();
  const code = await Promise.race([service.exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), withinMs).unref())]);
  if (code === 'timeout') await service.kill();
  const output = service.output();
  assert.equal(code, 1, `expected exit 1 within ${withinMs} ms (after ${Date.now() - started} ms):\n${output.slice(-3000)}`);
  for (const secret of secrets) assert.ok(!output.includes(secret), `a secret appeared in the output:\n${output}`);
  assert.doesNotMatch(output, /\n\s+at [\w.<]+ \(|\bat file:\/\//, `a stack trace in the output:\n${output}`);
  const fatal = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string })
    .find((l) => l.level === 60);
  assert.ok(fatal, `no fatal line:\n${output}`);
  assert.ok(!fatal.msg.includes('\n'), `more than one line:\n${fatal.msg}`);
  return fatal.msg;
}
