// `kafka-to-elastic dlq summary | show | redrive`: the dead-letter topic of a configured source topic,
// read with the service's own configuration (the same --config / K2E_* / flags as `run`).
import { loadConfig, loadReaderConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { readDeadLetters } from '../dead-letter-admin/read.js';
import { chooseSourceTopic, defaultRedriveGroup, executeRedrive, planRedrive, redriveConfig, versionNote } from '../dead-letter-admin/redrive.js';
import { formatShown, shownRecord, ValueDecoder } from '../dead-letter-admin/show.js';
import { formatSummary, SummaryBuilder } from '../dead-letter-admin/summary.js';
import { dlqTopicFor } from '../dead-letter/failure.js';
import { colorOutput, createLogger } from '../util/logger.js';
import { redactorFor } from '../config/secrets.js';
import { escapeJsonControl } from '../util/redact.js';
import { didYouMean } from '../util/suggest.js';
import { type CommandSpec, type ParsedArgs, parseCommandArgs, UsageError } from './args.js';
import { DEFAULT_TIMEOUT_MS, timeoutOption, withKafka } from './failures.js';
import { EXIT_CODES } from './exit-codes.js';

const WHICH = `  --topic T        the source topic whose dead letters to use (default: the only configured topic)
  --dlq-topic D    read this dead-letter topic instead of errors.dlqTopic for the source topic
  --config FILE    the service's configuration (or K2E_CONFIG, K2E_* variables, --section.key flags)`;
const READ = `  summary and show need only the Kafka settings (and the decoding ones for show): with --dlq-topic,
  neither kafka.topics nor elastic.index has to be set.
  --timeout-ms N   how long to wait for a broker (default ${DEFAULT_TIMEOUT_MS})`;

const DLQ_HELP: Record<string, string> = {
  dlq: `usage: kafka-to-elastic dlq <summary|show|redrive> [options]
The dead-letter topic (errors.dlqTopic, default <topic>.dlq) of a configured source topic:
  summary   counts by error class and type and by source partition
  show      the records with their reasons, source coordinates, headers and decoded values
  redrive   index them again (after the cause was fixed) into the configured index
'kafka-to-elastic dlq <subcommand> --help' describes each.
${EXIT_CODES}`,
  summary: `usage: kafka-to-elastic dlq summary [--topic T | --dlq-topic D] [--json] [--config FILE]
Reads the dead-letter topic from its beginning to the end offsets it has now and prints how many
records failed by error class (decode, transform, rejected, oversize) and type, and by source
topic-partition with the range of source offsets. Joins no consumer group that commits.
${WHICH}
  --json           print the summary as JSON
${READ}
${EXIT_CODES}`,
  show: `usage: kafka-to-elastic dlq show [--topic T | --dlq-topic D] [--limit N] [--partition P] [--error-type TYPE] [--key K] [--json] [--config FILE]
Prints dead letters (oldest first, up to the end offsets the topic has now): where each sits, its
error class, type and reason, the source topic, partition, offset and timestamp, the other headers,
and the value decoded as the service decodes the source topic (JSON, Avro through the registry, ...),
or raw (UTF-8 or base64) with the decoding error when the value does not decode.
${WHICH}
  --limit N        at most N records (default 20; 0 = all)
  --partition P    only this partition of the dead-letter topic
  --error-type T   only records with this k2e.error.type (e.g. mapper_parsing_exception)
  --key K          only records with this key
  --json           one JSON object per line
${READ}
${EXIT_CODES}`,
  redrive: `usage: kafka-to-elastic dlq redrive [--topic T] [--group G] [--http-port P] [--config FILE] [flags]
Runs the service on the dead-letter topic of topic T, into the configured index, with its own consumer
group G (default <groupId>-redrive-<T>), from where that group stopped (the beginning for a new group)
up to the end offsets the dead-letter topic has when the re-drive starts; then stops (exit 0) and
prints what happened. Records dead-lettered after the start are left for the next re-drive.
Everything works as in 'run': decoding, mapping, ids, errors.policy; records that fail again go to the
dead-letter topic of the dead-letter topic (<T>.dlq.dlq by default). Coordinate ids and offset
versions come from the original record (k2e.source.* headers): with document.version resolving to
offset (the default for key and field ids of one topic), a re-driven record never overwrites a newer
document (it counts as superseded). Fix the cause first (mapping, producer); re-driving twice is
harmless. SIGTERM/SIGINT stop it cleanly; the next run with the same group goes on from there.
  --topic T        the source topic (default: the only configured topic)
  --group G        the re-drive's consumer group
  --http-port P    port of /health, /ready, /status, /metrics while it runs (default: any free port)
${EXIT_CODES}`,
};

export class DlqUsageError extends Error {
  override name = 'DlqUsageError';
}

const string = { type: 'string' } as const;
const boolean = { type: 'boolean' } as const;
const READ_OPTIONS = { config: string, topic: string, 'dlq-topic': string, json: boolean, 'timeout-ms': string } as const;
const SPECS: Record<string, CommandSpec> = {
  summary: { options: READ_OPTIONS, config: true },
  show: { options: { ...READ_OPTIONS, limit: string, partition: string, 'error-type': string, key: string }, config: true },
  redrive: { options: { config: string, topic: string, 'dlq-topic': string, group: string, 'http-port': string }, config: true },
};

type Flags = Map<string, string>;

/** The parsed options as name → text (booleans as "true"), and the configuration. */
function load(args: ParsedArgs, reader: boolean): { config: Config; flags: Flags } {
  const flags: Flags = new Map(Object.entries(args.values).flatMap(([k, v]) => (v === undefined || v === false ? [] : [[k, String(v)]])));
  const options = { flags: args.configFlags, ...(flags.has('config') ? { file: flags.get('config')! } : {}) };
  return { config: reader ? loadReaderConfig(options) : loadConfig(options), flags };
}

/** The dead-letter topic to read: --dlq-topic, or the one of --topic or of the only configured topic. */
function dlqTopicOf(config: Config, flags: Flags): string {
  const given = flags.get('dlq-topic');
  if (given !== undefined) return given;
  const topic = flags.get('topic');
  const configured = config.kafka.topics.length > 0 || config.kafka.topicPattern !== undefined;
  if (!configured && topic === undefined) throw new DlqUsageError('which dead-letter topic? --dlq-topic D, or --topic T for the dead-letter topic of source topic T (or configure kafka.topics)');
  // Reading needs no configured topics: --topic names the source topic as it is.
  return dlqTopicFor(config.errors.dlqTopic, configured ? chooseSourceTopic(config, topic) : topic!);
}

/** JSON whose text is safe in a terminal too (producers' data may hold escape sequences: escaped, same value). */
const json = (value: unknown, space?: number): string => escapeJsonControl(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), space));

function integerFlag(flags: Map<string, string>, name: string): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new DlqUsageError(`--${name} "${text}": expected a non-negative integer`);
  return Number(text);
}

async function summary(args: ParsedArgs): Promise<number> {
  const { config, flags } = load(args, true);
  const topic = dlqTopicOf(config, flags);
  const timeoutMs = timeoutOption(flags.get('timeout-ms'));
  const builder = new SummaryBuilder();
  const ends = await withKafka(config.kafka, timeoutMs, () => readDeadLetters(config.kafka, topic, { onRecord: (r) => builder.add(r), timeoutMs }));
  const result = builder.build(topic, ends);
  console.log(flags.has('json') ? json(result, 2) : formatSummary(result));
  return 0;
}

async function show(args: ParsedArgs): Promise<number> {
  const { config, flags } = load(args, true);
  const topic = dlqTopicOf(config, flags);
  const timeoutMs = timeoutOption(flags.get('timeout-ms'));
  const limit = integerFlag(flags, 'limit') ?? 20;
  const partition = integerFlag(flags, 'partition');
  const errorType = flags.get('error-type');
  const key = flags.get('key');
  const stop = new AbortController();
  const decoder = new ValueDecoder(config, createLogger('warn', false, redactorFor(config)), stop.signal);
  const chosen: Parameters<typeof shownRecord>[0][] = [];
  try {
    await withKafka(config.kafka, timeoutMs, () => readDeadLetters(config.kafka, topic, {
      timeoutMs,
      onRecord: (r) => {
        if (partition !== undefined && r.partition !== partition) return;
        if (errorType !== undefined && r.errorType !== errorType) return;
        if (key !== undefined && r.key?.toString('utf8') !== key) return;
        chosen.push(r);
        return limit === 0 || chosen.length < limit;
      },
    }));
    for (const [i, record] of chosen.entries()) {
      const shown = shownRecord(record, await decoder.decode(record));
      console.log(flags.has('json') ? json(shown) : `${i > 0 ? '\n' : ''}${formatShown(shown)}`);
    }
    if (!flags.has('json')) console.error(`${chosen.length} record${chosen.length === 1 ? '' : 's'} of ${topic}${limit !== 0 && chosen.length === limit ? ` (--limit ${limit}; more may match)` : ''}`);
  } finally {
    stop.abort();
    await decoder.close();
  }
  return 0;
}

async function redrive(args: ParsedArgs): Promise<number> {
  const { config: loaded, flags } = load(args, false);
  if (flags.has('dlq-topic')) throw new DlqUsageError('redrive takes --topic (the source topic), not --dlq-topic: its dead-letter topic comes from errors.dlqTopic');
  const sourceTopic = chooseSourceTopic(loaded, flags.get('topic'));
  const groupId = flags.get('group') ?? defaultRedriveGroup(loaded, sourceTopic);
  // As in `run`: the terminal decides the log format and the progress line.
  const base: Config = {
    ...loaded,
    logFormat: loaded.logFormat === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : loaded.logFormat,
    progress: loaded.progress === 'auto' ? (process.stderr.isTTY ? 'tty' : 'lines') : loaded.progress,
  };
  const config = redriveConfig(base, sourceTopic, groupId, integerFlag(flags, 'http-port') ?? 0);
  const plan = await withKafka(config.kafka, DEFAULT_TIMEOUT_MS, () => planRedrive(config, sourceTopic, groupId));
  const ranges = [...plan.partitions].map(([key, p]) => `${key.slice(key.lastIndexOf(':') + 1)}:${p.from}..${p.end}`).join(' ');
  console.error(`re-drive ${plan.dlqTopic} → index ${config.elastic.index} with group ${groupId}: ${plan.records} records (partition:from..end ${ranges})`);
  console.error(versionNote(config));
  if (plan.records === 0n) {
    console.error('nothing to re-drive');
    return 0;
  }
  const stop = new AbortController();
  const onSignal = (signal: string): void => stop.abort(signal);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const result = await executeRedrive(config, plan, stop.signal, undefined, colorOutput(process.stdout));
    console.error(
      `re-drive ${result.complete ? 'complete' : 'stopped before the end'}: ${result.indexed} indexed, ${result.superseded} superseded (a newer version was already indexed), ${result.failedAgain} failed again${result.failedAgain > 0 ? ` (in ${dlqTopicFor(config.errors.dlqTopic, plan.dlqTopic)})` : ''}`,
    );
    if (result.code !== 0) return result.code;
    return result.complete ? 0 : 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** Runs `dlq <subcommand>`; returns the exit code. */
export async function dlqCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(DLQ_HELP.dlq);
    return 0;
  }
  if (sub === undefined) {
    console.error(`dlq: which? summary, show or redrive\n\n${DLQ_HELP.dlq}`);
    return 2;
  }
  const spec = SPECS[sub];
  if (!spec) {
    console.error(`unknown dlq subcommand "${sub}"${didYouMean(sub, Object.keys(SPECS))}\n\n${DLQ_HELP.dlq}`);
    return 2;
  }
  try {
    const args = parseCommandArgs(rest, spec);
    if (args.help) {
      console.log(DLQ_HELP[sub]);
      return 0;
    }
    if (sub === 'summary') return await summary(args);
    if (sub === 'show') return await show(args);
    return await redrive(args);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof DlqUsageError)) throw error;
    console.error(`${error.message}\n\n${DLQ_HELP[sub]}`);
    return 2;
  }
}
