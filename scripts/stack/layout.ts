// Where the local stack keeps its artifacts, data and logs, and which ports it uses.
// Everything is read from the environment so tests, benchmarks and the quick start share one stack.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export type EngineName = 'elasticsearch' | 'opensearch';
export const ENGINE_NAMES: readonly EngineName[] = ['elasticsearch', 'opensearch'];

/** Repository root: this module runs compiled, from dist/scripts/stack/. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65535) {
    throw new Error(`${name} must be a port-like positive integer, got "${raw}"`);
  }
  return value;
}

export interface StackLayout {
  home: string;
  kafkaPort: number;
  kafkaControllerPort: number;
  kafkaHeap: string;
  enginePort: number;
  registryPort: number;
  /** The TLS gateway (nginx): HTTPS + basic auth here, client certificates on the next port. */
  gatewayPort: number;
  /** The forward proxy (tinyproxy). */
  proxyPort: number;
  /** Start the schema registry with the stack (STACK_REGISTRY=0 skips it). */
  registry: boolean;
  engineHeap: string;
  upTimeoutMs: number;
}

export function readLayout(): StackLayout {
  const kafkaPort = intFromEnv('KAFKA_PORT', 9092);
  return {
    home: path.resolve(process.env.STACK_HOME ?? path.join(repoRoot, '.stack')),
    kafkaPort,
    // Next to the broker unless set: moving KAFKA_PORT moves every Kafka port (see kafka.ts).
    kafkaControllerPort: intFromEnv('KAFKA_CONTROLLER_PORT', kafkaPort + 1),
    kafkaHeap: process.env.KAFKA_HEAP ?? '512m',
    enginePort: intFromEnv('ENGINE_PORT', 9200),
    registryPort: intFromEnv('REGISTRY_PORT', 8081),
    gatewayPort: intFromEnv('GATEWAY_PORT', 9243),
    proxyPort: intFromEnv('PROXY_PORT', 9280),
    registry: process.env.STACK_REGISTRY !== '0' && process.env.STACK_REGISTRY !== 'false',
    engineHeap: process.env.ENGINE_HEAP ?? '1g',
    upTimeoutMs: intFromEnv('STACK_UP_TIMEOUT', 240) * 1000,
  };
}
