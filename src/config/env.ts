// Reads the configuration from K2E_* environment variables and validates it; every error names the
// variable, the value it had and what is allowed, so a user can fix it without reading code.
import { z } from 'zod';
import { type Config, configSchema } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Each config path and the environment variable that sets it. */
const ENV_KEYS = {
  'kafka.brokers': 'K2E_BROKERS',
  'kafka.topics': 'K2E_TOPICS',
  'kafka.groupId': 'K2E_GROUP_ID',
  'kafka.clientId': 'K2E_CLIENT_ID',
  'kafka.autoOffsetReset': 'K2E_AUTO_OFFSET_RESET',
  'elastic.url': 'K2E_ELASTIC_URL',
  'elastic.index': 'K2E_INDEX',
  'batch.maxDocs': 'K2E_BATCH_MAX_DOCS',
  'batch.maxBytes': 'K2E_BATCH_MAX_BYTES',
  'batch.lingerMs': 'K2E_BATCH_LINGER_MS',
  'batch.maxInFlight': 'K2E_BATCH_MAX_IN_FLIGHT',
  'http.port': 'K2E_HTTP_PORT',
  logLevel: 'K2E_LOG_LEVEL',
} as const;

type Path = keyof typeof ENV_KEYS;
const LIST_PATHS: ReadonlySet<Path> = new Set(['kafka.brokers', 'kafka.topics']);
const NUMBER_PATHS: ReadonlySet<Path> = new Set(['batch.maxDocs', 'batch.maxBytes', 'batch.lingerMs', 'batch.maxInFlight', 'http.port']);
const DEFAULTS: Partial<Record<Path, string>> = {
  'kafka.brokers': '127.0.0.1:9092',
  'elastic.url': 'http://127.0.0.1:9200',
};

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[keys.at(-1)!] = value;
}

function parseValue(path: Path, raw: string): unknown {
  if (LIST_PATHS.has(path)) return raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (NUMBER_PATHS.has(path)) return /^-?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw; // let the schema reject text
  return raw.trim();
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = { kafka: {}, elastic: {}, batch: {}, retry: {}, http: {} };
  for (const [path, variable] of Object.entries(ENV_KEYS) as [Path, string][]) {
    const value = env[variable] ?? DEFAULTS[path];
    if (value !== undefined && value !== '') setPath(raw, path, parseValue(path, value));
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(describeIssues(result.error, raw));
}

function describeIssues(error: z.ZodError, raw: Record<string, unknown>): string {
  const lines = error.issues.map((issue) => {
    // A list element's issue (kafka.brokers.0) is reported against the whole variable.
    const keys = issue.path.filter((p): p is string => typeof p === 'string');
    const dotted = keys.join('.');
    const variable = (ENV_KEYS as Record<string, string>)[dotted];
    const value = keys.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], raw);
    const where = variable ?? dotted;
    const got = value === undefined ? 'is not set' : `is ${JSON.stringify(value)}`;
    return `  ${where} ${got}: ${issue.message}`;
  });
  return `invalid configuration:\n${lines.join('\n')}`;
}
