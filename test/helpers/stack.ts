// The running local stack as the tests see it (written by `npm run stack -- up`).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../scripts/stack/layout.js';
import { readState } from '../../scripts/stack/state.js';

export const stack = readState();
/** Broker 1: a bootstrap address every test can use (the only broker unless `up --brokers N`). */
export const brokers = stack.brokers;
/** Every broker of the stack (one unless `up --brokers N`): clients that must survive a broker restart bootstrap from all. */
export const brokerList: string[] = stack.kafkaNodes?.map((n) => n.address) ?? [stack.brokers];
/** The same, comma-separated (K2E_BROKERS, kcat -b, Java's bootstrap.servers). */
export const allBrokers = brokerList.join(',');

/** Unique names so test runs never see each other's topics, groups or indices. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/**
 * Stops, starts or SIGKILLs servers of the local stack (an outage the tests control): `kafka` is
 * every broker, `kafka-2` one broker of a cluster (names as in `stack.kafkaNodes`).
 */
export function stackCommand(command: 'stop' | 'start' | 'kill', service: string): void {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'stack', 'cli.js'), command, service], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`stack ${command} ${service} failed:\n${result.stdout}${result.stderr}`);
}
