// `npm run stack -- clean`: deletes what tests left on the stack (topics, empty groups, indices, index
// templates, on the broker and every engine), and nothing else; `--dry-run` only lists it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isTestName } from '../../scripts/stack/clean.js';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic, withAdmin } from '../helpers/kafka.js';
import { waitFor } from '../helpers/service.js';
import { stack, uniqueName } from '../helpers/stack.js';

/** A name as a user would pick it: no test timestamp in it. */
const userName = (kind: string): string => `k2e-keep-${kind}-${process.pid}`;

function runClean(...args: string[]): { code: number | null; output: string } {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'stack', 'cli.js'), 'clean', ...args], { encoding: 'utf8', timeout: 180_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

async function engine(url: string, method: string, target: string, body?: object): Promise<number> {
  const response = await fetch(new URL(target, url), {
    method,
    ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  await response.arrayBuffer();
  return response.status;
}

const topicsNow = (): Promise<string[]> => withAdmin((admin) => admin.listTopics());
const groupsNow = async (): Promise<string[]> => [...(await withAdmin((admin) => admin.listGroups())).keys()];

describe('npm run stack -- clean', () => {
  const testTopic = uniqueName('clean');
  const testGroup = uniqueName('clean-group');
  const keptTopic = userName('topic');
  const keptGroup = userName('group');
  const keptIndex = userName('index');
  const keptTemplate = userName('template');

  before(async () => {
    await createTopic(testTopic, 1);
    await createTopic(`${testTopic}.dlq`, 1);
    await createTopic(keptTopic, 1);
    // Groups with committed offsets and no members: what a stopped test instance leaves.
    for (const groupId of [testGroup, keptGroup]) {
      await withAdmin((admin) => admin.alterConsumerGroupOffsets({ groupId, topics: [{ name: testTopic, partitionOffsets: [{ partition: 0, offset: 0n }] }] }));
    }
    for (const { url } of stack.engines) {
      for (const index of [testTopic, keptIndex]) assert.equal(await engine(url, 'PUT', `/${index}`), 200, `creating ${index} on ${url}`);
      for (const template of [`k2e-${testTopic}`, keptTemplate]) {
        assert.equal(await engine(url, 'PUT', `/_index_template/${template}`, { index_patterns: [`${template}-*`], priority: 1 }), 200, `creating template ${template} on ${url}`);
      }
    }
  });

  after(async () => {
    await withAdmin(async (admin) => {
      await admin.deleteTopics({ topics: [keptTopic] }).catch(() => undefined);
      await admin.deleteGroups({ groups: [keptGroup] }).catch(() => undefined);
    });
    for (const { url } of stack.engines) {
      await engine(url, 'DELETE', `/${keptIndex}`).catch(() => undefined);
      await engine(url, 'DELETE', `/_index_template/${keptTemplate}`).catch(() => undefined);
    }
  });

  it('--dry-run lists what it would delete and deletes nothing', async () => {
    const { code, output } = runClean('--dry-run');
    assert.equal(code, 0, output);
    assert.match(output, /would delete [1-9]\d* topics/, output);
    assert.match(output, /would delete [1-9]\d* consumer groups/, output);
    for (const { name } of stack.engines) assert.match(output, new RegExp(`would delete [1-9]\\d* ${name} indices`), output);
    assert.doesNotMatch(output, /k2e-keep-/, 'a user-named resource is among those it would delete');
    assert.ok((await topicsNow()).includes(testTopic), 'the dry run deleted the topic');
    for (const { url } of stack.engines) assert.equal(await engine(url, 'HEAD', `/${testTopic}`), 200, `the dry run deleted the index on ${url}`);
  });

  it("deletes the tests' topics, groups, indices and templates on the broker and every engine, and keeps the rest", async () => {
    const { code, output } = runClean();
    assert.equal(code, 0, output);
    assert.match(output, /deleted [1-9]\d* topics/, output);

    // Topic deletion completes on the controller; the broker's metadata follows within moments.
    let topics = await topicsNow();
    await waitFor(async () => !(topics = await topicsNow()).some((t) => isTestName(t)), 15_000, 200);
    assert.ok(!topics.includes(testTopic) && !topics.includes(`${testTopic}.dlq`), `the test's topics are still there:\n${output}`);
    assert.deepEqual(topics.filter((t) => isTestName(t)), [], `test topics left:\n${output}`);
    assert.ok(topics.includes(keptTopic), 'a user-named topic was deleted');
    const groups = await groupsNow();
    assert.ok(!groups.includes(testGroup), `the test's group is still there:\n${output}`);
    assert.ok(groups.includes(keptGroup), 'a user-named group was deleted');

    for (const { url } of stack.engines) {
      assert.equal(await engine(url, 'HEAD', `/${testTopic}`), 404, `the test's index is still on ${url}`);
      assert.equal(await engine(url, 'GET', `/_index_template/k2e-${testTopic}`), 404, `the test's template is still on ${url}`);
      assert.equal(await engine(url, 'HEAD', `/${keptIndex}`), 200, `a user-named index was deleted on ${url}`);
      assert.equal(await engine(url, 'GET', `/_index_template/${keptTemplate}`), 200, `a user-named template was deleted on ${url}`);
    }

    // Run again: nothing left to delete.
    const again = runClean('--dry-run');
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /would delete 0 topics/, again.output);
    for (const { name } of stack.engines) assert.match(again.output, new RegExp(`would delete 0 ${name} indices`), again.output);
  });
});
