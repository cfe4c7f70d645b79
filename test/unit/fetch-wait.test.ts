import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fetchWait } from '../../src/source/fetch-loop.js';

describe('fetchWait: what a fetch asks the broker to wait for', () => {
  const defaults = { minBytes: 262_144, minBytesWaitTime: 100, maxWaitTime: 500 };

  it('long-polls for the first byte after an empty answer (or before any), so a record after a quiet spell is not held back', () => {
    assert.deepEqual(fetchWait(false, defaults), { minBytes: 1, maxWaitMs: 500 });
  });

  it('gathers minBytes for at most minBytesWaitTime while records flow', () => {
    assert.deepEqual(fetchWait(true, defaults), { minBytes: 262_144, maxWaitMs: 100 });
  });

  it('minBytes 1 is Kafka\'s default behaviour: always answer as soon as anything is there', () => {
    assert.deepEqual(fetchWait(true, { ...defaults, minBytes: 1 }), { minBytes: 1, maxWaitMs: 500 });
  });

  it('never waits longer for minBytes than an empty fetch would', () => {
    assert.deepEqual(fetchWait(true, { ...defaults, minBytesWaitTime: 2000 }), { minBytes: 262_144, maxWaitMs: 500 });
  });
});
