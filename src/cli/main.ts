// The `kafka-to-elastic` command line: run | status | lag | replay | config check | dlq.
import type { Admin } from '@platformatic/kafka';
import { configFlags, parseFlags } from '../config/flags.js';
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, loadHttpConfig, loadKafkaConfig, maskSecrets } from '../config/load.js';
import { redactorFor } from '../config/secrets.js';
import { redactUrls } from '../util/redact.js';
import type { Config } from '../config/schema.js';
import { groupLag } from '../admin/group-offsets.js';
import { kafkaClientOptions } from '../source/connection.js';
import { currentTopics } from '../source/topic-pattern.js';
import { ReplayError, type ReplayTarget, parseOffsetList, resetGroupOffsets } from '../admin/replay.js';
import { resolveWorkerCount } from '../workers/count.js';
// The service, the Kafka client and the demo producer load only for the commands that use them:
// `run` in a worker thread must not carry a second copy of everything in the main thread.

const CONFIG_HELP = `configuration, lowest precedence first:
  --config FILE (or K2E_CONFIG)   YAML or JSON file with any key of docs/configuration.md
  environment                     K2E_BROKERS, K2E_TOPICS, K2E_GROUP_ID, K2E_ELASTIC_URL, K2E_INDEX,
                                  K2E_HTTP_PORT, K2E_DELIVERY, K2E_DOCUMENT_ID, K2E_LOG_LEVEL, ...
  flags                           --brokers, --topics, --group, --elastic-url, --index, --delivery,
                                  --http-port, --log-level, or any key as --section.key=value`;

const HELP: Record<string, string> = {
  main: `usage: kafka-to-elastic <command> [options]
commands:
  run            consume the configured topics and index them (until SIGTERM/SIGINT)
  status         print the running service's /status
  lag            print the consumer group's lag per partition, read from the broker
  replay         reset the group's offsets (earliest, offsets or timestamp) so it re-reads
  config check   validate the configuration and print it, secrets masked
  dlq            the dead-letter topic: summary, show, redrive
  demo produce   produce tweet-like events (Avro or JSON) at a steady rate
'kafka-to-elastic <command> --help' describes each.`,
  run: `usage: kafka-to-elastic run [--config FILE] [flags]
Waits until Kafka, the topics and the search engine are ready, then consumes and indexes until
SIGTERM/SIGINT (flushes, commits, leaves the group, exits 0).
${CONFIG_HELP}`,
  status: `usage: kafka-to-elastic status [--url URL] [--token-file FILE] [--config FILE]
Prints the JSON of a running service's /status (default: http.host and http.port of the configuration,
127.0.0.1:8080). When the service requires a bearer token (http.tokenFile), it is read from --token-file
or from the configuration (http.tokenFile, K2E_HTTP_TOKEN_FILE).`,
  lag: `usage: kafka-to-elastic lag [--group G] [--topics a,b] [--brokers host:port] [--json]
Reads committed and end offsets from the broker; no service needs to run. Defaults from the configuration.`,
  replay: `usage: kafka-to-elastic replay --group G (--to-earliest | --to-offset P:O[,P:O] | --to-timestamp T) [--topics a,b]
Resets the group's committed offsets; the next 'run' with that group re-reads from there and
overwrites the documents (ids are deterministic). Refused while the group has running members.
  --to-offset     partition:offset, or topic:partition:offset when several topics are configured
  --to-timestamp  ISO-8601 date or epoch milliseconds: the first offset at or after it, per partition
A new --group id is the other way to re-read everything (with auto offset reset 'earliest').`,
  demo: `usage: kafka-to-elastic demo produce [--format avro|json] [--rate N] [--count N] [--topic T] [--brokers host:port] [--registry URL]
Produces tweet-like events (the course's TwitterAvroModel: userId, id, text, createdAt in epoch millis),
keyed by id, at N per second (default 10) until --count or Ctrl-C. Avro uses the Confluent wire format and
registers the schema as <topic>-value in the registry (--registry or K2E_SCHEMA_REGISTRY_URL).
Defaults: --topic twitter-topic, --format avro, brokers from K2E_BROKERS or 127.0.0.1:9092.`,
  config: `usage: kafka-to-elastic config check [--config FILE] [flags]
Validates the configuration from all sources and prints the effective values, secrets masked.
${CONFIG_HELP}`,
};

/** Flags as a map (see parseFlags). */
const flagMap = (argv: string[]): Map<string, string> => new Map(parseFlags(argv));

async function withAdmin<T>(kafka: Config['kafka'], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const { Admin } = await import('@platformatic/kafka');
  const admin = new Admin({ ...kafkaClientOptions(kafka, '-cli'), retries: 2 });
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

function kafkaConfig(argv: string[], own: string[]): ReturnType<typeof loadKafkaConfig> {
  const flags = flagMap(argv);
  return loadKafkaConfig({ flags: configFlags(argv, [...own, 'config']), ...(flags.has('config') ? { file: flags.get('config')! } : {}) });
}

/** kafka.topics, or the topics kafka.topicPattern matches now (dead-letter topics, errors.dlqTopic, excluded). */
async function topicsOf(admin: Admin, { kafka, dlqTopic }: ReturnType<typeof loadKafkaConfig>): Promise<string[]> {
  if (kafka.topicPattern === undefined) return kafka.topics;
  return currentTopics(kafka, await admin.listTopics(), dlqTopic);
}

async function lag(argv: string[]): Promise<number> {
  const flags = flagMap(argv);
  const loaded = kafkaConfig(argv, ['json']);
  const { kafka } = loaded;
  const rows = await withAdmin(kafka, async (admin) => groupLag(admin, kafka.groupId, await topicsOf(admin, loaded)));
  if (flags.has('json')) {
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

async function replay(argv: string[]): Promise<number> {
  const flags = flagMap(argv);
  const own = ['to-earliest', 'to-offset', 'to-timestamp'];
  const chosen = own.filter((f) => flags.has(f));
  if (chosen.length !== 1) throw new ReplayError(`choose exactly one of --to-earliest, --to-offset, --to-timestamp\n\n${HELP.replay}`);
  const loaded = kafkaConfig(argv, own);
  const { kafka } = loaded;
  let target: ReplayTarget;
  if (flags.has('to-earliest')) target = { kind: 'earliest' };
  else if (flags.has('to-offset')) target = { kind: 'offsets', offsets: parseOffsetList(flags.get('to-offset')!, kafka.topics) };
  else {
    const text = flags.get('to-timestamp')!;
    const timestampMs = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
    if (Number.isNaN(timestampMs)) throw new ReplayError(`--to-timestamp "${text}": expected an ISO-8601 date or epoch milliseconds`);
    target = { kind: 'timestamp', timestampMs };
  }
  const offsets = await withAdmin(kafka, async (admin) => resetGroupOffsets(admin, kafka.groupId, await topicsOf(admin, loaded), target));
  for (const [key, offset] of offsets) console.log(`${kafka.groupId} ${key} -> ${offset}`);
  console.log(`group "${kafka.groupId}" reset: the next run re-reads from these offsets`);
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const flags = flagMap(argv);
  const http = loadHttpConfig({ flags: configFlags(argv, ['url', 'token-file', 'config']), ...(flags.has('config') ? { file: flags.get('config')! } : {}) });
  const url = flags.get('url') ?? `http://${localAddress(http.host)}:${http.port}`;
  const token = flags.has('token-file') ? readToken(flags.get('token-file')!) : http.token;
  const response = await fetch(new URL('/status', url), token ? { headers: { authorization: `Bearer ${token}` } } : {}).catch(() => undefined);
  if (!response) {
    console.error(`no service answers on ${redactUrls(url)}/status`);
    return 1;
  }
  if (response.status === 401) {
    console.error(`${redactUrls(url)}/status wants a bearer token${token ? ', and refused this one' : ''}: pass --token-file FILE, or set http.tokenFile (K2E_HTTP_TOKEN_FILE) to the file the service reads`);
    return 1;
  }
  if (!response.ok) {
    console.error(`${redactUrls(url)}/status answered ${response.status}`);
    return 1;
  }
  console.log(JSON.stringify(await response.json(), null, 2));
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

/** `dlq ...`, loaded only when used: `run` starts no slower for it. */
async function runDlq(argv: string[]): Promise<number> {
  const [{ dlqCommand, DlqUsageError }, { DlqReadError }, { RedriveError }] = await Promise.all([import('./dlq.js'), import('../dlq/read.js'), import('../dlq/redrive.js')]);
  try {
    return await dlqCommand(argv);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DlqUsageError || error instanceof RedriveError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof DlqReadError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

/** @param shutdown aborted by SIGTERM/SIGINT (the bin catches them before the modules load) */
export async function main(argv: string[], shutdown?: AbortSignal): Promise<number> {
  const [command, ...rest] = argv;
  const args = command === 'config' || command === 'demo' ? rest.slice(1) : rest;
  if (command === undefined || command === '--help' || command === 'help') {
    console.log(HELP.main);
    return 0;
  }
  // dlq has subcommands, each with its own --help.
  if (command === 'dlq') return runDlq(rest);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(HELP[command] ?? HELP.main);
    return HELP[command] ? 0 : 2;
  }
  try {
    switch (command) {
      case 'run': {
        const flags = flagMap(args);
        const loaded = loadConfig({ flags: configFlags(args, ['config']), ...(flags.has('config') ? { file: flags.get('config')! } : {}) });
        // Terminal detection happens here: a worker thread's stdout is never a TTY.
        const config = {
          ...loaded,
          logFormat: loaded.logFormat === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : loaded.logFormat,
          progress: loaded.progress === 'auto' ? (process.stderr.isTTY ? 'tty' : 'lines') : loaded.progress,
        } as const;
        const workers = resolveWorkerCount(config.workers);
        // workers: 1 is the service as it always ran (no pool, the same HTTP server).
        if (workers > 1) return await (await import('../workers/pool.js')).runWorkers(config, workers, shutdown);
        if (config.maxHeapMb > 0) return await (await import('./run-worker.js')).runInWorker(config, config.maxHeapMb, shutdown);
        return await (await import('./run.js')).runService(config, shutdown);
      }
      case 'config': {
        if (rest[0] !== 'check') break;
        const flags = flagMap(args);
        const config = loadConfig({ flags: configFlags(args, ['config']), ...(flags.has('config') ? { file: flags.get('config')! } : {}) });
        // Masked by key, then every known secret value and URL password wherever else it might sit.
        console.log(redactorFor(config).redact(JSON.stringify(maskSecrets(config), null, 2)));
        console.error('configuration is valid');
        return 0;
      }
      case 'status':
        return await status(args);
      case 'lag':
        return await lag(args);
      case 'replay':
        return await replay(args);
      case 'demo': {
        if (rest[0] !== 'produce') break;
        const flags = flagMap(args);
        const format = flags.get('format') ?? 'avro';
        if (format !== 'avro' && format !== 'json') throw new ConfigError(`--format "${format}": expected avro or json`);
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        const { demoProduce } = await import('./demo-produce.js');
        const produced = await demoProduce({
          brokers: (flags.get('brokers') ?? process.env.K2E_BROKERS ?? '127.0.0.1:9092').split(','),
          topic: flags.get('topic') ?? 'twitter-topic',
          format,
          rate: Number(flags.get('rate') ?? 10),
          count: flags.has('count') ? Number(flags.get('count')) : undefined,
          registryUrl: flags.get('registry') ?? process.env.K2E_SCHEMA_REGISTRY_URL,
          signal: stop.signal,
        });
        console.log(`produced ${produced} ${format} tweets`);
        return 0;
      }
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ReplayError) {
      console.error(error.message);
      return 2;
    }
    // Printed with its stack by the bin: no URL password in it, whatever library wrote the message.
    if (error instanceof Error) {
      error.message = redactUrls(error.message);
      if (error.stack) error.stack = redactUrls(error.stack);
    }
    throw error;
  }
  console.error(HELP.main);
  return 2;
}
