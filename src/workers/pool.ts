// `workers: N`: N members of the consumer group in one process, each the whole service in its own
// worker thread (src/cli/run-worker.ts), each with its own Kafka consumer, so the group protocol shares
// the partitions among them exactly as among separate instances; nothing here coordinates partitions.
// The main thread serves the configured HTTP port for all of them (asking each by message), stops them
// all on SIGTERM/SIGINT, and stops them all when one exits unexpectedly: the process then exits
// non-zero and its supervisor restarts it, with every member resuming from the group's commits.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import type { Server } from 'node:http';
import { boundHost, boundPort, HttpPortError, startHttpServer } from '../http/server.js';
import { redactorFor } from '../config/secrets.js';
import { defaultInstanceId } from '../util/instance-id.js';
import { createLogger, type Logger } from '../util/logger.js';
import { VERSION } from '../util/version.js';
import { Progress, type ProgressSample } from '../service/progress.js';
import { startServiceThread, type ServiceThread } from '../service/run-worker.js';
import { mergeMetrics, mergeStatus, type MemberReport, type MemberSnapshot, processMetricsRegistry } from './aggregate.js';
import { isMemberResponse, type MemberQuery } from '../service/member-protocol.js';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';

/** How long a member may take to answer the main thread before it counts as not answering. */
const ANSWER_TIMEOUT_MS = 5_000;
/** Beyond shutdownTimeoutMs (which each member applies to itself): time to close connections and exit. */
const EXIT_MARGIN_MS = 10_000;

/** One member: its thread, its exit code once it exited, and request/answer over its message port. */
class Member {
  code: number | undefined;
  readonly #pending = new Map<number, (answer: { value?: unknown; error?: string }) => void>();
  #nextId = 0;

  constructor(
    readonly name: string,
    readonly thread: ServiceThread,
  ) {
    thread.worker.on('message', (message: unknown) => {
      if (!isMemberResponse(message)) return;
      this.#pending.get(message.response.id)?.(message.response);
      this.#pending.delete(message.response.id);
    });
  }

  get alive(): boolean {
    return this.code === undefined;
  }

  /** The member's answer, or undefined when it exited or did not answer within ANSWER_TIMEOUT_MS. */
  async ask(query: MemberQuery): Promise<unknown> {
    if (!this.alive) return undefined;
    const id = this.#nextId++;
    const timeout = new AbortController();
    const answered = new Promise<unknown>((resolve) => this.#pending.set(id, (answer) => resolve(answer.error === undefined ? answer.value : undefined)));
    this.thread.worker.postMessage({ request: { id, query } });
    const result = await Promise.race([answered, sleep(ANSWER_TIMEOUT_MS, undefined, { signal: timeout.signal }).catch(() => undefined)]);
    timeout.abort();
    this.#pending.delete(id);
    return result;
  }

  exited(code: number): void {
    this.code = code;
    for (const resolve of this.#pending.values()) resolve({ error: 'exited' });
    this.#pending.clear();
  }
}

/**
 * What each member is given: its own instance id, no progress line (the main thread draws one for
 * all), and an equal share of the buffer bounds, so the process holds no more than configured.
 */
export function memberConfig(config: Config, index: number, count: number): Config {
  const instance = config.instanceId ?? defaultInstanceId();
  return {
    ...config,
    instanceId: `${instance}-w${index}`,
    progress: 'off',
    batch: {
      ...config.batch,
      maxBufferedRecords: Math.max(1, Math.ceil(config.batch.maxBufferedRecords / count)),
      maxBufferedBytes: Math.max(1, Math.ceil(config.batch.maxBufferedBytes / count)),
    },
  };
}

/**
 * Runs `count` (> 1) members until SIGTERM/SIGINT (or `shutdown`) or until one exits on its own.
 * @returns the worst exit code of the members; at least 1 when one exited unexpectedly or did not stop in time
 */
export async function runWorkers(config: Config, count: number, shutdown?: AbortSignal, logColor = false): Promise<number> {
  const redactor = redactorFor(config);
  const logger = createLogger(config.logLevel, config.logFormat === 'pretty', redactor, logColor);
  logger.info({ version: VERSION, node: process.version, workers: count }, 'kafka-to-elastic starting');
  const startedAt = Date.now();
  const instance = config.instanceId ?? defaultInstanceId();
  const processMetrics = processMetricsRegistry();
  const members: Member[] = [];
  let stopping = false;
  const reports = async (): Promise<MemberReport[]> =>
    Promise.all(members.map(async (m) => {
      const text = await m.ask('status');
      return { worker: m.name, alive: m.alive, ...(typeof text === 'string' ? { status: JSON.parse(text) as MemberSnapshot } : {}) };
    }));
  const status = async (): Promise<Record<string, unknown>> => {
    const own = { instance, version: VERSION, ...(stopping ? { phase: 'stopping' } : {}), groupId: config.kafka.groupId, topics: config.kafka.topics, topicPattern: config.kafka.topicPattern, index: config.elastic.index, delivery: config.delivery, uptimeSec: Math.round((Date.now() - startedAt) / 1000), memory: process.memoryUsage() };
    return mergeStatus(own, await reports());
  };
  const all = async (query: MemberQuery): Promise<boolean> => (await Promise.all(members.map((m) => m.ask(query)))).every((answer) => answer === true);
  let http: Server;
  try {
    http = await startHttpServer({ ...config.http, redact: (text) => redactor.redact(text) }, {
      health: () => all('ping'),
      ready: () => all('ready'),
      status,
      metrics: async () => ({
        contentType: processMetrics.contentType,
        body: await mergeMetrics(processMetrics, (await Promise.all(members.map((m) => m.ask('metrics')))).filter((m) => Array.isArray(m)) as MetricObjectWithValues<MetricValue<string>>[][]),
      }),
    });
  } catch (error) {
    if (!(error instanceof HttpPortError)) throw error;
    logger.fatal(error.message);
    return 2;
  }
  logger.info({ host: boundHost(http), tokenRequired: config.http.token !== undefined, port: boundPort(http) }, 'http endpoints listening');

  let unexpected = false;
  let stopRequested = (): void => undefined;
  const stopRequestedPromise = new Promise<void>((resolve) => (stopRequested = resolve));
  const stopAll = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    stopRequested();
    logger.info({ reason, workers: count }, 'stopping all workers');
    for (const m of members) if (m.alive) m.thread.stop(reason);
  };
  const onSignal = (signal: string): void => stopAll(signal);
  const onAbort = (): void => onSignal(String(shutdown!.reason));

  logger.info({ workers: count, groupId: config.kafka.groupId, maxHeapMbEach: config.maxHeapMb }, 'starting workers: each is a member of the group with its own partitions');
  for (let i = 1; i <= count; i++) members.push(new Member(`w${i}`, startServiceThread(memberConfig(config, i, count), config.maxHeapMb, `w${i}`, logColor)));
  const exits = members.map((m) =>
    m.thread.exited
      .catch((error: unknown) => {
        logger.error({ worker: m.name, err: error }, 'worker failed');
        return 1;
      })
      .then((code) => {
        m.exited(code);
        if (!stopping) {
          unexpected = true;
          logger.error({ worker: m.name, code }, 'worker exited unexpectedly: stopping the others (their commits stay; the group re-reads what was not acknowledged)');
          stopAll(`worker ${m.name} exited`);
        } else logger.info({ worker: m.name, code }, 'worker stopped');
        return code;
      }),
  );

  if (shutdown?.aborted) onAbort();
  else if (shutdown) shutdown.addEventListener('abort', onAbort, { once: true });
  else {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  const progress = config.progress === 'tty' || config.progress === 'lines' ? startProgress(config.progress === 'tty', logger, reports) : undefined;
  try {
    // Each member bounds its own shutdown by shutdownTimeoutMs; the margin covers a member that hangs anyway.
    const stopDeadline = stopRequestedPromise.then(() => sleep(config.shutdownTimeoutMs + EXIT_MARGIN_MS, undefined, { ref: false }));
    const finished = await Promise.race([Promise.all(exits), stopDeadline]);
    if (!finished) {
      const hanging = members.filter((m) => m.alive).map((m) => m.name);
      logger.error({ workers: hanging, timeoutMs: config.shutdownTimeoutMs + EXIT_MARGIN_MS }, 'workers did not stop in time; terminating them (unacknowledged records will be redelivered)');
      await Promise.all(members.filter((m) => m.alive).map((m) => m.thread.worker.terminate()));
      return 1;
    }
    const worst = Math.max(...finished);
    return unexpected ? Math.max(worst, 1) : worst;
  } finally {
    progress?.stop();
    http.close();
    shutdown?.removeEventListener('abort', onAbort);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** The catch-up progress line for all members: their totals, refreshed every second. */
function startProgress(tty: boolean, logger: Logger, reports: () => Promise<MemberReport[]>): { stop(): void } {
  let latest: ProgressSample | undefined;
  const refresh = async (): Promise<void> => {
    const statuses = (await reports()).map((r) => r.status);
    if (statuses.some((s) => s === undefined)) return;
    const lags = statuses.map((s) => s!.lag);
    latest = {
      indexed: statuses.reduce((sum, s) => sum + (typeof s!.indexed === 'number' ? s!.indexed : 0), 0),
      lag: lags.every((l) => typeof l === 'number') ? lags.reduce((sum: number, l) => sum + l, 0) : null,
    };
  };
  const timer = setInterval(() => void refresh().catch(() => undefined), 1000);
  timer.unref();
  const progress = new Progress(() => latest, tty, logger);
  progress.start();
  return {
    stop() {
      clearInterval(timer);
      progress.stop();
    },
  };
}
