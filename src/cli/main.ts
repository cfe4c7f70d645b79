// The `kafka-to-elastic` command line: run | status | lag | replay | config check | dlq | demo produce.
// Arguments are parsed strictly (src/cli/args.ts); what goes wrong is one line on stderr and an exit
// code: 0 done, 1 a runtime failure (a broker, service or registry that does not answer), 2 a usage
// or configuration error. Only a bug ends in a stack trace.
import type { Admin } from '@platformatic/kafka';
import { readFileSync } from 'node:fs';
import { ConfigError, checkEnvironment, loadConfig, loadHttpConfig, loadKafkaConfig, maskSecrets } from '../config/load.js';
import { redactorFor } from '../config/secrets.js';
import { redactUrls } from '../util/redact.js';
import type { Config } from '../config/schema.js';
import { groupLag } from '../admin/group-offsets.js';
import { kafkaClientOptions } from '../source/connection.js';
import { currentTopics } from '../source/topic-pattern.js';
import { ReplayError, type ReplayTarget, parseOffsetList, resetGroupOffsets } from '../admin/replay.js';
import { resolveWorkerCount } from '../workers/count.js';
import { type CommandSpec, type ParsedArgs, parseCommandArgs, UsageError } from './args.js';
import { CommandFailure, DEFAULT_TIMEOUT_MS, fetchProblem, timeoutOption, withKafka } from './failures.js';
import { colorOutput } from '../util/logger.js';
import { didYouMean } from '../util/suggest.js';
import { VERSION } from '../util/version.js';
import { EXIT_CODES } from './exit-codes.js';
// The service, the Kafka client and the demo producer load only for the commands that use them:
// `run` in a worker thread must not carry a second copy of everything in the main thread.

const CONFIG_HELP = `configuration, lowest precedence first:
  --config FILE (or K2E_CONFIG)   YAML or JSON file with any key of docs/configuration.md; relative
                                  paths in it (…File settings) are relative to the file's folder
  environment                     K2E_BROKERS, K2E_TOPICS, K2E_GROUP_ID, K2E_ELASTIC_URL, K2E_INDEX,
                                  K2E_HTTP_PORT, K2E_DELIVERY, K2E_DOCUMENT_ID, K2E_LOG_LEVEL, ...
                                  (an unknown K2E_ variable is an error)
  flags                           --brokers, --topics, --group, --elastic-url, --index, --delivery,
                                  --http-port, --log-level, or any key as --section.key=value`;

const TIMEOUT_HELP = `  --timeout-ms N  how long to wait for an answer (default ${DEFAULT_TIMEOUT_MS})`;

export const HELP: Record<string, string> = {
  main: `usage: kafka-to-elastic <command> [options]
commands:
  run            consume the configured topics and index them (until SIGTERM/SIGINT)
  status         print the running service's /status
  lag            print the consumer group's lag per partition, read from the broker
  replay         reset the group's offsets (earliest, offsets or timestamp) so it re-reads
  config check   validate the configuration (and every file it names) and print it, secrets masked
  dlq            the dead-letter topic: summary, show, redrive
  demo produce   produce tweet-like events (Avro or JSON) at a steady rate
options:
  -h, --help     this help; 'kafka-to-elastic <command> --help' describes each command
  --version      print the version
${EXIT_CODES}`,
  run: `usage: kafka-to-elastic run [--config FILE] [flags]
Waits until Kafka, the topics and the search engine are ready, then consumes and indexes until
SIGTERM/SIGINT (flushes, commits, leaves the group, exits 0).
${CONFIG_HELP}
${EXIT_CODES}`,
  status: `usage: kafka-to-elastic status [--url URL] [--token-file FILE] [--config FILE] [--timeout-ms N]
Prints the JSON of a running service's /status (default: http.host and http.port of the configuration,
127.0.0.1:8080). When the service requires a bearer token (http.tokenFile), it is read from --token-file
or from the configuration (http.tokenFile, K2E_HTTP_TOKEN_FILE).
  --url URL       the service's HTTP endpoint, e.g. http://10.0.0.5:8080
  --token-file F  a file holding the bearer token
${TIMEOUT_HELP}
${EXIT_CODES}`,
  lag: `usage: kafka-to-elastic lag [--group G] [--topics a,b] [--brokers host:port] [--json] [--config FILE] [--timeout-ms N]
Reads committed and end offsets from the broker; no service needs to run. Defaults from the configuration.
  --json          print the rows as JSON
${TIMEOUT_HELP}
${EXIT_CODES}`,
  replay: `usage: kafka-to-elastic replay --group G (--to-earliest | --to-offset P:O[,P:O] | --to-timestamp T) [--topics a,b] [--timeout-ms N]
Resets the group's committed offsets; the next 'run' with that group re-reads from there and
overwrites the documents (ids are deterministic). Refused while the group has running members.
  --to-earliest   the first offset each partition still holds
  --to-offset     partition:offset, or topic:partition:offset when several topics are configured
  --to-timestamp  ISO-8601 date or epoch milliseconds: the first offset at or after it, per partition
${TIMEOUT_HELP}
A new --group id is the other way to re-read everything (with auto offset reset 'earliest').
${EXIT_CODES}`,
  demo: `usage: kafka-to-elastic demo produce [--format avro|json] [--rate N] [--count N] [--topic T] [--brokers host:port] [--registry URL] [--timeout-ms N]
Produces tweet-like events (the course's TwitterAvroModel: userId, id, text, createdAt in epoch millis),
keyed by id, at N per second (default 10) until --count or Ctrl-C. Avro uses the Confluent wire format and
registers the schema as <topic>-value in the registry (--registry or K2E_SCHEMA_REGISTRY_URL).
Defaults: --topic twitter-topic, --format avro, brokers from K2E_BROKERS or 127.0.0.1:9092.
${TIMEOUT_HELP}
${EXIT_CODES}`,
  config: `usage: kafka-to-elastic config check [--config FILE] [flags]
Validates the configuration from all sources, reads every file it names (certificates, keys, tokens,
index definitions and templates, the Avro reader schema; JSON ones parsed), and prints the effective
values, secrets masked: what it accepts, 'run' accepts.
${CONFIG_HELP}
${EXIT_CODES}`,
};

const CONFIG_OPTION = { config: { type: 'string' } } as const;
const TIMEOUT_OPTION = { 'timeout-ms': { type: 'string' } } as const;

const SPECS: Record<string, CommandSpec> = {
  run: { options: { ...CONFIG_OPTION }, config: true },
  config: { options: { ...CONFIG_OPTION }, config: true },
  status: { options: { ...CONFIG_OPTION, ...TIMEOUT_OPTION, url: { type: 'string' }, 'token-file': { type: 'string' } }, config: true },
  lag: { options: { ...CONFIG_OPTION, ...TIMEOUT_OPTION, json: { type: 'boolean' } }, config: true },
  replay: { options: { ...CONFIG_OPTION, ...TIMEOUT_OPTION, 'to-earliest': { type: 'boolean' }, 'to-offset': { type: 'string' }, 'to-timestamp': { type: 'string' } }, config: true },
  demo: {
    options: { ...TIMEOUT_OPTION, format: { type: 'string' }, rate: { type: 'string' }, count: { type: 'string' }, topic: { type: 'string' }, brokers: { type: 'string' }, registry: { type: 'string' } },
    config: false,
  },
};

/** Commands with a subcommand: the only one each has. */
const SUBCOMMANDS: Record<string, string> = { config: 'check', demo: 'produce' };
const COMMANDS = ['run', 'status', 'lag', 'replay', 'config', 'dlq', 'demo', 'help'];

const str = (value: string | boolean | undefined): string | undefined => (typeof value === 'string' ? value : undefined);
const loadOptions = (args: ParsedArgs) => ({ flags: args.configFlags, ...(str(args.values.config) !== undefined ? { file: str(args.values.config)! } : {}) });

async function withAdmin<T>(kafka: Config['kafka'], timeoutMs: number, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const { Admin } = await import('@platformatic/kafka');
  // Short timeouts and one retry: an operator at a terminal wants a dead broker reported in seconds.
  const admin = new Admin({ ...kafkaClientOptions(kafka, '-cli'), timeout: timeoutMs, connectTimeout: timeoutMs, requestTimeout: timeoutMs, retries: 1, retryDelay: 250 });
  try {
    return await withKafka(kafka, timeoutMs, () => fn(admin));
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** kafka.topics, or the topics kafka.topicPattern matches now (dead-letter topics, errors.dlqTopic, excluded). */
async function topicsOf(admin: Admin, { kafka, dlqTopic }: ReturnType<typeof loadKafkaConfig>): Promise<string[]> {
  if (kafka.topicPattern === undefined) return kafka.topics;
  return currentTopics(kafka, await admin.listTopics(), dlqTopic);
}

async function lag(args: ParsedArgs): Promise<number> {
  const timeoutMs = timeoutOption(args.values['timeout-ms']);
  const loaded = loadKafkaConfig(loadOptions(args));
  const { kafka } = loaded;
  const rows = await withAdmin(kafka, timeoutMs, async (admin) => groupLag(admin, kafka.groupId, await topicsOf(admin, loaded)));
  if (args.values.json) {
    console.log(JSON.stringify(rows.map((r) => ({ ...r, committed: r.committed?.toString() ?? null, end: r.end.toString(), lag: r.lag.toString() })), null, 2));
    return 0;
  }
  console.log(`group ${kafka.groupId}`);
  console.log(['topic'.padEnd(30), 'partition'.padStart(9), 'committed'.padStart(12), 'end'.padStart(12), 'lag'.padStart(10)].join(' '));
  let total = 0n;
  for (const r of rows) {
    total += r.lag;
    console.log([r.topic.padEnd(30), String(r.partition).padStart(9), (r.committed?.toString() ?? '-').padStart(12), r.end.toString().padStart(12), r.lag.toString().padStart(10)].join(' '));
  }
  console.log(`total lag ${total}`);
  return 0;
}

async function replay(args: ParsedArgs): Promise<number> {
  const { values } = args;
  const chosen = ['to-earliest', 'to-offset', 'to-timestamp'].filter((f) => values[f] !== undefined);
  if (chosen.length !== 1) throw new UsageError('choose exactly one of --to-earliest, --to-offset, --to-timestamp');
  const timeoutMs = timeoutOption(values['timeout-ms']);
  const loaded = loadKafkaConfig(loadOptions(args));
  const { kafka } = loaded;
  let target: ReplayTarget;
  if (values['to-earliest']) target = { kind: 'earliest' };
  else if (values['to-offset'] !== undefined) target = { kind: 'offsets', offsets: parseOffsetList(str(values['to-offset'])!, kafka.topics) };
  else {
    const text = str(values['to-timestamp'])!;
    const timestampMs = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isNaN(timestampMs)) throw new ReplayError(`--to-timestamp "${text}": expected an ISO-8601 date or epoch milliseconds`);
    target = { kind: 'timestamp', timestampMs };
  }
  const offsets = await withAdmin(kafka, timeoutMs, async (admin) => resetGroupOffsets(admin, kafka.groupId, await topicsOf(admin, loaded), target));
  for (const [key, offset] of offsets) console.log(`${kafka.groupId} ${key} -> ${offset}`);
  console.log(`group "${kafka.groupId}" reset: the next run re-reads from these offsets`);
  return 0;
}

/** --url as given: an http(s) URL, else a usage error naming it. */
function statusUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL('/status', text);
  } catch {
    throw new UsageError(`--url "${redactUrls(text)}" is not a URL: expected http://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url "${redactUrls(text)}": expected an http:// or https:// URL`);
  return url;
}

async function status(args: ParsedArgs): Promise<number> {
  const { values } = args;
  const timeoutMs = timeoutOption(values['timeout-ms']);
  const http = loadHttpConfig(loadOptions(args));
  const given = str(values.url);
  const url = statusUrl(given ?? `http://${localAddress(http.host)}:${http.port}`);
  const where = `${redactUrls(url.href)}${given === undefined ? ' (http.host and http.port; or --url)' : ''}`;
  const tokenFile = str(values['token-file']);
  const token = tokenFile !== undefined ? readToken(tokenFile) : http.token;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') throw new CommandFailure(`no answer from ${where} within ${timeoutMs} ms (--timeout-ms)`);
    throw new CommandFailure(`no service answers on ${where}: ${fetchProblem(error)}`);
  }
  if (response.status === 401) {
    throw new CommandFailure(`${where} wants a bearer token${token ? ', and refused this one' : ''}: pass --token-file FILE, or set http.tokenFile (K2E_HTTP_TOKEN_FILE) to the file the service reads`);
  }
  if (!response.ok) throw new CommandFailure(`${where} answered ${response.status}: is this the service's HTTP endpoint?`);
  const body = await response.text().catch((error: unknown) => {
    throw new CommandFailure(`${where}: the answer broke off (${(error as Error).message})`);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new CommandFailure(`${where} answered ${response.status} ${response.headers.get('content-type') ?? ''} but not JSON: is this the service's HTTP endpoint?`);
  }
  console.log(JSON.stringify(parsed, null, 2));
  return 0;
}

/** Where this host reaches a service listening on `host`: loopback for the wildcard addresses. */
function localAddress(host: string | undefined): string {
  const bare = host?.replace(/^\[(.*)\]$/, '$1');
  if (bare === undefined || bare === '::' || bare === '0.0.0.0') return '127.0.0.1';
  return bare.includes(':') ? `[${bare}]` : bare;
}

function readToken(file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new ConfigError(`--token-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function positiveNumber(value: string | boolean | undefined, name: string, fallback: number | undefined): number | undefined {
  if (value === undefined || typeof value === 'boolean') return fallback;
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0) throw new UsageError(`--${name} "${value}": expected a positive number`);
  return Number(value);
}

async function demo(args: ParsedArgs): Promise<number> {
  const { values } = args;
  checkEnvironment();
  const format = str(values.format) ?? 'avro';
  if (format !== 'avro' && format !== 'json') throw new UsageError(`--format "${format}": expected avro or json`);
  const count = positiveNumber(values.count, 'count', undefined);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const { demoProduce } = await import('./demo-produce.js');
    const produced = await demoProduce({
      brokers: (str(values.brokers) ?? process.env.K2E_BROKERS ?? '127.0.0.1:9092').split(','),
      topic: str(values.topic) ?? 'twitter-topic',
      format,
      rate: positiveNumber(values.rate, 'rate', 10)!,
      count: count === undefined ? undefined : Math.floor(count),
      registryUrl: str(values.registry) ?? process.env.K2E_SCHEMA_REGISTRY_URL,
      timeoutMs: timeoutOption(values['timeout-ms']),
      signal: stop.signal,
    });
    console.log(`produced ${produced} ${format} tweets${stop.signal.aborted ? ' (stopped)' : ''}`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function run(args: ParsedArgs, shutdown?: AbortSignal): Promise<number> {
  const loaded = loadConfig(loadOptions(args));
  // Terminal detection happens here: a worker thread's stdout is never a TTY.
  const config = {
    ...loaded,
    logFormat: loaded.logFormat === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : loaded.logFormat,
    progress: loaded.progress === 'auto' ? (process.stderr.isTTY ? 'tty' : 'lines') : loaded.progress,
  } as const;
  const logColor = colorOutput(process.stdout);
  const workers = resolveWorkerCount(config.workers);
  // workers: 1 is the service as it always ran (no pool, the same HTTP server).
  if (workers > 1) return (await import('../workers/pool.js')).runWorkers(config, workers, shutdown, logColor);
  if (config.maxHeapMb > 0) return (await import('../service/run-worker.js')).runInWorker(config, config.maxHeapMb, shutdown, logColor);
  return (await import('../service/run.js')).runService(config, shutdown, { logColor });
}

function configCheck(args: ParsedArgs): number {
  const config = loadConfig(loadOptions(args));
  // Masked by key, then every known secret value and URL password wherever else it might sit.
  console.log(redactorFor(config).redact(JSON.stringify(maskSecrets(config), null, 2)));
  console.error('configuration is valid');
  return 0;
}

/** `dlq ...`, loaded only when used: `run` starts no slower for it. */
async function runDlq(argv: string[]): Promise<number> {
  const [{ dlqCommand, DlqUsageError }, { DlqReadError }, { RedriveError }] = await Promise.all([import('./dlq.js'), import('../dead-letter-admin/read.js'), import('../dead-letter-admin/redrive.js')]);
  try {
    return await dlqCommand(argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DlqUsageError || error instanceof RedriveError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof DlqReadError || error instanceof CommandFailure) {
      console.error(redactUrls(error.message));
      return 1;
    }
    throw error;
  }
}

/** A usage mistake: the message, then the usage of the command it concerns, on stderr. */
function usageError(message: string, usage: string): number {
  console.error(`${message}\n\n${usage}`);
  return 2;
}

/** @param shutdown aborted by SIGTERM/SIGINT (the bin catches them before the modules load) */
export async function main(argv: string[], shutdown?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) return usageError('no command given', HELP.main!);
  if (command === '--help' || command === '-h' || (command === 'help' && rest.length === 0)) {
    console.log(HELP.main);
    return 0;
  }
  if (command === 'help') {
    // `help lag`, `help dlq show`
    if (rest[0] === 'dlq') return runDlq([...rest.slice(1), '--help']);
    if (HELP[rest[0]!] && rest.length === 1) {
      console.log(HELP[rest[0]!]);
      return 0;
    }
    return usageError(`unknown command "${rest.join(' ')}"${didYouMean(rest[0]!, COMMANDS)}`, HELP.main!);
  }
  if (command === '--version') {
    if (rest.length > 0) return usageError(`--version takes no arguments`, HELP.main!);
    console.log(VERSION);
    return 0;
  }
  if (command.startsWith('-')) return usageError(`unknown option ${command}: options come after the command`, HELP.main!);
  if (command === 'dlq') return runDlq(rest);
  const spec = SPECS[command];
  if (!spec) return usageError(`unknown command "${command}"${didYouMean(command, COMMANDS)}`, HELP.main!);
  const usage = HELP[command]!;
  let args = rest;
  const sub = SUBCOMMANDS[command];
  if (sub !== undefined) {
    if (rest[0] === '--help' || rest[0] === '-h') {
      console.log(usage);
      return 0;
    }
    if (rest[0] !== sub) return usageError(rest[0] === undefined ? `${command}: which? '${command} ${sub}'` : `unknown ${command} subcommand "${rest[0]}"${didYouMean(rest[0], [sub])}`, usage);
    args = rest.slice(1);
  }
  try {
    const parsed = parseCommandArgs(args, spec);
    if (parsed.help) {
      console.log(usage);
      return 0;
    }
    switch (command) {
      case 'run':
        return await run(parsed, shutdown);
      case 'config':
        return configCheck(parsed);
      case 'status':
        return await status(parsed);
      case 'lag':
        return await lag(parsed);
      case 'replay':
        return await replay(parsed);
      default:
        return await demo(parsed);
    }
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message, usage);
    if (error instanceof ConfigError || error instanceof ReplayError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof CommandFailure) {
      console.error(redactUrls(error.message));
      return 1;
    }
    // Printed with its stack by the bin: no URL password in it, whatever library wrote the message.
    if (error instanceof Error) {
      error.message = redactUrls(error.message);
      if (error.stack) error.stack = redactUrls(error.stack);
    }
    throw error;
  }
}
