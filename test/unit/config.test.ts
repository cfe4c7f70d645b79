import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, maskSecrets } from '../../src/config/load.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'k2e-config-'));
const file = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
};

describe('loadConfig', () => {
  it('applies defaults and splits lists from the environment', () => {
    const config = loadConfig({ env: { K2E_TOPICS: 'a, b', K2E_INDEX: 'docs' } });
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
    assert.deepEqual(config.kafka.topics, ['a', 'b']);
    assert.equal(config.kafka.groupId, 'kafka-to-elastic');
    assert.equal(config.elastic.url, 'http://127.0.0.1:9200');
    assert.equal(config.delivery, 'at-least-once');
    assert.equal(config.document.id, 'key');
    assert.equal(config.http.port, 8080);
  });

  it('layers file < environment < flags', () => {
    const yaml = file('c.yaml', 'kafka:\n  topics: [from-file]\n  groupId: file-group\nelastic:\n  index: file-index\nbatch:\n  maxDocs: 10\n');
    const config = loadConfig({ file: yaml, env: { K2E_GROUP_ID: 'env-group' }, flags: ['--index', 'flag-index', '--batch.maxDocs=20'] });
    assert.deepEqual(config.kafka.topics, ['from-file']);
    assert.equal(config.kafka.groupId, 'env-group');
    assert.equal(config.elastic.index, 'flag-index');
    assert.equal(config.batch.maxDocs, 20);
    const json = file('c.json', JSON.stringify({ kafka: { topics: ['j'] }, elastic: { index: 'j' }, document: { id: 'field:user.id' } }));
    assert.equal(loadConfig({ file: json, env: {} }).document.id, 'field:user.id');
  });

  it('names the source, the key, the value and what is allowed', () => {
    const fails = (options: Parameters<typeof loadConfig>[0], pattern: RegExp): void => {
      assert.throws(() => loadConfig(options), (e: Error) => e instanceof ConfigError && pattern.test(e.message), pattern.source);
    };
    fails({ env: { K2E_INDEX: 'docs' } }, /K2E_TOPICS \/ --kafka.topics \(kafka.topics\) is not set/);
    fails({ env: { K2E_TOPICS: 't', K2E_INDEX: 'Docs' } }, /K2E_INDEX \(elastic.index\) is "Docs": lowercase/);
    fails({ env: { K2E_TOPICS: 't', K2E_INDEX: 'd', K2E_HTTP_PORT: 'abc' } }, /K2E_HTTP_PORT \(http.port\) is "abc"/);
    fails({ env: { K2E_TOPICS: 't', K2E_INDEX: 'd', K2E_BROKERS: 'nohost' } }, /K2E_BROKERS \(kafka.brokers\) is \["nohost"\]: expected host:port/);
    fails({ env: { K2E_TOPICS: 't', K2E_INDEX: 'd', K2E_ELASTIC_URL: 'not a url' } }, /K2E_ELASTIC_URL \(elastic.url\) is "not a url"/);
    fails({ env: { K2E_TOPICS: 't', K2E_INDEX: 'd' }, flags: ['--delivery=sometimes'] }, /--delivery \(delivery\) is "sometimes": .*at-least-once/);
    const typo = file('typo.yaml', 'kafka:\n  topics: [t]\n  grupId: x\nelastic:\n  index: d\n');
    fails({ file: typo, env: {} }, /typo.yaml: kafka.grupId: unknown key \(did you mean kafka.groupId\?\)/);
    fails({ file: path.join(tmp, 'missing.yaml'), env: {} }, /missing.yaml cannot be read/);
  });

  it('masks secrets', () => {
    const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'd', K2E_ELASTIC_PASSWORD: 'hunter2', K2E_ELASTIC_USERNAME: 'elastic' } });
    const printed = JSON.stringify(maskSecrets(config));
    assert.ok(!printed.includes('hunter2'));
    assert.match(printed, /"password":"\*\*\*"/);
    assert.match(printed, /"username":"elastic"/);
    assert.equal(config.elastic.password, 'hunter2', 'masking must not change the config itself');
  });
});
