// At-least-once under membership churn: no loss, no stall, no stale writes, prompt shutdown.
// Instances of one group join and leave every 1-2 s (SIGTERM, kill -9, SIGTERM during start-up)
// while keyed events arrive in waves; for a while every bulk is held back by a proxy, so a revoked
// owner's bulk lands late; one member is frozen (SIGSTOP) for longer than its session timeout while
// the others go on. Then two instances catch up and stop. Every key must be indexed once at its last
// sequence number, every partition committed to its end, and every SIGTERM obeyed in time.
// It runs on every engine of the stack: about a minute each when the group keeps up, 2.5 minutes
// when it stalls (the wait for the commits ends after 90 s). Each instance's log is kept in
// $TMPDIR/k2e-churn/<topic>/ for a post-mortem; CHURN_SEED=<seed> replays the choices of a run.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { retiringKeyWaves } from '../helpers/events.js';
import { startFaultProxy, isBulk } from '../helpers/fault-proxy.js';
import { createTopic, groupCommittedOffsets, produce, readTopic, topicEndOffsets, untilCommittedToEnd } from '../helpers/kafka.js';
import { testRandom } from '../helpers/random.js';
import { allDocuments, refreshAndCount } from '../helpers/search.js';
import { FAST_GROUP_FLAGS, type RunningService, type ServiceStatus, startService, type StopResult, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const PARTITIONS = 6;
/** 5,400 keys in 10 waves, key-i updated in waves 0 … i % 10: 29,700 records. */
const DISTINCT_KEYS = 5_400;
const WAVES = 10;
const WAVE_EVERY_MS = 2_500;
const SHUTDOWN_TIMEOUT_MS = 10_000;
/** SIGTERM → exit: the service's own bound plus process teardown. Later counts as ignoring SIGTERM. */
const EXIT_DEADLINE_MS = SHUTDOWN_TIMEOUT_MS + 5_000;
/** Processes alive at once, the frozen one and those starting up included (2 cores). */
const MAX_ALIVE = 5;
/**
 * Processes starting up at once: a start-up costs seconds of CPU, and on a busy 2-core machine
 * several at once take 15 s or more each to join, so the churn would mostly hit instances that are
 * not group members yet.
 */
const MAX_STARTING = 2;
/** Joins and leaves happen from the start of the scenario until then. */
const CHURN_MS = 36_000;
/** Bulks held back this long by the proxy from SLOW_BULKS_FROM_MS on: longer than a rebalance takes. */
const BULK_DELAY_MS = 2_500;
const SLOW_BULKS_FROM_MS = 3_000;
/**
 * SIGSTOP for longer than the 6 s session timeout: the group moves its partitions on. The slow bulks
 * end before that (SLOW_BULKS_AFTER_FREEZE_MS), so the new owners rewrite its partitions (final
 * values of retired keys included) before it wakes up with the records it still holds.
 */
const FREEZE = { earliestMs: 8_000, latestMs: 20_000, forMs: 9_500 };
const SLOW_BULKS_AFTER_FREEZE_MS = 4_000;
const CATCH_UP_TIMEOUT_MS = 90_000;

const FLAGS = [...FAST_GROUP_FLAGS, '--batch.maxBufferedRecords=300', '--batch.maxDocs=200', `--shutdownTimeoutMs=${SHUTDOWN_TIMEOUT_MS}`];

type Phase = 'booting' | 'initializing' | 'consuming';
type Role = 'worker' | 'frozen' | 'start-up';

interface StopRecord {
  how: 'SIGTERM' | 'SIGKILL';
  /** ms since the scenario started */
  at: number;
  /** How far the instance had got when it was signalled (from its log). */
  phase: Phase;
  /** The SIGTERM at the end of the scenario, not part of the churn. */
  final: boolean;
  result?: StopResult;
}

interface Instance {
  name: string;
  role: Role;
  service: RunningService;
  spawnedAt: number;
  /** How far it got, as last seen. */
  phase: Phase;
  stop?: StopRecord;
}

interface ChurnOutcome {
  topic: string;
  groupId: string;
  seed: number;
  t0: number;
  lastSeq: Map<string, number>;
  documents: number;
  docs: Map<string, Record<string, unknown>>;
  committed: Map<string, bigint>;
  ends: Map<string, bigint>;
  caughtUp: boolean;
  instances: Instance[];
  finalists: Instance[];
  /** Instances still running after the final stop (before the cleanup kills them). */
  leftRunning: string[];
  timeline: string[];
  logDir: string;
  /** The finalists' /status when the group did not catch up. */
  stuckStatus: string[];
}

const partitionOf = (key: string): number => Number(key.slice('key-'.length)) % PARTITIONS;

/** The newest generation whose assignment an instance logged: the group completed that rebalance. */
function assignedGeneration(service: RunningService): number {
  let newest = -1;
  for (const line of service.output().split('\n')) {
    if (!line.includes('"msg":"partitions assigned"')) continue;
    newest = Math.max(newest, Number(/"generation":(\d+)/.exec(line)?.[1] ?? -1));
  }
  return newest;
}

function phaseOf(service: RunningService): Phase {
  const output = service.output();
  if (output.includes('"msg":"consuming"')) return 'consuming';
  return output.includes('"msg":"http endpoints listening"') ? 'initializing' : 'booting';
}

async function runChurn(engineUrl: string): Promise<ChurnOutcome> {
  const topic = uniqueName('churn');
  const groupId = uniqueName('churn-group');
  // Deterministic choices (the timing is not): CHURN_SEED (or K2E_TEST_SEED) replays them.
  const random = testRandom('churn', ['CHURN_SEED', 'K2E_TEST_SEED']);
  const seed = random.seed;
  await createTopic(topic, PARTITIONS);
  const { waves, lastSeq } = retiringKeyWaves(DISTINCT_KEYS, WAVES, PARTITIONS);
  const proxy = await startFaultProxy(engineUrl);
  const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: proxy.url, K2E_INDEX: topic };
  const logDir = path.join(os.tmpdir(), 'k2e-churn', topic);

  const instances: Instance[] = [];
  const background: Promise<unknown>[] = [];
  const timeline: string[] = [];
  let t0 = Date.now();
  const now = (): number => Date.now() - t0;
  const log = (text: string): void => void timeline.push(`${(now() / 1000).toFixed(1).padStart(6)}s ${text}`);
  const sleepUntil = (ms: number): Promise<void> => sleep(Math.max(0, ms - now()));

  const spawn = (role: Role): Instance => {
    const instance: Instance = { name: `#${instances.length + 1}`, role, service: startService(env, FLAGS), spawnedAt: now(), phase: 'booting' };
    instances.push(instance);
    log(`${instance.name} spawned (${role})`);
    return instance;
  };
  const groupGeneration = (): number => Math.max(-1, ...instances.map((i) => assignedGeneration(i.service)));
  let loggedGeneration = -1;
  // Start-up takes seconds on a busy machine: the timeline says when each instance got how far, and
  // when the group completed a rebalance.
  const phaseWatch = setInterval(() => {
    const generation = groupGeneration();
    if (generation > loggedGeneration) {
      loggedGeneration = generation;
      log(`group generation ${generation} assigned`);
    }
    for (const instance of instances) {
      const phase = phaseOf(instance.service);
      if (phase === instance.phase || !instance.service.running()) continue;
      instance.phase = phase;
      log(`${instance.name} ${phase}`);
    }
  }, 100);
  /** SIGTERM and check the exit in the background; an instance that ignores it is killed after the deadline. */
  const terminate = (instance: Instance, final = false): Promise<void> => {
    const record: StopRecord = { how: 'SIGTERM', at: now(), phase: phaseOf(instance.service), final };
    instance.stop = record;
    log(`${instance.name} SIGTERM (${record.phase})`);
    return instance.service.stopWithin(EXIT_DEADLINE_MS).then(async (result) => {
      record.result = result;
      if (result.exited) return log(`${instance.name} exited ${result.code ?? result.signal} ${result.ms} ms after SIGTERM`);
      log(`${instance.name} still running ${result.ms} ms after SIGTERM: kill -9`);
      await instance.service.kill();
    });
  };
  const crash = async (instance: Instance): Promise<void> => {
    instance.stop = { how: 'SIGKILL', at: now(), phase: phaseOf(instance.service), final: false };
    log(`${instance.name} kill -9 (${instance.stop.phase})`);
    await instance.service.kill();
  };
  const alive = (): Instance[] => instances.filter((i) => i.service.running());
  /** Members the churn may stop: running, not told to stop, not the frozen one. */
  const workers = (): Instance[] => instances.filter((i) => i.role === 'worker' && !i.stop && i.service.running());
  const consuming = (list: Instance[]): Instance[] => list.filter((i) => phaseOf(i.service) === 'consuming');

  try {
    // The first instance creates the index and the dead-letter topic alone (no creation race).
    const frozen = spawn('frozen');
    assert.ok(await frozen.service.consuming(60_000), `the first instance did not start:\n${frozen.service.output().slice(-3000)}`);
    t0 = Date.now();
    frozen.spawnedAt = 0;
    frozen.phase = 'consuming';
    timeline.length = 0;
    log(`seed ${seed}; #1 (frozen later) consuming`);
    spawn('worker');
    spawn('worker');

    let producerError: unknown;
    const producing = (async () => {
      for (const [wave, messages] of waves.entries()) {
        await sleepUntil(1_000 + wave * WAVE_EVERY_MS);
        await produce(topic, messages);
        log(`wave ${wave} produced (${messages.length} records)`);
      }
    })().catch((error: unknown) => {
      producerError = error;
    });
    background.push(producing);

    let froze: () => void = () => undefined;
    const frozenAt = new Promise<void>((resolve) => (froze = resolve));
    let slowBulksEndedAt = 0;
    background.push(
      (async () => {
        await sleepUntil(SLOW_BULKS_FROM_MS);
        proxy.set({ kind: 'delay', ms: BULK_DELAY_MS }, isBulk);
        log(`proxy: bulks delayed ${BULK_DELAY_MS} ms`);
        await frozenAt;
        await sleep(SLOW_BULKS_AFTER_FREEZE_MS);
        proxy.set({ kind: 'pass' });
        slowBulksEndedAt = now();
        log(`proxy: bulks pass (${proxy.faulted} were delayed)`);
      })(),
    );

    const freezing = (async () => {
      await sleepUntil(FREEZE.earliestMs);
      // Frozen while others share the group with it (they go on) and it holds records it has not
      // indexed yet (it has something to write late). No /status call once it is stopped: it would hang.
      const shared = await waitFor(async () => {
        const status = await frozen.service.status();
        return status !== undefined && status.assigned.length > 0 && status.assigned.length < PARTITIONS && status.buffered > 0;
      }, FREEZE.latestMs - FREEZE.earliestMs, 50);
      const status = await frozen.service.status();
      frozen.service.suspend();
      froze();
      log(`#1 SIGSTOP${shared ? '' : ' (no other member shares the group yet)'}: owns ${status?.assigned.map((p) => p.split(':').pop()).join(',') ?? '?'}, ${status?.buffered ?? '?'} records buffered`);
      await sleep(FREEZE.forMs);
      frozen.service.resume();
      log(`#1 SIGCONT after ${FREEZE.forMs} ms`);
    })().finally(() => froze());
    background.push(freezing);

    // The churn: one action every 1-2 s, each kind once per round in a random order, within the
    // limits (MAX_ALIVE, MAX_STARTING, at least one worker besides the frozen member). SIGTERM goes
    // to a member that consumes (owns partitions); kill -9 too, or else to one joining the group.
    type Action = 'join' | 'term' | 'kill' | 'start-up term';
    let round: Action[] = [];
    let startUpTerms = 0;
    let generationAtJoinerKill = -1;
    // On a busy machine instances take longer to start, so fewer of them reach the group within
    // CHURN_MS: the churn then goes on (up to twice as long) until every kind of fault happened.
    const stopsSoFar = (how: StopRecord['how'], consumingPhase: boolean): number =>
      instances.filter((i) => i.stop && !i.stop.final && i.stop.how === how && (i.stop.phase === 'consuming') === consumingPhase).length;
    const mixComplete = (): boolean => stopsSoFar('SIGTERM', true) >= 2 && stopsSoFar('SIGTERM', false) >= 2 && stopsSoFar('SIGKILL', true) >= 1;
    while (now() < CHURN_MS || (!mixComplete() && now() < 2 * CHURN_MS)) {
      await sleep(random.int(1_000, 2_000));
      if (producerError) throw new Error(`producing failed (the test's producer, not the service): ${String(producerError)}`);
      if (round.length === 0) round = random.shuffle<Action>(['join', 'term', 'kill', 'start-up term']);
      const starting = alive().filter((i) => !i.stop && phaseOf(i.service) !== 'consuming').length;
      const spare = workers().length >= 2;
      const owners = spare ? consuming(workers()) : [];
      const joining = spare ? workers().filter((i) => phaseOf(i.service) === 'initializing') : [];
      const possible: Record<Action, boolean> = {
        join: alive().length < MAX_ALIVE && starting < MAX_STARTING,
        // Most die within a second: one more may start meanwhile.
        'start-up term': alive().length < MAX_ALIVE && starting <= MAX_STARTING,
        term: owners.length > 0,
        // Until a consuming member was killed, kill -9 waits for one (joining ones come after). A member
        // killed after its JoinGroup stays in the next generation until its session times out, so the
        // rebalance starts over: killing joiners faster than that starves the group (no generation
        // completed in 60 s, once). A joiner is killed only once the group completed a rebalance
        // after the previous one.
        kill: owners.length > 0 || (stopsSoFar('SIGKILL', true) >= 1 && joining.length > 0 && groupGeneration() > generationAtJoinerKill),
      };
      // The next action of the round that is possible now (the others wait for their turn), or else
      // any possible one, joins first: they make the others possible again.
      const inRound = round.find((a) => possible[a]);
      if (inRound) round.splice(round.indexOf(inRound), 1);
      const action = inRound ?? (['join', 'start-up term', 'kill', 'term'] as Action[]).find((a) => possible[a]) ?? 'skip';

      if (action === 'join') spawn('worker');
      else if (action === 'term') background.push(terminate(random.pick(owners)));
      else if (action === 'kill') {
        if (owners.length === 0) generationAtJoinerKill = groupGeneration();
        await crash(random.pick(owners.length > 0 ? owners : joining));
      }
      else if (action === 'start-up term') {
        const doomed = spawn('start-up');
        // Every other one at a fixed delay after spawn (still loading), the others once their HTTP
        // endpoint listens (initialization check, joining the group).
        const byClock = startUpTerms++ % 2 === 0;
        background.push(
          (async () => {
            if (byClock) await sleep(random.int(100, 800));
            else await waitFor(async () => phaseOf(doomed.service) !== 'booting', 30_000, 20).then(() => sleep(random.int(0, 500)));
            await terminate(doomed);
          })(),
        );
      } else log(`skip ${round.join(', ')} (${alive().length} alive, ${starting} starting, ${owners.length} members to spare)`);
    }
    log('churn over');
    await producing;
    if (producerError) throw new Error(`producing failed (the test's producer, not the service): ${String(producerError)}`);
    await freezing; // normally over long ago

    // Two instances stay: the formerly frozen member (it must have rejoined) and the youngest worker
    // (one that consumes if any).
    const finalists = [frozen, ...consuming(workers()).reverse(), ...workers().reverse()]
      .filter((i, index, all) => i.service.running() && !i.stop && all.indexOf(i) === index)
      .slice(0, 2);
    for (const extra of workers().filter((i) => !finalists.includes(i))) background.push(terminate(extra));
    while (finalists.length < 2) finalists.push(spawn('worker'));
    log(`finalists: ${finalists.map((i) => i.name).join(', ')}`);
    for (const finalist of finalists) {
      if (!(await finalist.service.consuming(60_000))) log(`${finalist.name} is not consuming 60 s after spawn`);
    }
    const caughtUp = await untilCommittedToEnd(groupId, topic, CATCH_UP_TIMEOUT_MS);
    log(caughtUp ? 'group committed every partition to its end' : `group did not commit to the end within ${CATCH_UP_TIMEOUT_MS} ms`);
    // What the finalists say about themselves while stuck (their state is gone once they stop).
    const stuckStatus = caughtUp ? [] : await Promise.all(finalists.map(async (i) => `${i.name}: ${describeStatus(await i.service.status())}`));
    await Promise.all(finalists.map((i) => terminate(i, true)));
    await Promise.all(background);
    const leftRunning = alive().map((i) => i.name);

    // A bulk the proxy held back lands when its delay ends: read the index once none can still land.
    await sleepUntil(slowBulksEndedAt + BULK_DELAY_MS + 1_000);
    const [committed, ends, documents, docs] = [
      await groupCommittedOffsets(groupId, topic),
      await topicEndOffsets(topic),
      await refreshAndCount(engineUrl, topic),
      await allDocuments(engineUrl, topic),
    ];
    log(`${documents} documents, ${lastSeq.size} keys`);
    return { topic, groupId, seed, t0, lastSeq, documents, docs, committed, ends, caughtUp, instances, finalists, leftRunning, timeline, logDir, stuckStatus };
  } finally {
    clearInterval(phaseWatch);
    // No instance outlives the test, whatever happened.
    for (const instance of instances) {
      if (!instance.service.running()) continue;
      instance.service.resume();
      await instance.service.kill();
    }
    await Promise.allSettled(background);
    await proxy.close();
    saveLogs(logDir, instances);
    console.log(`churn on ${engineUrl}, topic ${topic}, group ${groupId}, instance logs in ${logDir}:\n${timeline.join('\n')}`);
  }
}

function describeStatus(status: ServiceStatus | undefined): string {
  if (!status) return 'no /status';
  const partitions = status.partitions.map((p) => Object.fromEntries(Object.entries(p).filter(([key]) => key !== 'topic' && key !== 'owner')));
  const assigned = status.assigned.map((p) => p.split(':').pop()).join(',');
  return `ready ${status.ready}, assigned [${assigned}], paused ${status.paused}, buffered ${status.buffered}, consumed ${status.consumed}, indexed ${status.indexed}, partition workers ${JSON.stringify(partitions)}`;
}

/** Every instance's full output, kept for a post-mortem (the diagnostics below show excerpts). */
function saveLogs(dir: string, instances: Instance[]): void {
  mkdirSync(dir, { recursive: true });
  for (const [index, instance] of instances.entries()) writeFileSync(path.join(dir, `${index + 1}-${instance.role}.log`), instance.service.output());
}

// ---- diagnostics -------------------------------------------------------------------------------

const NOTABLE = /partitions assigned|partition released|rebalanc|consumer lost|idle|shutting down|stopped|timed out|failed|retrying|rejoin|re-created|consuming|fatal/;

/** An instance's log lines that tell its story (group events, stops, errors), times relative to t0. */
function logDigest(outcome: ChurnOutcome, instance: Instance, lines = 15): string {
  const picked: string[] = [];
  for (const line of instance.service.output().split('\n')) {
    if (!line.trim()) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      picked.push(`  ${line.slice(0, 300)}`); // a stack trace or a crash message
      continue;
    }
    const msg = String(entry.msg ?? '');
    if (!NOTABLE.test(msg) && Number(entry.level ?? 0) < 40) continue;
    const { level, time } = entry;
    const rest = Object.fromEntries(Object.entries(entry).filter(([key]) => !['level', 'time', 'msg', 'pid', 'hostname'].includes(key)));
    const at = typeof time === 'number' ? `${((time - outcome.t0) / 1000).toFixed(1)}s` : '?';
    const fields = JSON.stringify(rest, (key, value: unknown) => (key === 'stack' ? undefined : value));
    picked.push(`  ${at} [${String(level)}] ${msg} ${fields === '{}' ? '' : fields.slice(0, 300)}`);
  }
  return `--- ${instance.name} (${instance.role}) ---\n${picked.slice(-lines).join('\n')}`;
}

/** Who was given and who released each of these partitions, across all instances, in time order. */
function ownershipHistory(outcome: ChurnOutcome, partitions: number[]): string {
  const events: { time: number; text: string }[] = [];
  for (const instance of outcome.instances) {
    for (const line of instance.service.output().split('\n')) {
      if (!line.includes('"msg":"partitions assigned"') && !line.includes('"msg":"partition released"')) continue;
      const entry = JSON.parse(line) as { time: number; msg: string; partitions?: string[]; partition?: string; generation: number };
      const owned = (entry.partitions ?? [entry.partition ?? '']).map((p) => Number(p.split(':').pop()));
      const relevant = owned.filter((p) => partitions.includes(p));
      if (relevant.length === 0) continue;
      const verb = entry.msg === 'partitions assigned' ? 'assigned' : 'released';
      events.push({ time: entry.time, text: `${instance.name} ${verb} p${relevant.join(',p')} (generation ${entry.generation})` });
    }
  }
  events.sort((a, b) => a.time - b.time);
  return events.map((e) => `  ${((e.time - outcome.t0) / 1000).toFixed(1)}s ${e.text}`).join('\n');
}

/**
 * Where the latest record of each of these keys lives, read back from the topic, per partition and
 * against the group's committed offset: below it, the group committed a record whose value is not
 * in the index (lost, or overwritten by an older one); at or above it, the record was never
 * processed (a stall, see the lag test).
 */
async function latestRecordsReport(outcome: ChurnOutcome, keys: string[]): Promise<string> {
  const wanted = new Set(keys);
  const total = [...outcome.lastSeq.values()].reduce((sum, last) => sum + last + 1, 0);
  const offsets = new Map<number, bigint[]>();
  for (const record of await readTopic(outcome.topic, total, 60_000)) {
    if (!record.key || !wanted.has(record.key) || !record.value) continue;
    if ((JSON.parse(record.value) as { seq: number }).seq !== outcome.lastSeq.get(record.key)) continue;
    const partition = partitionOf(record.key);
    offsets.set(partition, [...(offsets.get(partition) ?? []), record.offset]);
  }
  return [...offsets]
    .sort(([a], [b]) => a - b)
    .map(([partition, list]) => {
      list.sort((a, b) => (a < b ? -1 : 1));
      const committed = outcome.committed.get(`${outcome.topic}:${partition}`) ?? -1n;
      const belowCommit = list.filter((offset) => offset < committed);
      return (
        `  p${partition}: ${list.length} latest records at offsets ${list[0]}…${list.at(-1)}, committed offset ${committed < 0n ? 'none' : committed}: ` +
        `${belowCommit.length} below it (committed, yet not in the index${belowCommit.length ? `: ${belowCommit.slice(0, 6).join(', ')}…` : ''}), ` +
        `${list.length - belowCommit.length} at or above it (never processed)`
      );
    })
    .join('\n');
}

function perPartitionCount(keys: string[]): string {
  const counts = new Array<number>(PARTITIONS).fill(0);
  for (const key of keys) counts[partitionOf(key)]!++;
  return counts.map((n, p) => `p${p}: ${n}`).join(', ');
}

function instanceTable(outcome: ChurnOutcome): string {
  return outcome.instances
    .map((i) => {
      const loggedAt = (msg: string): string => {
        const time = new RegExp(`"time":(\\d+)[^\\n]*"msg":"${msg}"`).exec(i.service.output())?.[1];
        return time ? `${((Number(time) - outcome.t0) / 1000).toFixed(1)}s` : '-';
      };
      const stop = i.stop
        ? `${i.stop.how} at ${(i.stop.at / 1000).toFixed(1)}s (${i.stop.phase})` +
          (i.stop.result ? (i.stop.result.exited ? ` → exit ${i.stop.result.code ?? i.stop.result.signal} after ${i.stop.result.ms} ms` : ` → STILL RUNNING after ${i.stop.result.ms} ms`) : '')
        : `never stopped (exit ${i.service.child.exitCode ?? i.service.child.signalCode ?? 'none'})`;
      return `  ${i.name.padEnd(4)} ${i.role.padEnd(8)} spawned ${(i.spawnedAt / 1000).toFixed(1)}s, listening ${loggedAt('http endpoints listening')}, consuming ${loggedAt('consuming')}, ${stop}`;
    })
    .join('\n');
}

// ---- the test ----------------------------------------------------------------------------------

for (const engine of stack.engines) {
  describe(`at-least-once under membership churn on ${engine.name}: no loss, no stall, no stale writes, prompt shutdown`, () => {
    let outcome: ChurnOutcome;
    before(async () => {
      outcome = await runChurn(engine.url);
    }, { timeout: 360_000 });

    it('exercised every kind of churn (a check of the test itself)', () => {
      const stops = outcome.instances.flatMap((i) => (i.stop && !i.stop.final ? [i.stop] : []));
      const counts = {
        termOfMembers: stops.filter((s) => s.how === 'SIGTERM' && s.phase === 'consuming').length,
        termDuringStartUp: stops.filter((s) => s.how === 'SIGTERM' && s.phase !== 'consuming').length,
        killOfMembers: stops.filter((s) => s.how === 'SIGKILL' && s.phase === 'consuming').length,
        kills: stops.filter((s) => s.how === 'SIGKILL').length,
        frozenWhileShared: outcome.timeline.some((line) => /#1 SIGSTOP: owns/.test(line)) ? 1 : 0,
      };
      const enough = counts.termOfMembers >= 2 && counts.termDuringStartUp >= 2 && counts.killOfMembers >= 1 && counts.kills >= 2 && counts.frozenWhileShared === 1;
      assert.ok(enough, `too little churn: ${JSON.stringify(counts)}\n${instanceTable(outcome)}\n${outcome.timeline.join('\n')}`);
    });

    it('indexes every distinct key exactly once (no loss, no doubles)', async () => {
      const missing = [...outcome.lastSeq.keys()].filter((key) => !outcome.docs.has(key));
      const unexpected = [...outcome.docs.keys()].filter((id) => !outcome.lastSeq.has(id));
      const found = { documents: outcome.documents, missingKeys: missing.length, unexpectedIds: unexpected.length };
      const expected = { documents: outcome.lastSeq.size, missingKeys: 0, unexpectedIds: 0 };
      if (JSON.stringify(found) === JSON.stringify(expected)) return;
      const partitions = [...new Set(missing.map(partitionOf))].sort();
      assert.deepEqual(
        found,
        expected,
        [
          `${missing.length} of ${outcome.lastSeq.size} keys missing (per partition: ${perPartitionCount(missing)}); first: ${missing.slice(0, 8).join(', ')}`,
          `unexpected ids: ${unexpected.slice(0, 5).join(', ')}`,
          `their latest records in the topic:\n${missing.length ? await latestRecordsReport(outcome, missing) : '  -'}`,
          `ownership of the partitions concerned:\n${ownershipHistory(outcome, partitions)}`,
          `instances (logs in ${outcome.logDir}):\n${instanceTable(outcome)}`,
        ].join('\n'),
      );
    });

    it('leaves every key at its latest sequence number (no stale write)', async () => {
      const stale = [...outcome.lastSeq]
        .filter(([key]) => outcome.docs.has(key))
        .map(([key, latest]) => ({ key, latest, seq: (outcome.docs.get(key) as { seq?: number }).seq }))
        .filter((d) => d.seq !== d.latest);
      if (stale.length === 0) return;
      const partitions = [...new Set(stale.map((d) => partitionOf(d.key)))].sort();
      const first = stale.slice(0, 10).map((d) => `${d.key} (p${partitionOf(d.key)}) at seq ${d.seq}, latest ${d.latest}`);
      assert.equal(
        stale.length,
        0,
        [
          `${stale.length} keys hold an older value (the latest record was lost, or an older write landed after it); per partition: ${perPartitionCount(stale.map((d) => d.key))}`,
          `first: ${first.join('; ')}`,
          `their latest records in the topic:\n${await latestRecordsReport(outcome, stale.map((d) => d.key))}`,
          `ownership of the partitions concerned:\n${ownershipHistory(outcome, partitions)}`,
          `instances (logs in ${outcome.logDir}):\n${instanceTable(outcome)}`,
        ].join('\n'),
      );
    });

    it('commits every partition to its end offset (lag 0, no stall)', () => {
      const lag = [...outcome.ends].map(([partition, end]) => ({ partition, committed: outcome.committed.get(partition) ?? null, end }));
      const behind = lag.filter((p) => p.committed !== p.end);
      assert.deepEqual(
        behind.map((p) => p.partition),
        [],
        [
          `caught up: ${outcome.caughtUp} (logs in ${outcome.logDir}); behind: ${behind.map((p) => `${p.partition} committed ${p.committed ?? 'nothing'} of ${p.end}`).join(', ')}`,
          `ownership of the partitions concerned:\n${ownershipHistory(outcome, behind.map((p) => Number(p.partition.split(':').pop())))}`,
          `the finalists' /status when the wait ended:\n${outcome.stuckStatus.map((line) => `  ${line}`).join('\n')}`,
          ...outcome.finalists.map((i) => logDigest(outcome, i, 25)),
        ].join('\n'),
      );
    });

    it('every SIGTERMed instance exits within its shutdown timeout, with 0 once it was consuming; none is left', () => {
      const termed = outcome.instances.filter((i) => i.stop?.how === 'SIGTERM');
      const ignoredSigterm = termed.filter((i) => !i.stop!.result?.exited);
      const uncleanExit = termed.filter((i) => i.stop!.phase === 'consuming' && i.stop!.result?.exited && i.stop!.result.code !== 0);
      // Every instance is stopped by the scenario: one without a stop record exited by itself (a crash).
      const diedUntold = outcome.instances.filter((i) => !i.stop);
      const found = {
        ignoredSigterm: ignoredSigterm.map((i) => i.name),
        uncleanExit: uncleanExit.map((i) => i.name),
        diedUntold: diedUntold.map((i) => i.name),
        leftRunning: outcome.leftRunning,
      };
      const culprits = [...ignoredSigterm, ...uncleanExit, ...diedUntold];
      assert.deepEqual(
        found,
        { ignoredSigterm: [], uncleanExit: [], diedUntold: [], leftRunning: [] },
        [`${termed.length} instances got SIGTERM (logs in ${outcome.logDir}) (deadline ${EXIT_DEADLINE_MS} ms):`, instanceTable(outcome), ...culprits.slice(0, 4).map((i) => logDigest(outcome, i))].join('\n'),
      );
    });
  });
}
