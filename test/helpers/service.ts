// Runs the real service as a child process (the bin users run), with its config in the environment.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../scripts/stack/layout.js';
import { untilCommittedToEnd } from './kafka.js';
import { testRandom } from './random.js';

export interface ServiceStatus {
  ready: boolean;
  consumed: number;
  indexed: number;
  retries: number;
  deadLettered: number;
  buffered: number;
  paused: boolean;
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  assigned: string[];
  partitions: { topic: string; partition: number; committed: string | null; pending: number; indexed: number }[];
}

export interface RunningService {
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing flushed or committed. */
  kill(): Promise<void>;
  /** The instance's /status, once its HTTP endpoint listens. */
  status(): Promise<ServiceStatus | undefined>;
  /** Resolves true once the instance logged that it consumes. */
  consuming(timeoutMs?: number): Promise<boolean>;
  exited: Promise<number | null>;
  /** True until the process exited (whatever the cause). */
  running(): boolean;
  /** SIGSTOP: the process freezes (no heartbeats, no bulks, no timers) until resume(). */
  suspend(): void;
  /** SIGCONT after suspend(). */
  resume(): void;
  /**
   * SIGTERM, then waits at most `ms` for the exit. An instance still running after that is reported
   * (exited: false), not killed: the caller decides (and must clean it up).
   */
  stopWithin(ms: number): Promise<StopResult>;
}

export interface StopResult {
  exited: boolean;
  /** Exit code; null when the process died of a signal or is still running. */
  code: number | null;
  /** The signal that ended the process (e.g. SIGTERM before the service installed its handler). */
  signal: NodeJS.Signals | null;
  /** From the SIGTERM to the exit (or to giving up). */
  ms: number;
}

/** Starts `kafka-to-elastic run` with this environment and extra flags (e.g. --kafka.sessionTimeoutMs=6000). */
export function startService(env: Record<string, string>, flags: string[] = []): RunningService {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'kafka-to-elastic.js'), 'run', ...flags], {
    env: { ...process.env, K2E_HTTP_PORT: '0', K2E_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async status() {
      const port = /"port":(\d+),"msg":"http endpoints listening"/.exec(output)?.[1];
      if (!port) return undefined;
      return (await fetch(`http://127.0.0.1:${port}/status`)
        .then((r) => r.json())
        .catch(() => undefined)) as ServiceStatus | undefined;
    },
    consuming(timeoutMs = 60_000) {
      return waitFor(async () => /"msg":"consuming"/.test(output), timeoutMs, 50);
    },
    running,
    suspend() {
      if (running()) child.kill('SIGSTOP');
    },
    resume() {
      if (running()) child.kill('SIGCONT');
    },
    async stopWithin(ms) {
      const signalled = Date.now();
      if (running()) child.kill('SIGTERM');
      const deadline = new AbortController();
      const done = await Promise.race([exited.then(() => true), sleep(ms, false, { signal: deadline.signal }).catch(() => false)]);
      deadline.abort();
      return { exited: done, code: done ? child.exitCode : null, signal: done ? child.signalCode : null, ms: Date.now() - signalled };
    },
  };
}

/** Polls `probe` until it returns true or the timeout passes; returns whether it succeeded. */
export async function waitFor(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await sleep(intervalMs);
  }
  return false;
}

/** Short group timeouts so a killed instance's partitions move on quickly (the broker allows 6 s). */
export const FAST_GROUP_FLAGS = ['--kafka.sessionTimeoutMs=6000', '--kafka.heartbeatIntervalMs=1000', '--kafka.rebalanceTimeoutMs=10000'];

export interface CrashCount {
  /** Instances started and killed. */
  kills: number;
  /** Kills that hit while the instance had indexed records and buffered others. */
  inFlightKills: number;
}

/**
 * kill -9, `kills` times in a row (with FAST_GROUP_FLAGS, so the next instance gets the partitions
 * soon): each instance must start consuming; it is killed while it works through the backlog (records
 * buffered, bulks in flight), a random moment up to 60 ms after it indexed its first records, or, when
 * it never gets busy within 15 s, a random moment up to `idleKillMs` (the moments are seeded:
 * K2E_TEST_SEED replays them).
 */
export async function killRepeatedly(env: Record<string, string>, kills: number, idleKillMs: number): Promise<CrashCount> {
  const count: CrashCount = { kills: 0, inFlightKills: 0 };
  const random = testRandom('kill moments');
  for (; count.kills < kills; count.kills++) {
    const service = startService(env, FAST_GROUP_FLAGS);
    assert.ok(await service.consuming(), `instance ${count.kills} did not start:\n${service.output().slice(-2000)}`);
    const busy = await waitFor(async () => {
      const status = await service.status();
      return status !== undefined && status.indexed > 0 && status.buffered > 0;
    }, 15_000, 20);
    await sleep(random.int(0, busy ? 60 : idleKillMs));
    if (busy) count.inFlightKills++;
    await service.kill();
  }
  return count;
}

/**
 * The run after the crashes: one instance (FAST_GROUP_FLAGS) until the group committed every partition
 * of the topic to its end offset; asserts that it got there and then stopped with exit code 0.
 */
export async function runUntilCaughtUp(env: Record<string, string>, groupId: string, topic: string, timeoutMs = 120_000): Promise<void> {
  const finalRun = startService(env, FAST_GROUP_FLAGS);
  assert.ok(await finalRun.consuming(), finalRun.output());
  const caughtUp = await untilCommittedToEnd(groupId, topic, timeoutMs);
  const exitCode = await finalRun.stop();
  assert.ok(caughtUp, `final run did not commit to the end:\n${finalRun.output().slice(-3000)}`);
  assert.equal(exitCode, 0, finalRun.output().slice(-3000));
}
