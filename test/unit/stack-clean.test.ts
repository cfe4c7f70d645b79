import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTestName } from '../../scripts/stack/clean.js';
import { uniqueName } from '../helpers/stack.js';

describe('npm run stack -- clean: which names are the tests\'', () => {
  it('matches what uniqueName makes, alone or inside a longer name', () => {
    const topic = uniqueName('churn');
    for (const name of [topic, `${topic}.dlq`, `${topic}.dlq.dlq`, uniqueName('churn-group'), `orders-${uniqueName('route')}-2026.11.27`, `k2e-logs-${uniqueName('ds')}-any`]) {
      assert.equal(isTestName(name), true, name);
    }
    assert.equal(isTestName('churn-mwyiqjh6-n6xtq', Date.UTC(2026, 10, 27)), true);
  });

  it("leaves the user's names, the engine's own and names whose timestamp is not a recent time", () => {
    for (const name of ['orders', 'orders.dlq', 'logs-2026.11.27', 'tweets-v2', 'kafka-to-elastic', 'demo-tweets', '__consumer_offsets', '.kibana_1', '.ds-logs-mwyiqjh6-n6xtq-2026.11.27-000001']) {
      assert.equal(isTestName(name), false, name);
    }
    // 8 base-36 characters, but not a time between 2025 and tomorrow.
    assert.equal(isTestName('orders-12345678-abc'), false);
    assert.equal(isTestName('orders-zzzzzzzz-abc'), false);
    // Tomorrow is the limit: a name from the future is not the tests'.
    const inAWeek = (Date.now() + 7 * 86_400_000).toString(36);
    assert.equal(isTestName(`churn-${inAWeek}-abcde`), false);
    // The segment must stand between separators.
    assert.equal(isTestName('xchurnmwyiqjh6-n6xtq', Date.UTC(2026, 10, 27)), false);
    assert.equal(isTestName('churn-mwyiqjh6-n6xtqlong', Date.UTC(2026, 10, 27)), false);
  });
});
