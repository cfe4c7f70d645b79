// The service's configuration: one schema (its shape; which combinations cannot work is checks.ts),
// validated with zod, with defaults that suit a local stack.
// Every key can come from a config file (YAML/JSON), an environment variable or a CLI flag.
import { z } from 'zod';
import { CONVERTERS, ERROR_CLASSES, KEY_FORMATS, NULL_VALUES, WRITE_ACTIONS } from './vocabulary.js';
import { indexTemplateProblem, pipelineTemplateProblem } from './template-checks.js';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');
const ms = z.number().int().nonnegative();
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

/** TLS files (PEM) and options shared by the Kafka and search engine connections. */
const tlsOptions = {
  /** CA certificate(s) that sign the server's certificate; default: Node's bundled public CAs. */
  caFile: z.string().min(1).optional(),
  /** Client certificate and key (mutual TLS). */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** Passphrase of an encrypted keyFile (or passphraseFile). */
  passphrase: z.string().optional(),
  /** Name the server's certificate must carry, when it differs from the host connected to (SNI too). */
  servername: z.string().min(1).optional(),
  /** false accepts any server certificate: for tests only, never against a real cluster. */
  rejectUnauthorized: z.boolean().default(true),
};
const tlsSchema = z.strictObject(tlsOptions);
export type TlsConfig = z.infer<typeof tlsSchema>;

const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;

/** `key` | `coordinate` | `none` | `field:<dotted.path>`: where a document's _id comes from. */
const idStrategy = z.union(
  [z.enum(['key', 'coordinate', 'none']), z.string().regex(/^field:[^.\s][^\s]*$/, 'expected key, coordinate, none or field:<path>')],
  { error: 'expected key, coordinate, none or field:<path>' },
);

/** A dotted path into the record's value. */
const fieldPath = z.string().regex(/^[^.\s][^\s]*$/, 'expected a dotted field path such as customer.region');

/** An index name or template: lower-case text with {topic}, {key}, {field:a.b}, {header:name} and dates of the record's timestamp. */
const indexTemplate = z.string().superRefine((text, ctx) => {
  const problem = indexTemplateProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const pipelineTemplate = z.string().superRefine((text, ctx) => {
  const problem = pipelineTemplateProblem(text);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const writeAction = z.enum(WRITE_ACTIONS, { error: 'expected index (overwrite), create (write once), update (merge into an existing document) or upsert (merge, creating it when missing)' });
const routing = z.union([z.literal('key'), z.string().regex(/^field:[^.\s][^\s]*$/, 'expected key or field:<path>')], { error: 'expected key or field:<path>' });
/** `auto` or a count: the message names both (zod's own for a union is a bare "Invalid input"). */
const autoOr = (count: z.ZodNumber, what: string) => z.union([z.literal('auto'), count], { error: `expected auto or ${what}` });
const formats = z.enum(['json', 'avro', 'string', 'bytes']);
const envelope = z.enum(['none', 'debezium'], { error: 'expected none or debezium' });

export const configSchema = z.strictObject({
  kafka: z.strictObject({
    brokers: z.array(hostPort).min(1),
    /** Topics to consume; or kafka.topicPattern. */
    topics: z.array(z.string().min(1)).default([]),
    /** A regular expression (whole topic name): every matching topic is consumed, new ones within partitionDiscoveryIntervalMs. */
    topicPattern: z.string().min(1).optional(),
    groupId: z.string().min(1).default('kafka-to-elastic'),
    clientId: z.string().min(1).default('kafka-to-elastic'),
    /** read_committed: records of aborted transactions are skipped, and records of open ones wait until they end; read_uncommitted: every record. */
    isolationLevel: z.enum(['read_committed', 'read_uncommitted']).default('read_committed'),
    /** Where a group without committed offsets starts (Kafka's auto.offset.reset). */
    autoOffsetReset: z.enum(['earliest', 'latest']).default('earliest'),
    sessionTimeoutMs: ms.default(30_000),
    heartbeatIntervalMs: ms.default(3_000),
    rebalanceTimeoutMs: ms.default(60_000),
    maxWaitMs: ms.default(500),
    /** While records flow, the bytes a fetch waits for (Kafka's fetch.min.bytes), at most minBytesWaitMs:
     *  fewer, fuller fetches at moderate rates, for the broker and for us (docs/decisions.md). */
    minBytes: z.number().int().positive().default(64 * 1024),
    minBytesWaitMs: ms.default(50),
    /** Bytes per fetch response, and per partition within it: small fetches measured faster and
     *  leaner here, and the per-partition bound makes a backlog arrive round-robin across partitions
     *  instead of one partition after another (docs/decisions.md). */
    maxBytes: z.number().int().positive().default(2 * 1024 * 1024),
    maxBytesPerPartition: z.number().int().positive().default(512 * 1024),
    /** How often partition counts are re-read: partitions added at runtime are picked up within this. */
    partitionDiscoveryIntervalMs: z.number().int().positive().default(10_000),
    sasl: z
      .strictObject({
        mechanism: z.enum(SASL_MECHANISMS),
        /** PLAIN and SCRAM. */
        username: z.string().optional(),
        password: z.string().optional(),
        /** OAUTHBEARER: a token, or a file re-read at every (re-)authentication (written by whatever refreshes it). */
        token: z.string().optional(),
        tokenFile: z.string().min(1).optional(),
        /** OAUTHBEARER against a broker's unsecured-token mode (development only): an unsigned JWT for this principal. */
        unsecuredPrincipal: z.string().min(1).optional(),
        /** OAUTHBEARER SASL extensions (e.g. Confluent Cloud's logicalCluster and identityPoolId). */
        extensions: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
    /** true: TLS with Node's bundled CAs; or the CA, client certificate and options. */
    tls: z.union([z.boolean(), tlsSchema], { error: `expected true, false or an object with ${Object.keys(tlsOptions).join(', ')}` }).default(false),
    /** Create missing topics at startup instead of waiting for them. */
    createTopics: z
      .object({ partitions: z.number().int().positive().default(6), replicationFactor: z.number().int().positive().default(1) })
      .optional(),
  }),
  /** at-least-once: commit after the index acknowledged; at-most-once: commit before indexing; auto-commit: the client's timer. */
  delivery: z.enum(['at-least-once', 'at-most-once', 'auto-commit']).default('at-least-once'),
  autoCommitIntervalMs: z.number().int().positive().default(5_000),
  /** at-least-once: the shortest time between two offset commits (acks meanwhile fold into the next). */
  commitIntervalMs: z.number().int().nonnegative().default(1_000),
  document: z.strictObject({
    id: idStrategy.default('key'),
    /** index (default; create for data streams), create, update (partial, the document must exist) or upsert. */
    action: writeAction.optional(),
    /** A field of the value naming each record's action (index, create, update, upsert, delete); document.action when absent. */
    actionField: fieldPath.optional(),
    /** update/upsert: how often the engine re-applies a change after a concurrent write of the document. */
    retryOnConflict: z.number().int().min(0).max(1000).default(3),
    /** Shard routing: the record key, or a field of the value. Deletes and updates carry the same. */
    routing: routing.optional(),
    /** External versioning (docs/configuration.md): a late write of an older record never wins. */
    version: z
      .union([z.enum(['auto', 'offset', 'timestamp', 'none']), z.string().regex(/^(field|header):\S+$/, 'expected auto, offset, timestamp, none, field:<path> or header:<name>')], {
        error: 'expected auto, offset, timestamp, none, field:<path> or header:<name>',
      })
      .default('auto'),
    /** Added to versions as epoch × 10^12: raise it when the topic is re-created (its offsets restart). */
    versionEpoch: z.number().int().min(0).max(9_000_000).default(0),
    /** A tombstone (null value): delete the document its key names, ignore it (acknowledged, no write), or fail it (errors.policy). */
    nullValues: z.enum(NULL_VALUES, { error: 'expected delete (the document the key names), ignore (acknowledge without a write) or fail (errors.policy decides)' }).default('delete'),
    /** How record keys become text for ids and {key}: string (UTF-8, invalid bytes fail), base64, hex, long (8 bytes big-endian), avro (Confluent-framed, via schemaRegistry). */
    keyFormat: z.enum(KEY_FORMATS, { error: 'expected string (UTF-8), base64, hex, long (8-byte big-endian integer) or avro (Confluent-framed, needs schemaRegistry.url)' }).default('string'),
  }),
  /** How record values are decoded: one format for all topics, or per topic. */
  decode: z.strictObject({
    format: formats.default('json'),
    topics: z.record(z.string(), formats).optional(),
    /** debezium: values are Debezium change events (c/r/u write the after image, d deletes, tombstones ignored). */
    envelope: envelope.default('none'),
    /** Avro reader schema (JSON file): records written with older/newer schemas are resolved into it. */
    readerSchemaFile: z.string().optional(),
    /** Hostile input: JSON or Avro nested deeper than this is a decode failure (too_deep), refused before it is walked. */
    maxDepth: z.number().int().min(1).max(1_000_000).default(256),
    /** Hostile input: array and map items one Avro value may hold in all (too_many_items). */
    maxItems: z.number().int().positive().default(1_000_000),
    /** Hostile input: a record whose key and value together exceed this many bytes is dead-lettered unread (record_too_large); default 16 MiB, or batch.maxBytes when larger. */
    maxRecordBytes: z.number().int().positive().optional(),
  }),
  /** Confluent-compatible schema registry, for Avro topics. */
  schemaRegistry: z
    .strictObject({
      url: httpUrl,
      username: z.string().optional(),
      password: z.string().optional(),
      caFile: z.string().optional(),
      rejectUnauthorized: z.boolean().default(true),
    })
    .optional(),
  /** Declarative mapping from the decoded record to the document (see docs/configuration.md). */
  transform: z
    .strictObject({
      keep: z.array(z.string()).optional(),
      drop: z.array(z.string()).optional(),
      convert: z.record(z.string(), z.enum(CONVERTERS)).optional(),
      rename: z.record(z.string(), z.string()).optional(),
      add: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  elastic: z.strictObject({
    /** The engine's URL, path prefix included; with urls or cloudId it is their first endpoint (set by the loader). */
    url: httpUrl,
    /** Several endpoints (nodes, or gateways): requests go round-robin, a node that fails is skipped and tried again later. */
    urls: z.array(httpUrl).min(1).optional(),
    /** Elastic Cloud deployment id (decoded to its Elasticsearch URL). */
    cloudId: z.string().min(1).optional(),
    /** The target index, or a template: orders-{yyyy.MM.dd}, {topic}, {field:region}-events (docs/configuration.md). */
    index: indexTemplate.optional(),
    /** Per topic: an index or template replacing elastic.index for that topic. */
    indexByTopic: z.record(z.string().min(1), indexTemplate).optional(),
    /** Where a record goes when its index template cannot be resolved (a field missing, an invalid name); dead-lettered otherwise. */
    fallbackIndex: z.string().optional(),
    /** A regular expression (whole name) every index or data stream a template names must match; others are dead-lettered (index_not_allowed). */
    allowedIndices: z.string().min(1).optional(),
    /** Distinct index names templates may create in one run; records naming more are dead-lettered (too_many_indices). */
    maxIndices: z.number().int().positive().default(1000),
    /** Ingest pipeline for index/create, a name or a template. */
    pipeline: pipelineTemplate.optional(),
    /** Write to the data stream <type>-<dataset>-<namespace> with create, @timestamp from the record timestamp or timestampField. */
    dataStream: z
      .strictObject({
        type: z.string().min(1).default('logs'),
        dataset: z.string().min(1),
        namespace: z.string().min(1).default('default'),
        timestampField: fieldPath.optional(),
        /** Install an index template (PUT _index_template) that makes matching names data streams. */
        installTemplate: z.boolean().default(false),
      })
      .optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    apiKey: z.string().optional(),
    /** Headers sent with every request (e.g. a gateway's routing header). */
    headers: z.record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'an HTTP header name'), z.string()).optional(),
    /** HTTP(S) forward proxy, e.g. http://user:password@proxy:3128; HTTPS engines are reached through CONNECT. */
    proxy: httpUrl.optional(),
    tls: tlsSchema.optional(),
    /** Amazon OpenSearch Service (es) or Serverless (aoss): every request signed with SigV4, credentials from the AWS default chain. */
    aws: z.strictObject({ region: z.string().min(1), service: z.enum(['es', 'aoss']).default('es') }).optional(),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** After a bulk that got no answer (timeout, reset, a gateway's 502/504), how long newer unversioned writes of its documents wait; default requestTimeoutMs. */
    ambiguousWriteWaitMs: z.number().int().nonnegative().optional(),
    /** gzip bulk bodies (content-encoding: gzip): for slow or metered links; on a fast network it only costs CPU. */
    compression: z.enum(['none', 'gzip']).default('none'),
    /** JSON file with the index's settings and mappings, used when the index has to be created. */
    indexDefinitionFile: z.string().optional(),
    /** JSON file with an index template (PUT _index_template/<index>), installed at startup. */
    templateFile: z.string().optional(),
  }),
  batch: z.strictObject({
    maxDocs: z.number().int().positive().default(5000),
    maxBytes: z.number().int().positive().default(5 * 1024 * 1024),
    lingerMs: ms.default(50),
    /** Bulk requests in flight across all partitions: a number, or auto (adaptive: grows while the engine keeps up, halves when it pushes back). */
    maxInFlight: autoOr(z.number().int().positive(), 'a positive integer').default(6),
    /** Bulks of one partition in flight at once: auto = 2 when documents are versioned (the engine keeps their order), else 1. */
    maxInFlightPerPartition: autoOr(z.number().int().positive(), 'a positive integer').default('auto'),
    /** Records held in memory across all partitions before fetching pauses (resumes at half). */
    maxBufferedRecords: z.number().int().positive().default(15_000),
    /** Bytes of documents held in memory before fetching pauses (resumes at half). */
    maxBufferedBytes: z.number().int().positive().default(12 * 1024 * 1024),
  }),
  retry: z.strictObject({
    initialDelayMs: z.number().int().positive().default(200),
    maxDelayMs: z.number().int().positive().default(30_000),
  }),
  init: z.strictObject({
    initialDelayMs: z.number().int().positive().default(500),
    maxDelayMs: z.number().int().positive().default(10_000),
    multiplier: z.number().min(1).default(2),
    budgetMs: z.number().int().positive().default(120_000),
  }),
  errors: z.strictObject({
    /** What happens to a record that can never be indexed: dead-letter it, stop, or log and skip it. */
    policy: z.enum(['dlq', 'fail', 'skip']).default('dlq'),
    /** A record at which the member failed this many times in a row (a bug, not bad data: those are
     *  dead-lettered at once) is dead-lettered as poison, or stops the service with policy fail. */
    poisonAfter: z.number().int().min(1).default(3),
    /** Dead-letter topic; {topic} is the source topic. Created at start when missing. */
    dlqTopic: z.string().min(1).default('{topic}.dlq'),
    /** How long a dead-letter send retries without any acknowledgement before it gives up: its records stay unacknowledged, the partition is held and tries again later, /ready is false. */
    dlqTimeoutMs: z.number().int().positive().default(300_000),
    /** Per engine error type: systemic (hold and retry), rejected (errors.policy) or retriable,
     *  replacing the default class (src/sink/bulk-response.ts), e.g. { mapper_parsing_exception: systemic }. */
    classify: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'an engine error type such as mapper_parsing_exception, or http_<status>'), z.enum(ERROR_CLASSES)).default({}),
    /** Which headers of the original record a dead letter carries: all, none, or these names (any
     *  case); unset: all but credential-like ones (src/dead-letter/header-filter.ts). */
    dlqHeaders: z
      .union([z.enum(['all', 'none']), z.array(z.string().min(1))], { error: 'expected all, none, or a list of header names' })
      .optional(),
  }),
  /** Per topic (exact name): settings replacing the global ones for that topic's records. */
  topicOverrides: z
    .record(
      z.string().min(1),
      z.strictObject({
        index: indexTemplate.optional(),
        id: idStrategy.optional(),
        action: writeAction.optional(),
        actionField: fieldPath.optional(),
        routing: routing.optional(),
        pipeline: pipelineTemplate.optional(),
        format: formats.optional(),
        envelope: envelope.optional(),
      }),
    )
    .optional(),
  /** Names this instance in dead-letter headers and /status; default host-pid. */
  instanceId: z.string().min(1).optional(),
  shutdownTimeoutMs: z.number().int().positive().default(30_000),
  /** An assigned partition with lag but no record fetched or acknowledged for this long is stalled: /ready turns false. */
  stallTimeoutMs: z.number().int().positive().default(60_000),
  /** V8 heap cap of the service (it runs in a worker thread with this limit); 0 = Node's default. */
  maxHeapMb: z.number().int().min(0).default(128),
  /** V8 young generation of the service thread (with maxHeapMb > 0); 0 = V8's own size. Smaller: less RSS, more GC CPU. */
  maxYoungGenerationMb: z.number().int().min(0).default(16),
  /**
   * How far V8 lets the service's heap grow past what survived the last full collection before the
   * next one, in percent (V8's --heap-growing-percent, process-wide); 0 = V8's own choice, which is
   * 30-100% for a heap with a cap. Never past halfway to maxHeapMb (V8 bounds it so): a larger value
   * trades heap for fewer full collections (docs/benchmarks.md).
   */
  heapGrowthPercent: z.number().int().min(0).max(1000).default(0),
  /** Members of the consumer group run by this process, each in its own worker thread with its own
   *  partitions: a number, or auto (the usable cores, at most 8; docs/scaling.md). 1 = as before. */
  workers: autoOr(z.number().int().min(1).max(64), 'a number of workers from 1 to 64').default(1),
  http: z.strictObject({
    port: z.number().int().min(0).max(65535).default(8080),
    /** The address to listen on; default: every address, IPv6 and IPv4 (IPv4 only where the host has no IPv6). */
    host: z.string().regex(/^\S+$/, 'expected an IP address or a host name').optional(),
    /** Bearer token /status and /metrics require (usually http.tokenFile, read at start); /health and /ready stay open. */
    token: z.string().regex(/^[\x21-\x7e]{16,}$/, 'expected at least 16 printable ASCII characters without spaces').optional(),
    /** How often /ready re-checks that the broker and the search engine answer. */
    healthIntervalMs: z.number().int().positive().default(5_000),
  }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** json: one JSON object per line; pretty: human-readable; auto: pretty when stdout is a terminal. */
  logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /** Catch-up progress on stderr: auto: a redrawn line in a terminal, a log line every 30 s otherwise. */
  progress: z.enum(['auto', 'tty', 'lines', 'off']).default('auto'),
});

export type Config = z.infer<typeof configSchema>;

// The secret keys live in a module without zod: the service thread masks with them without loading the schema.
export { REREAD_SECRET_FILES, SECRET_KEYS } from './secret-keys.js';
