// The README's quick start (`npm run demo`) must keep working: run it briefly and check that the
// documents it produced became searchable.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { refreshAndCount } from '../helpers/search.js';
import { stack, uniqueName } from '../helpers/stack.js';

it('the quick-start demo produces tweets and the service makes them searchable', () => {
  const topic = uniqueName('demo');
  const run = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'demo.js'), '--seconds', '4', '--rate', '100', '--topic', topic], {
    env: { ...process.env, K2E_HTTP_PORT: '0' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  const summary = /stopped: produced (\d+), searchable (\d+)/.exec(run.stdout);
  assert.ok(summary, run.stdout);
  assert.ok(Number(summary[1]) >= 100, `produced only ${summary[1]}`);
  assert.equal(summary[2], summary[1], 'every produced tweet must be searchable when the demo stops');
  return refreshAndCount(stack.engines[0]!.url, topic).then((count) => assert.equal(count, Number(summary[1])));
});
