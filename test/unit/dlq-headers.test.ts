// errors.dlqHeaders: which headers of a failed record its dead letter carries. By default credentials
// (authorization, cookies, anything named like a token, secret or password) stay behind, in any case;
// headers the configuration reads go along so a re-drive makes the same document.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { dlqHeaderFilter, headersReadBy } from '../../src/dead-letter/header-filter.js';

const NAMES = ['traceparent', 'tenant', 'Authorization', 'proxy-authorization', 'Cookie', 'set-cookie', 'X-Auth-Token', 'refresh_token', 'client-secret', 'X-Password', 'db-passwd', 'x-api-key', 'ApiKey', 'content-type', 'k2e.source.topic', 'session-id'];
const kept = (filter: (name: string) => boolean): string[] => NAMES.filter(filter);

describe('dlqHeaderFilter', () => {
  it('by default drops authorization, cookies and names containing token, secret or password, in any case', () => {
    assert.deepEqual(kept(dlqHeaderFilter(undefined)), ['traceparent', 'tenant', 'content-type', 'k2e.source.topic']);
  });

  it('all copies everything, none nothing', () => {
    assert.deepEqual(kept(dlqHeaderFilter('all')), NAMES);
    assert.deepEqual(kept(dlqHeaderFilter('none', new Set(['tenant']))), []);
  });

  it('a list copies exactly those names (any case), a credential too when listed', () => {
    assert.deepEqual(kept(dlqHeaderFilter(['TRACEPARENT', 'authorization'])), ['traceparent', 'Authorization']);
  });

  it('headers the configuration reads go along with the default and with a list', () => {
    const read = new Set(['X-Auth-Token']);
    assert.ok(dlqHeaderFilter(undefined, read)('x-auth-token'));
    assert.ok(dlqHeaderFilter(['traceparent'], read)('X-Auth-Token'));
    assert.ok(!dlqHeaderFilter(undefined, read)('Authorization'));
  });
});

describe('headersReadBy', () => {
  it('finds {header:<name>} in templates and transform.add, and a header version', () => {
    const config = loadConfig({
      env: { K2E_TOPICS: 't' },
      flags: ['--elastic.index=orders-{header:tenant}', '--transform.add.trace={header:traceparent}', '--document.version=header:x-version-token'],
    });
    assert.deepEqual([...headersReadBy(config)].sort(), ['tenant', 'traceparent', 'x-version-token']);
    assert.deepEqual([...headersReadBy(loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'd' } }))], []);
  });
});
