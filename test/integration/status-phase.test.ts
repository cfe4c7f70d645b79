// Honest status: while the start-up check waits for a broker that is down, /status says
// phase "initializing" and reachability unknown (null), never "reachable"; once consuming, phase
// "running", both reachable after the first probe, the version in /status and k2e_build_info = 1
// in /metrics.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic } from '../helpers/kafka.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const portOf = (output: string): string | undefined => /"port":(\d+),"msg":"http endpoints listening"/.exec(output)?.[1];

interface Status {
  phase?: string;
  version?: string;
  ready?: boolean;
  reachable?: { kafka: boolean | null; searchEngine: boolean | null };
}

async function statusOf(output: () => string): Promise<Status> {
  let status: Status | undefined;
  assert.ok(
    await waitFor(async () => {
      const port = portOf(output());
      if (!port) return false;
      status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Status;
      return true;
    }, 30_000),
    output().slice(-2000),
  );
  return status!;
}

describe('/status phase and reachability', () => {
  it('initializing and unknown while the start-up check waits for a dead broker', { timeout: 60_000 }, async () => {
    const service = startService({ K2E_BROKERS: '127.0.0.1:1', K2E_TOPICS: uniqueName('phase-dead'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: 'phase-dead' }, ['--init.budgetMs=60000']);
    try {
      assert.ok(await waitFor(async () => /waiting for dependencies/.test(service.output()), 30_000), service.output().slice(-2000));
      const status = await statusOf(service.output);
      assert.equal(status.phase, 'initializing');
      assert.equal(status.version, version);
      assert.equal(status.ready, false);
      assert.deepEqual({ kafka: status.reachable?.kafka, searchEngine: status.reachable?.searchEngine }, { kafka: null, searchEngine: null });
      const port = portOf(service.output())!;
      assert.equal((await fetch(`http://127.0.0.1:${port}/ready`)).status, 503);
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
    }
  });

  it('running and reachable once consuming; the version in /status and k2e_build_info', { timeout: 90_000 }, async () => {
    const topic = uniqueName('phase-live');
    await createTopic(topic, 1);
    const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('phase-live-group'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, ['--http.healthIntervalMs=500']);
    try {
      assert.ok(await service.consuming(60_000), service.output().slice(-2000));
      const port = portOf(service.output())!;
      let status: Status = {};
      assert.ok(
        await waitFor(async () => {
          status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Status;
          return status.reachable?.kafka === true && status.reachable.searchEngine === true;
        }, 20_000),
        JSON.stringify(status),
      );
      assert.equal(status.phase, 'running');
      assert.equal(status.version, version);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(metrics, new RegExp(`^k2e_build_info\\{version="${version.replace(/\./g, '\\.')}",node="${process.version.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
      // The first log line says what runs.
      assert.match(service.output().split('\n')[0]!, new RegExp(`"version":"${version.replace(/\./g, '\\.')}","node":"${process.version.replace(/\./g, '\\.')}","msg":"kafka-to-elastic starting"`));
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
    }
  });
});
