// Runs the real service as a child process (the bin users run), with its config in the environment.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../../scripts/stack/layout.js';

export interface RunningService {
  child: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: a crash, nothing flushed or committed. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
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
