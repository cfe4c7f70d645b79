// The running local stack as the tests see it (written by `npm run stack -- up`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../scripts/stack/layout.js';
import { readState } from '../../scripts/stack/state.js';

export const stack = readState();
export const brokers = stack.brokers;

/** Unique names so test runs never see each other's topics, groups or indices. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Stops or starts one server of the local stack (an outage the tests control). */
export function stackCommand(command: 'stop' | 'start', service: string): void {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'stack', 'cli.js'), command, service], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`stack ${command} ${service} failed:\n${result.stdout}${result.stderr}`);
}
