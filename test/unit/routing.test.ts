// Where records go, as pure logic: index templates expanded from the record (never the clock),
// fallbacks, data stream names, topic patterns; and `config check` refusing in one line what cannot work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { indexTemplateProblem } from '../../src/config/template-checks.js';
import { dataStreamTemplate } from '../../src/sink/index-setup.js';
import { compileTopicPattern, matchingTopics } from '../../src/source/topic-pattern.js';
import { compileTarget, resolveTarget } from '../../src/transform/target.js';

const headers = new Map([['tenant', Buffer.from('Acme')]]);
const record = (timestamp: number, topic = 'Orders') => ({ topic, timestamp: BigInt(timestamp), headers });
const ctx = (value: Record<string, unknown> | undefined, timestamp = Date.UTC(2026, 0, 31, 23, 59, 59)) => ({ record: record(timestamp), key: 'K-1', value });

describe('index templates', () => {
  it('names the index from the record timestamp (UTC), topic, key, fields and headers, lower-cased', () => {
    const target = compileTarget({ index: '{topic}-{header:tenant}-{key}-{field:customer.region}-{yyyy.MM.dd.HH}' });
    assert.deepEqual(resolveTarget(target, ctx({ customer: { region: 'EU' } })), { ok: true, index: 'orders-acme-k-1-eu-2026.01.31.23' });
    // The same record read again (whenever) names the same index.
    assert.deepEqual(resolveTarget(target, ctx({ customer: { region: 'EU' } })), resolveTarget(target, ctx({ customer: { region: 'EU' } })));
  });

  it('formats a date field, epoch millis or text', () => {
    const target = compileTarget({ index: 'events-{field:created|yyyy-MM}' });
    assert.deepEqual(resolveTarget(target, ctx({ created: Date.UTC(2025, 11, 3) })), { ok: true, index: 'events-2025-12' });
    assert.deepEqual(resolveTarget(target, ctx({ created: '2024-02-29T10:00:00Z' })), { ok: true, index: 'events-2024-02' });
  });

  it('a record whose index cannot be named fails, or goes to the fallback', () => {
    const strict = compileTarget({ index: 'orders-{field:region}' });
    const missing = resolveTarget(strict, ctx({}));
    assert.equal(missing.ok, false);
    assert.equal(!missing.ok && missing.errorType, 'index_unresolved');
    // "_" may not start an index name: the value makes an invalid name.
    assert.equal(resolveTarget(compileTarget({ index: '{field:region}-orders' }), ctx({ region: '_x' })).ok, false);
    const lenient = compileTarget({ index: 'orders-{field:region}', fallbackIndex: '{topic}-unrouted' });
    assert.deepEqual(resolveTarget(lenient, ctx({})), { ok: true, index: 'orders-unrouted' });
  });

  it('refuses templates that cannot work, in one line', () => {
    assert.match(indexTemplateProblem('orders-{yyyy.MM.dd') ?? '', /never closed/);
    assert.match(indexTemplateProblem('Orders-{topic}') ?? '', /upper-case/);
    assert.match(indexTemplateProblem('orders-{wallclock}') ?? '', /\{topic\}/);
    assert.equal(indexTemplateProblem('orders-{yyyy.MM.dd}'), undefined);
  });

  it('names data streams <type>-<dataset>-<namespace>, values made safe for the scheme', () => {
    const target = compileTarget({ dataStream: { type: 'logs', dataset: 'web', namespace: '{field:env}' } });
    assert.deepEqual(resolveTarget(target, ctx({ env: 'QA-eu' })), { ok: true, index: 'logs-web-qa_eu' });
    const { body } = dataStreamTemplate({ type: 'logs', dataset: 'web', namespace: '{field:env}', installTemplate: true }, undefined);
    assert.deepEqual(body.index_patterns, ['logs-web-*']);
    assert.deepEqual(body.data_stream, {});
  });
});

describe('topic patterns', () => {
  it('match whole names, never internal or dead-letter topics', () => {
    const names = ['orders.eu', 'orders.eu.dlq', 'orders.us', 'xorders.eu', '__consumer_offsets', 'orders.dlq'];
    assert.deepEqual(matchingTopics(names, compileTopicPattern('orders\\..*'), '{topic}.dlq'), ['orders.dlq', 'orders.eu', 'orders.us']);
    assert.deepEqual(matchingTopics(['a', 'a-failed', 'b'], compileTopicPattern('.*'), '{topic}-failed'), ['a', 'b']);
  });
});

describe('config check', () => {
  const bin = path.join(repoRoot, 'bin', 'kafka-to-elastic.js');
  const check = (...flags: string[]) => spawnSync(process.execPath, [bin, 'config', 'check', '--topics', 't', ...flags], { encoding: 'utf8', env: { ...process.env, K2E_CONFIG: '' } });
  const refusal = (result: ReturnType<typeof check>): string[] => result.stderr.trim().split('\n').slice(1);

  for (const [name, flags, pattern] of [
    ['a bad template', ['--index=orders-{yyyy.MM.dd'], /^ {2}--index \(elastic\.index\) is "orders-\{yyyy\.MM\.dd": .*never closed$/],
    ['external versioning with update', ['--index=o', '--document.action=update', '--document.version=offset'], /document\.version.*external versioning cannot apply to update/],
    ['a data stream with index', ['--elastic.dataStream.dataset=web', '--document.action=index'], /append-only and takes create only/],
    ['a pipeline with upsert', ['--index=o', '--elastic.pipeline=p', '--document.action=upsert'], /ingest pipelines run for index and create only/],
    ['topics and a pattern', ['--index=o', '--kafka.topicPattern=t.*'], /kafka\.topics and kafka\.topicPattern are both set/],
    ['Debezium with create', ['--index=o', '--decode.envelope=debezium', '--document.action=create'], /Debezium u events rewrite rows/],
  ] as const) {
    it(`explains ${name} in one line (exit 2)`, () => {
      const result = check(...flags);
      assert.equal(result.status, 2, result.stderr);
      const lines = refusal(result);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, pattern);
    });
  }

  it('accepts a routing configuration', () => {
    const result = check('--index={topic}-{yyyy.MM.dd}', '--document.action=upsert', '--document.routing=key', '--elastic.fallbackIndex={topic}-unrouted');
    assert.equal(result.status, 0, result.stderr);
  });
});
