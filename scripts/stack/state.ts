// The stack's state file: which broker and which search engines `up` started, and where.
// Tests, benchmarks and the demo read it, so all of them use the same running stack.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EngineName } from './layout.js';
import { readLayout } from './layout.js';

export interface StackState {
  brokers: string;
  engines: { name: EngineName; url: string }[];
  /** Confluent-compatible schema registry URL, when the stack runs one. */
  registry?: string;
  /** The broker's SASL/PLAIN listener and its test user. */
  sasl?: { brokers: string; mechanism: 'PLAIN'; username: string; password: string };
}

export const stateFile = (): string => path.join(readLayout().home, 'state.json');

export function writeState(state: StackState): void {
  writeFileSync(stateFile(), `${JSON.stringify(state, null, 2)}\n`);
}

/** The running stack, or the defaults of a stack the user runs elsewhere (env K2E_BROKERS, K2E_ELASTIC_URL). */
export function readState(): StackState {
  if (existsSync(stateFile())) return JSON.parse(readFileSync(stateFile(), 'utf8')) as StackState;
  return {
    brokers: process.env.K2E_BROKERS ?? '127.0.0.1:9092',
    engines: [{ name: 'elasticsearch', url: process.env.K2E_ELASTIC_URL ?? 'http://127.0.0.1:9200' }],
    ...(process.env.K2E_SCHEMA_REGISTRY_URL ? { registry: process.env.K2E_SCHEMA_REGISTRY_URL } : {}),
  };
}
