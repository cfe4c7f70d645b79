// Loads the configuration from its three sources, lowest precedence first: a config file (YAML or
// JSON), K2E_* environment variables, CLI flags (--key.path=value). Every error names where the value
// came from (file key, variable or flag), the value and what is allowed.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseFlags } from './flags.js';
import { type Config, configChecks, configSchema, SECRET_KEYS } from './schema.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables and the config key each sets. */
export const ENV_KEYS: Readonly<Record<string, string>> = {
  K2E_BROKERS: 'kafka.brokers',
  K2E_TOPICS: 'kafka.topics',
  K2E_GROUP_ID: 'kafka.groupId',
  K2E_CLIENT_ID: 'kafka.clientId',
  K2E_AUTO_OFFSET_RESET: 'kafka.autoOffsetReset',
  K2E_DELIVERY: 'delivery',
  K2E_DOCUMENT_ID: 'document.id',
  K2E_ELASTIC_URL: 'elastic.url',
  K2E_INDEX: 'elastic.index',
  K2E_ELASTIC_USERNAME: 'elastic.username',
  K2E_ELASTIC_PASSWORD: 'elastic.password',
  K2E_ELASTIC_API_KEY: 'elastic.apiKey',
  K2E_BATCH_MAX_DOCS: 'batch.maxDocs',
  K2E_BATCH_MAX_BYTES: 'batch.maxBytes',
  K2E_BATCH_LINGER_MS: 'batch.lingerMs',
  K2E_BATCH_MAX_IN_FLIGHT: 'batch.maxInFlight',
  K2E_INIT_BUDGET_MS: 'init.budgetMs',
  K2E_ERROR_POLICY: 'errors.policy',
  K2E_FORMAT: 'decode.format',
  K2E_SCHEMA_REGISTRY_URL: 'schemaRegistry.url',
  K2E_SCHEMA_REGISTRY_USERNAME: 'schemaRegistry.username',
  K2E_SCHEMA_REGISTRY_PASSWORD: 'schemaRegistry.password',
  K2E_DLQ_TOPIC: 'errors.dlqTopic',
  K2E_HTTP_PORT: 'http.port',
  K2E_MAX_HEAP_MB: 'maxHeapMb',
  K2E_LOG_LEVEL: 'logLevel',
  K2E_LOG_FORMAT: 'logFormat',
};

/** Short flags for the keys people set most. */
const FLAG_ALIASES: Readonly<Record<string, string>> = {
  brokers: 'kafka.brokers',
  topics: 'kafka.topics',
  group: 'kafka.groupId',
  'group-id': 'kafka.groupId',
  'elastic-url': 'elastic.url',
  index: 'elastic.index',
  delivery: 'delivery',
  'http-port': 'http.port',
  'log-level': 'logLevel',
};

const DEFAULTS: Readonly<Record<string, unknown>> = {
  'kafka.brokers': ['127.0.0.1:9092'],
  'elastic.url': 'http://127.0.0.1:9200',
};

type Origin = string; // "K2E_TOPICS", "--index", "config.yaml: kafka.topics"

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** `--key=value` / `--key value` flags (anything else is ignored here). */
  flags?: string[];
  /** Config file; defaults to K2E_CONFIG. */
  file?: string;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const { raw, origins } = collect(options);
  const result = configSchema.superRefine(configChecks).safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(describeIssues(result.error, raw, origins));
}

/** Only the Kafka section, for commands that talk to the broker alone (lag, replay). */
export function loadKafkaConfig(options: LoadOptions = {}): Config['kafka'] {
  const { raw, origins } = collect(options);
  const result = configSchema.shape.kafka.safeParse(raw.kafka);
  if (result.success) return result.data;
  for (const issue of result.error.issues) issue.path.unshift('kafka');
  throw new ConfigError(describeIssues(result.error, raw, origins));
}

function collect(options: LoadOptions): { raw: Record<string, unknown>; origins: Map<string, Origin> } {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  const set = (key: string, value: unknown, origin: Origin): void => {
    setPath(raw, key, value);
    origins.set(key, origin);
  };
  for (const [key, value] of Object.entries(DEFAULTS)) set(key, value, `default of ${key}`);

  const file = options.file ?? env.K2E_CONFIG;
  if (file) for (const [key, value] of flatten(readConfigFile(file))) set(key, value, `${file}: ${key}`);
  for (const [variable, key] of Object.entries(ENV_KEYS)) {
    const value = env[variable];
    if (value !== undefined && value !== '') set(key, coerce(key, value), variable);
  }
  for (const [flag, value] of parseFlags(options.flags ?? [])) {
    if (flag === 'config') continue; // the file itself, read above
    const key = FLAG_ALIASES[flag] ?? flag;
    set(key, coerce(key, value), `--${flag}`);
  }

  for (const section of ['kafka', 'elastic', 'batch', 'retry', 'init', 'http', 'document', 'errors', 'decode']) raw[section] ??= {};
  return { raw, origins };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`config file ${file} cannot be read: ${(error as Error).message}`);
  }
  try {
    const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a mapping at the top level');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
}

/** `{a: {b: 1}}` → [["a.b", 1]]; arrays are values, not branches, and so are maps keyed by data
 *  (topic names in decode.topics, elastic.indexByTopic, topicOverrides may contain dots). */
function flatten(node: Record<string, unknown>, prefix = ''): [string, unknown][] {
  return Object.entries(node).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) && !(schemaAt(`${prefix}${key}`) instanceof z.ZodRecord)
      ? flatten(value as Record<string, unknown>, `${prefix}${key}.`)
      : [[`${prefix}${key}`, value]],
  );
}

/** Text from the environment or a flag, turned into the type the schema expects at that key. */
function coerce(key: string, text: string): unknown {
  const expected = schemaAt(key);
  const trimmed = text.trim();
  if (expected instanceof z.ZodArray) return trimmed.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const numeric = expected instanceof z.ZodNumber || (expected instanceof z.ZodUnion && (expected.options as z.ZodType[]).some((o) => o instanceof z.ZodNumber));
  if (numeric) return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed; // the schema rejects text
  if (expected instanceof z.ZodBoolean) return trimmed === 'true' ? true : trimmed === 'false' ? false : trimmed;
  return trimmed;
}

/** The innermost schema at a dotted key, through defaults and optionals. */
function schemaAt(key: string): z.ZodType | undefined {
  let node: z.ZodType | undefined = configSchema;
  for (const part of key.split('.')) {
    node = unwrap(node);
    node = node instanceof z.ZodObject ? (node.shape as Record<string, z.ZodType>)[part] : undefined;
  }
  return unwrap(node);
}

function unwrap(node: z.ZodType | undefined): z.ZodType | undefined {
  while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
  return node;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function describeIssues(error: z.ZodError, raw: Record<string, unknown>, origins: Map<string, Origin>): string {
  const lines = error.issues.map((issue) => {
    // A list element's issue (kafka.brokers.0) is reported against the whole key.
    const keys = issue.path.filter((p): p is string => typeof p === 'string');
    const key = keys.join('.');
    if (issue.code === 'unrecognized_keys') return `  ${origins.get(`${key ? `${key}.` : ''}${issue.keys[0]}`) ?? key}: unknown key(s) ${issue.keys.join(', ')}`;
    const value = keys.reduce<unknown>((node, k) => (node as Record<string, unknown> | undefined)?.[k], raw);
    const where = origins.get(key) ?? envVariableFor(key) ?? key;
    const shown = SECRET_KEYS.has(key) ? '"***"' : JSON.stringify(value);
    return `  ${where} (${key}) ${value === undefined ? 'is not set' : `is ${shown}`}: ${issue.message}`;
  });
  return `invalid configuration:\n${lines.join('\n')}`;
}

function envVariableFor(key: string): string | undefined {
  const variable = Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0];
  return variable ? `${variable} / --${key}` : undefined;
}

/** The config with every secret replaced by "***", for printing. */
export function maskSecrets(config: Config): unknown {
  const copy = structuredClone(config) as Record<string, unknown>;
  for (const key of SECRET_KEYS) {
    const parts = key.split('.');
    const parent = parts.slice(0, -1).reduce<Record<string, unknown> | undefined>((node, k) => node?.[k] as Record<string, unknown> | undefined, copy);
    if (parent && parent[parts.at(-1)!] !== undefined) parent[parts.at(-1)!] = '***';
  }
  return copy;
}
