// Loads the configuration from its three sources, lowest precedence first: a config file (YAML or
// JSON), K2E_* environment variables, CLI flags (--key.path=value). Every error names where the value
// came from (file key, variable or flag), the value and what is allowed. Secrets may also come from
// files (`<key>File`, `<VARIABLE>_FILE`), as container platforms mount them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { decodeCloudId } from './cloud-id.js';
import { parseFlags } from './flags.js';
import { isKnownKey, keySuggestion, schemaAt } from './keys.js';
import { configChecks, connectionChecks } from './checks.js';
import { type Config, configSchema, REREAD_SECRET_FILES, SECRET_KEYS } from './schema.js';
import { redactorFor, shownValue } from './secrets.js';
import { settingFileProblems } from './setting-files.js';
import { splitUrlCredentials } from '../util/redact.js';
import { didYouMean } from '../util/suggest.js';

export { maskSecrets } from './secrets.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variables and the config key each sets. */
const ENV_KEYS: Readonly<Record<string, string>> = {
  K2E_BROKERS: 'kafka.brokers',
  K2E_TOPICS: 'kafka.topics',
  K2E_GROUP_ID: 'kafka.groupId',
  K2E_CLIENT_ID: 'kafka.clientId',
  K2E_AUTO_OFFSET_RESET: 'kafka.autoOffsetReset',
  K2E_KAFKA_TLS: 'kafka.tls',
  K2E_KAFKA_SASL_MECHANISM: 'kafka.sasl.mechanism',
  K2E_KAFKA_SASL_USERNAME: 'kafka.sasl.username',
  K2E_KAFKA_SASL_PASSWORD: 'kafka.sasl.password',
  K2E_KAFKA_SASL_TOKEN: 'kafka.sasl.token',
  K2E_DELIVERY: 'delivery',
  K2E_DOCUMENT_ID: 'document.id',
  K2E_ELASTIC_URL: 'elastic.url',
  K2E_ELASTIC_URLS: 'elastic.urls',
  K2E_ELASTIC_CLOUD_ID: 'elastic.cloudId',
  K2E_ELASTIC_PROXY: 'elastic.proxy',
  K2E_ELASTIC_AWS_REGION: 'elastic.aws.region',
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
  K2E_HTTP_HOST: 'http.host',
  K2E_HTTP_TOKEN: 'http.token',
  K2E_MAX_HEAP_MB: 'maxHeapMb',
  K2E_MAX_YOUNG_GENERATION_MB: 'maxYoungGenerationMb',
  K2E_HEAP_GROWTH_PERCENT: 'heapGrowthPercent',
  K2E_WORKERS: 'workers',
  K2E_LOG_LEVEL: 'logLevel',
  K2E_LOG_FORMAT: 'logFormat',
};

/** Short flags for the keys people set most. */
export const FLAG_ALIASES: Readonly<Record<string, string>> = {
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
};
/** Used when none of elastic.url, elastic.urls, elastic.cloudId is set. */
const DEFAULT_ELASTIC_URL = 'http://127.0.0.1:9200';

/** `<VARIABLE>_FILE` for every variable that sets a secret: the file's content is the value. */
const SECRET_FILE_VARIABLES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ENV_KEYS)
    .filter(([, key]) => SECRET_KEYS.has(key))
    .map(([variable, key]) => [`${variable}_FILE`, `${key}File`]),
);

/** Variables starting with this are not settings: reserved for the project's own tests and tools. */
const NON_CONFIG_PREFIX = 'K2E_TEST_';

/** Every K2E_ variable the service reads. */
const KNOWN_VARIABLES: readonly string[] = ['K2E_CONFIG', ...Object.keys(ENV_KEYS), ...Object.keys(SECRET_FILE_VARIABLES)];

/**
 * An unknown K2E_ variable is a mistake (K2E_BROKER for K2E_BROKERS would silently fall back to the
 * default broker): refused, with the closest known name.
 */
export function checkEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith('K2E_') && !name.startsWith(NON_CONFIG_PREFIX) && !KNOWN_VARIABLES.includes(name))
    .sort();
  if (unknown.length === 0) return;
  const lines = unknown.map((name) => `  ${name}: unknown environment variable${didYouMean(name, KNOWN_VARIABLES)}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}\n(the K2E_ variables are listed in docs/configuration.md; ${NON_CONFIG_PREFIX}* is left to tests)`);
}

type Origin = string; // "K2E_TOPICS", "--index", "config.yaml: kafka.topics"

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** `--key=value` / `--key value` flags (anything else is ignored here). */
  flags?: string[];
  /** Config file; defaults to K2E_CONFIG. */
  file?: string;
}

export function loadConfig(options: LoadOptions = {}): Config {
  return load(options, configSchema.superRefine(configChecks));
}

/**
 * The configuration for reading a dead-letter topic (`dlq summary | show`): everything is validated,
 * but where records would go is not needed (no kafka.topics or elastic.index required).
 */
export function loadReaderConfig(options: LoadOptions = {}): Config {
  return load(options, configSchema.superRefine(connectionChecks));
}

function load(options: LoadOptions, schema: z.ZodType<Config>): Config {
  const { raw, origins } = collect(options);
  const result = schema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssues(result.error, raw, origins));
  checkFiles(result.data, origins);
  moveRegistryCredentials(result.data, origins);
  return result.data;
}

/**
 * User information in schemaRegistry.url becomes schemaRegistry.username/password (basic auth), so
 * the URL the service keeps, logs and shows carries no credentials (fetch refuses such URLs anyway).
 */
function moveRegistryCredentials(config: Config, origins: Map<string, Origin>): void {
  const registry = config.schemaRegistry;
  if (!registry) return;
  const { url, username, password } = splitUrlCredentials(registry.url);
  if (username === undefined) return;
  if (registry.username !== undefined || registry.password !== undefined) {
    const where = origins.get('schemaRegistry.url') ?? 'schemaRegistry.url';
    throw new ConfigError(`  ${where} (schemaRegistry.url) carries user information, and schemaRegistry.username/password are set too: set the credentials in one place`);
  }
  registry.url = url;
  registry.username = username;
  if (password !== undefined) registry.password = password;
}

/** Every file a setting names, read (and parsed when JSON) now, as the service reads it later. */
function checkFiles(config: Parameters<typeof settingFileProblems>[0], origins: Map<string, Origin>): void {
  const problems = settingFileProblems(config, (key) => origins.get(key) ?? key);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}

/**
 * What the admin commands (`lag`, `replay`) need, without the rest of the configuration: the kafka
 * section, and the dead-letter topic's template (which topics kafka.topicPattern must not match).
 */
export function loadKafkaConfig(options: LoadOptions = {}): { kafka: Config['kafka']; dlqTopic: string } {
  const { raw, origins } = collect(options);
  const errors = (raw.errors ?? {}) as Record<string, unknown>;
  const result = z.object({ kafka: configSchema.shape.kafka, dlqTopic: configSchema.shape.errors.shape.dlqTopic }).safeParse({ kafka: raw.kafka, dlqTopic: errors.dlqTopic });
  if (result.success) {
    checkFiles({ kafka: result.data.kafka }, origins);
    return result.data;
  }
  for (const issue of result.error.issues) if (issue.path[0] === 'dlqTopic') issue.path.splice(0, 1, 'errors', 'dlqTopic');
  throw new ConfigError(describeIssues(result.error, raw, origins));
}

/** The `http` section alone (for the `status` command: where the service listens, its token). */
export function loadHttpConfig(options: LoadOptions = {}): Config['http'] {
  const { raw, origins } = collect(options);
  const result = z.object({ http: configSchema.shape.http }).safeParse({ http: raw.http });
  if (!result.success) throw new ConfigError(describeIssues(result.error, raw, origins));
  return result.data.http;
}

function collect(options: LoadOptions): { raw: Record<string, unknown>; origins: Map<string, Origin> } {
  const env = options.env ?? process.env;
  const raw: Record<string, unknown> = {};
  const origins = new Map<string, Origin>();
  const set = (key: string, value: unknown, origin: Origin): void => {
    // A secret and its file replace each other: the source with the higher precedence wins.
    const counterpart = secretCounterpart(key);
    if (counterpart) deletePath(raw, counterpart);
    setPath(raw, key, value);
    origins.set(key, origin);
  };
  for (const [key, value] of Object.entries(DEFAULTS)) set(key, value, `default of ${key}`);

  checkEnvironment(env);
  const file = options.file ?? env.K2E_CONFIG;
  // A relative path in a config file is relative to the file's folder (flags and variables: to the working directory).
  const relativeTo = file ? path.dirname(path.resolve(file)) : '';
  const pathIn = (key: string, value: unknown): unknown => (isFileKey(key) && typeof value === 'string' && value !== '' && !path.isAbsolute(value) ? path.resolve(relativeTo, value) : value);
  if (file) for (const [key, value] of flatten(readConfigFile(file))) set(key, pathIn(key, value), `${file}: ${key}`);
  for (const [variable, key] of Object.entries({ ...ENV_KEYS, ...SECRET_FILE_VARIABLES })) {
    const value = env[variable];
    if (value === undefined || value === '') continue;
    const both = variable.endsWith('_FILE') ? variable.slice(0, -'_FILE'.length) : `${variable}_FILE`;
    if (SECRET_FILE_VARIABLES[variable] && env[both]) throw new ConfigError(`set ${both} or ${variable}, not both`);
    set(key, coerce(key, value), variable);
  }
  for (const [flag, value] of parseFlags(options.flags ?? [])) {
    if (flag === 'config') continue; // the file itself, read above
    const key = FLAG_ALIASES[flag] ?? flag;
    set(key, coerce(key, value), `--${flag}`);
  }

  const unknown = [...origins].filter(([key]) => !isKnownKey(key));
  if (unknown.length > 0) {
    const lines = unknown.map(([key, origin]) => `  ${origin}: unknown key${origin.endsWith(key) ? '' : ` ${key}`}${keySuggestion(key)}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  for (const section of ['kafka', 'elastic', 'batch', 'retry', 'init', 'http', 'document', 'errors', 'decode']) raw[section] ??= {};
  readSecretFiles(raw, origins);
  resolveElasticUrl(raw, origins);
  return { raw, origins };
}

/** `elastic.password` ↔ `elastic.passwordFile` (none for a token file that stays a path). */
function secretCounterpart(key: string): string | undefined {
  if (SECRET_KEYS.has(key)) return REREAD_SECRET_FILES.has(key) ? undefined : `${key}File`;
  const base = key.endsWith('File') ? key.slice(0, -'File'.length) : undefined;
  return base !== undefined && SECRET_KEYS.has(base) && !REREAD_SECRET_FILES.has(base) ? base : undefined;
}

/** Replaces every `<secret>File` with the file's content (one trailing newline dropped); errors never show it. */
function readSecretFiles(raw: Record<string, unknown>, origins: Map<string, Origin>): void {
  for (const key of SECRET_KEYS) {
    if (REREAD_SECRET_FILES.has(key)) continue;
    const fileKey = `${key}File`;
    const file = getPath(raw, fileKey);
    if (file === undefined) continue;
    const where = origins.get(fileKey) ?? fileKey;
    if (typeof file !== 'string' || file === '') throw new ConfigError(`${where} (${fileKey}): expected the path of a file holding ${key}`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`${where} (${fileKey}): cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    deletePath(raw, fileKey);
    setPath(raw, key, text.replace(/\r?\n$/, ''));
    origins.set(key, `${where} (file ${file})`);
  }
}

/** elastic.url is the first endpoint: given, or the first of elastic.urls, or decoded from elastic.cloudId. */
function resolveElasticUrl(raw: Record<string, unknown>, origins: Map<string, Origin>): void {
  const elastic = raw.elastic as Record<string, unknown>;
  const given = (['url', 'urls', 'cloudId'] as const).filter((k) => elastic[k] !== undefined);
  if (given.length > 1) {
    throw new ConfigError(`set only one of elastic.url, elastic.urls and elastic.cloudId; got ${given.map((k) => origins.get(`elastic.${k}`) ?? `elastic.${k}`).join(' and ')}`);
  }
  if (given[0] === 'urls' && Array.isArray(elastic.urls) && typeof elastic.urls[0] === 'string') {
    elastic.url = elastic.urls[0];
    origins.set('elastic.url', origins.get('elastic.urls') ?? 'elastic.urls');
  } else if (given[0] === 'cloudId') {
    try {
      elastic.url = decodeCloudId(String(elastic.cloudId));
    } catch (error) {
      throw new ConfigError(`${origins.get('elastic.cloudId') ?? 'elastic.cloudId'} (elastic.cloudId): ${(error as Error).message}`);
    }
    origins.set('elastic.url', origins.get('elastic.cloudId') ?? 'elastic.cloudId');
  } else if (given.length === 0) {
    elastic.url = DEFAULT_ELASTIC_URL;
    origins.set('elastic.url', 'default of elastic.url');
  }
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
    throw new ConfigError(`config file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${parseProblem(error as Error)}`);
  }
}

/** A parser's message without the excerpt of the file it quotes (the line may hold a secret): the position is enough. */
function parseProblem(error: Error): string {
  return error.message
    .split('\n')[0]!
    .replace(/:$/, '')
    .replace(/,? ?"[\s\S]*" is not valid JSON/, ' is not valid JSON');
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
  const list = (): string[] => trimmed.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (expected instanceof z.ZodArray) return list();
  // `all | none | [names]`: a word the union takes as it is, else a comma-separated list.
  if (expected instanceof z.ZodUnion && (expected.options as z.ZodType[]).some((o) => o instanceof z.ZodArray)) {
    return (expected.options as z.ZodType[]).some((o) => !(o instanceof z.ZodArray) && o.safeParse(trimmed).success) ? trimmed : list();
  }
  const allows = (type: typeof z.ZodNumber | typeof z.ZodBoolean): boolean =>
    expected instanceof type || (expected instanceof z.ZodUnion && (expected.options as z.ZodType[]).some((o) => o instanceof type));
  if (allows(z.ZodNumber)) return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed; // the schema rejects text
  if (allows(z.ZodBoolean)) return trimmed === 'true' ? true : trimmed === 'false' ? false : trimmed;
  return trimmed;
}

/** Settings that name a file (certificates, keys, tokens, definitions, schemas, secrets): `...File`. */
const isFileKey = (key: string): boolean => /File$/.test(key.slice(key.lastIndexOf('.') + 1));

function getPath(target: Record<string, unknown>, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), target);
}

function deletePath(target: Record<string, unknown>, dotted: string): void {
  const keys = dotted.split('.');
  const parent = getPath(target, keys.slice(0, -1).join('.'));
  if (parent !== null && typeof parent === 'object') delete (parent as Record<string, unknown>)[keys.at(-1)!];
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

/** Every issue on a line naming where the value came from; no secret value, no URL password, in any line. */
function describeIssues(error: z.ZodError, raw: Record<string, unknown>, origins: Map<string, Origin>): string {
  const lines = error.issues.flatMap(unionBranch).map((issue) => {
    // A list element's issue (kafka.brokers.0) is reported against the whole key.
    const keys = issue.path.filter((p): p is string => typeof p === 'string');
    const key = keys.join('.');
    if (issue.code === 'unrecognized_keys') return `  ${origins.get(`${key ? `${key}.` : ''}${issue.keys[0]}`) ?? key}: unknown key(s) ${issue.keys.join(', ')}`;
    const value = keys.reduce<unknown>((node, k) => (node as Record<string, unknown> | undefined)?.[k], raw);
    const where = origins.get(key) ?? envVariableFor(key) ?? key;
    return `  ${where} (${key}) ${value === undefined ? 'is not set' : `is ${shownValue(key, value)}`}: ${issue.message}`;
  });
  // Secret values the messages themselves might quote (a refinement's input, a header under a key).
  return redactorFor(raw).redact(`invalid configuration:\n${lines.join('\n')}`);
}

/**
 * A union's issue, as the user needs it: when the value had the shape of one alternative (an object
 * for kafka.tls), what is wrong inside it; otherwise the union's own message, which names every
 * alternative (the schema gives each union one; zod's default would be a bare "Invalid input").
 */
function unionBranch(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const inner = issue.errors.find((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
  if (inner) return inner.map((i) => ({ ...i, path: [...issue.path, ...i.path] })).flatMap(unionBranch);
  if (issue.message !== 'Invalid input') return [issue];
  const expected = issue.errors.map((branch) => branch[0]?.message.replace(/^Invalid input: /, '').replace(/, received .*$/, '')).filter(Boolean);
  return [{ ...issue, message: `expected one of: ${expected.join('; ')}` }];
}

function envVariableFor(key: string): string | undefined {
  const variable = Object.entries(ENV_KEYS).find(([, k]) => k === key)?.[0];
  return variable ? `${variable} / --${key}` : undefined;
}
