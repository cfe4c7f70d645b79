import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, configFromEnv } from '../../src/config/env.js';

describe('configFromEnv', () => {
  it('applies defaults and splits lists', () => {
    const config = configFromEnv({ K2E_TOPICS: 'a, b', K2E_INDEX: 'docs' });
    assert.deepEqual(config.kafka.brokers, ['127.0.0.1:9092']);
    assert.deepEqual(config.kafka.topics, ['a', 'b']);
    assert.equal(config.kafka.groupId, 'kafka-to-elastic');
    assert.equal(config.elastic.url, 'http://127.0.0.1:9200');
    assert.equal(config.http.port, 8080);
  });

  it('names the variable, its value and what is allowed', () => {
    assert.throws(() => configFromEnv({ K2E_INDEX: 'docs' }), (e: Error) => e instanceof ConfigError && /K2E_TOPICS is not set/.test(e.message));
    assert.throws(() => configFromEnv({ K2E_TOPICS: 't', K2E_INDEX: 'Docs' }), /K2E_INDEX is "Docs": lowercase/);
    assert.throws(() => configFromEnv({ K2E_TOPICS: 't', K2E_INDEX: 'd', K2E_HTTP_PORT: 'abc' }), /K2E_HTTP_PORT is "abc"/);
    assert.throws(() => configFromEnv({ K2E_TOPICS: 't', K2E_INDEX: 'd', K2E_BROKERS: 'nohost' }), /K2E_BROKERS is \["nohost"\]: expected host:port/);
    assert.throws(() => configFromEnv({ K2E_TOPICS: 't', K2E_INDEX: 'd', K2E_ELASTIC_URL: 'not a url' }), /K2E_ELASTIC_URL is "not a url"/);
  });
});
