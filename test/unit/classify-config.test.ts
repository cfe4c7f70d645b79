import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const required = { K2E_TOPICS: 't', K2E_INDEX: 'docs' };

describe('errors.classify', () => {
  it('defaults to no overrides', () => {
    assert.deepEqual(loadConfig({ env: required }).errors.classify, {});
  });

  it('takes error type → class from a file and from flags', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'k2e-classify-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'errors:\n  classify:\n    mapper_parsing_exception: systemic\n    index_not_found_exception: rejected\n');
    const config = loadConfig({ file, env: required, flags: ['--errors.classify.es_rejected_execution_exception=systemic'] });
    assert.deepEqual(config.errors.classify, {
      mapper_parsing_exception: 'systemic',
      index_not_found_exception: 'rejected',
      es_rejected_execution_exception: 'systemic',
    });
  });

  it('refuses an unknown class and a key that is not an error type', () => {
    assert.throws(() => loadConfig({ env: required, flags: ['--errors.classify.mapper_parsing_exception=dlq'] }), (e: Error) => e instanceof ConfigError && /systemic/.test(e.message));
    assert.throws(() => loadConfig({ env: required, flags: ['--errors.classify.Mapper Parsing=systemic'] }), ConfigError);
  });
});
