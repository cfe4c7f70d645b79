// SIGTERM at any moment of start-up: while the initialization check waits for a topic, while a
// second instance joins a group that is already consuming, and while the coordinator holds its join
// for a member that crashed. The process exits 0 promptly, never starts consuming, and the group's
// remaining member owns everything again and keeps indexing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTopic, groupCommittedOffsets, produce, type TestMessage, topicEndOffsets, untilCommittedToEnd } from '../helpers/kafka.js';
import { testRandom } from '../helpers/random.js';
import { allDocuments } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, type RunningService, type ServiceStatus, startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;

const records = (prefix: string, count: number): TestMessage[] => Array.from({ length: count }, (_, i) => ({ key: `${prefix}-${i}`, value: JSON.stringify({ prefix, i }) }));

/** SIGTERM now; resolves with the exit code and how long the exit took, or null code after `timeoutMs`. */
async function terminate(service: RunningService, timeoutMs: number): Promise<{ code: number | null; ms: number; exited: boolean }> {
  const started = Date.now();
  service.child.kill('SIGTERM');
  const exited = await Promise.race([service.exited.then(() => true), sleep(timeoutMs, false)]);
  const ms = Date.now() - started;
  if (!exited) await service.kill();
  return { code: exited ? service.child.exitCode : null, ms, exited };
}

const countLines = (output: string, msg: string): number => output.split('\n').filter((line) => line.includes(`"msg":"${msg}`)).length;

async function untilDocuments(index: string, ids: string[], timeoutMs: number): Promise<boolean> {
  const expected = [...ids].sort().join(',');
  return waitFor(async () => [...(await allDocuments(engine.url, index)).keys()].sort().join(',') === expected, timeoutMs, 500);
}

describe(`SIGTERM during start-up on ${engine.name}`, () => {
  it('SIGTERM during the initialization check exits 0 at once without consuming', async () => {
    for (const delayMs of [0, 700]) {
      const topic = uniqueName('init-sigterm'); // never created: the check waits for it
      const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('init-sigterm-group'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, [
        '--init.budgetMs=60000',
      ]);
      try {
        assert.ok(await waitFor(async () => /"msg":"waiting for dependencies"/.test(service.output()), 30_000, 50), service.output());
        assert.match(service.output(), /kafka topics do not exist/);
        // At once (the check sleeps between probes), or a little later (a probe may be in flight).
        await sleep(delayMs);
        const { code, ms, exited } = await terminate(service, 5000);
        assert.ok(exited, `still running ${ms} ms after SIGTERM:\n${service.output().slice(-2000)}`);
        assert.equal(code, 0, service.output().slice(-2000));
        assert.ok(ms < 2500, `exit took ${ms} ms`);
        assert.doesNotMatch(service.output(), /"msg":"consuming"/);
        assert.match(service.output(), /"msg":"shutting down"/);
      } finally {
        await service.kill();
      }
    }
  });

  it('SIGTERM in the first moments after exec (modules still loading) exits 0', async () => {
    // An orchestrator may stop a pod at any moment, also before the service has set anything up.
    // Importing every module takes about 1-1.5 s on a busy 2-core machine: the bin catches the signal
    // before that (and stops at once, nothing having started). Only Node's own start-up (~0.1 s,
    // before any JavaScript runs) is out of reach, hence no delay below 300 ms.
    const results: string[] = [];
    for (const delayMs of [300, 600, 1000]) {
      const topic = uniqueName('early-sigterm');
      const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('early-sigterm-group'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic }, [
        '--init.budgetMs=60000',
      ]);
      try {
        await sleep(delayMs);
        const { code, ms, exited } = await terminate(service, 5000);
        results.push(`SIGTERM ${delayMs} ms after spawn: exit code ${code}, signal ${service.child.signalCode}, after ${ms} ms, output ${JSON.stringify(service.output().slice(0, 200))}`);
        assert.ok(exited, `still running ${ms} ms after SIGTERM`);
      } finally {
        await service.kill();
      }
    }
    assert.ok(results.every((r) => r.includes('exit code 0,')), results.join('\n'));
  });

  it('SIGTERM while joining a consuming group exits 0, and the other member owns every partition again', async () => {
    const topic = uniqueName('join-sigterm');
    const groupId = uniqueName('join-sigterm-group');
    const partitions = [0, 1, 2].map((p) => `${topic}:${p}`);
    await createTopic(topic, 3);
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic };
    const produced: TestMessage[] = records('start', 300);
    await produce(topic, produced);
    const a = startService(env, FAST_GROUP_FLAGS);
    const outcomes: string[] = [];
    let startingRounds = 0;
    try {
      assert.ok(await a.consuming(), a.output().slice(-2000));
      assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), a.output().slice(-2000));

      // Moments counted from B's first log line ("http endpoints listening": the process is up, its signal
      // handlers are installed, the initialization check starts): at once; right after A logs that the
      // group rebalances (B's JoinGroup arrived: B is in the middle of its join); at random moments
      // 50-450 ms later (B usually consumes about half a second after that line on this machine;
      // K2E_TEST_SEED replays them).
      const random = testRandom('start-up moments');
      const moments: ('listening' | 'join' | number)[] = ['listening', 'join', 'join', random.int(50, 449), random.int(50, 449)];
      for (const [round, moment] of moments.entries()) {
        const rebalancesBefore = countLines(a.output(), 'group rebalancing');
        const b = startService(env, [...FAST_GROUP_FLAGS, '--shutdownTimeoutMs=5000']);
        try {
          assert.ok(await waitFor(async () => /"msg":"http endpoints listening"/.test(b.output()), 15_000, 10), b.output());
          if (moment === 'join') assert.ok(await waitFor(async () => countLines(a.output(), 'group rebalancing') > rebalancesBefore, 15_000, 5), a.output().slice(-2000));
          else if (typeof moment === 'number') await sleep(moment);
          const wasConsuming = /"msg":"consuming"/.test(b.output());
          const { code, ms, exited } = await terminate(b, 8000);
          if (!wasConsuming) startingRounds++;
          outcomes.push(`round ${round}: at ${moment}, ${wasConsuming ? 'already consuming' : 'starting'}, exit ${code} after ${ms} ms`);
          assert.ok(exited, `B (round ${round}) still running 8 s after SIGTERM:\n${b.output().slice(-3000)}`);
          assert.equal(code, 0, `B (round ${round}, ${outcomes.at(-1)}) exit code:\n${b.output().slice(-3000)}`);
          assert.match(b.output(), /"msg":"shutting down"/);
        } finally {
          await b.kill();
        }
        // A owns all three again and indexes what arrives meanwhile.
        const stoppedAt = Date.now();
        let assigned: string[] | undefined;
        const regained = await waitFor(async () => {
          const status = (await a.status()) as (ServiceStatus & { rebalancing: boolean }) | undefined;
          assigned = status?.assigned;
          return status?.rebalancing === false && assigned?.length === 3;
        }, 30_000, 200);
        assert.ok(regained, `round ${round}: A owns ${JSON.stringify(assigned)}\n${a.output().slice(-3000)}`);
        assert.deepEqual(assigned, partitions);
        outcomes[outcomes.length - 1] += `, A owned all 3 again ${Date.now() - stoppedAt} ms later`;
        const more = records(`round${round}`, 90);
        produced.push(...more);
        await produce(topic, more);
        assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), `round ${round}: A did not commit to the end\n${a.output().slice(-3000)}`);
      }
      console.log(`startup-shutdown: ${outcomes.join('; ')}`);
      assert.ok(startingRounds >= 3, `at least 3 SIGTERMs must hit before B consumed: ${outcomes.join('; ')}`);

      assert.ok(await untilDocuments(topic, produced.map((m) => m.key!), 30_000), 'every record indexed');
      assert.deepEqual(await groupCommittedOffsets(groupId, topic), await topicEndOffsets(topic));
      const status = await a.status();
      assert.deepEqual(status?.assigned, partitions);
      assert.equal(status?.consumed, produced.length, 'A read every record once (its partitions never moved)');
      assert.equal(status?.indexed, produced.length);
    } finally {
      assert.equal(await a.stop(), 0, a.output().slice(-2000));
    }
  });

  it('SIGTERM while the coordinator holds its join for a crashed member exits 0 within seconds, not a session later', async () => {
    // Default group timings: the crashed member stays in the group for its 30 s session, and the
    // coordinator holds the newcomer's JoinGroup until then. A LeaveGroup on the same connection would
    // queue behind that JoinGroup (23 s to exit, measured with the client's membership): the member
    // leaves over a connection of its own.
    const topic = uniqueName('held-join');
    const groupId = uniqueName('held-join-group');
    await createTopic(topic, 2);
    await produce(topic, records('held', 20));
    const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic };
    const crashed = startService(env);
    assert.ok(await crashed.consuming(), crashed.output().slice(-2000));
    assert.ok(await untilCommittedToEnd(groupId, topic, 30_000), crashed.output().slice(-2000));
    await crashed.kill();
    const newcomer = startService(env);
    try {
      assert.ok(await waitFor(async () => /"msg":"documents carry external versions/.test(newcomer.output()), 30_000, 20), newcomer.output());
      await sleep(2_000); // its JoinGroup is at the coordinator by now, held for ~25 s more
      const { code, ms, exited } = await terminate(newcomer, 15_000);
      assert.ok(exited, `still running 15 s after SIGTERM:\n${newcomer.output().slice(-3000)}`);
      assert.equal(code, 0, newcomer.output().slice(-3000));
      assert.ok(ms < 8_000, `exit took ${ms} ms:\n${newcomer.output().slice(-3000)}`);
      assert.doesNotMatch(newcomer.output(), /"msg":"partitions assigned"/, 'the newcomer was assigned partitions: its join was not held');
      assert.match(newcomer.output(), /"msg":"left the group"/, newcomer.output().slice(-3000));
      console.log(`startup-shutdown: SIGTERM during a held join, exit 0 after ${ms} ms`);
    } finally {
      await newcomer.kill();
    }
  });
});
