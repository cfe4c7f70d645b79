// `kafka-to-elastic run`: initialization check, then the pipeline until SIGTERM/SIGINT or a fatal error.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import type { Server } from 'node:http';
import { boundHost, boundPort, HttpPortError, startHttpServer, type StatusSource } from '../http/server.js';
import { redactorFor } from '../config/secrets.js';
import { InitCheckError, waitUntilReady } from '../setup/init-check.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { buildPipeline, type PipelineDeps } from '../pipeline/build.js';
import { HealthMonitor } from '../health/health-monitor.js';
import { Metrics } from '../metrics/metrics.js';
import { type Phase, StatusReporter } from '../http/status.js';
import { Progress } from './progress.js';
import { createLogger, type Logger } from '../util/logger.js';
import { abortedPromise } from '../util/abort.js';
import { VERSION } from '../util/version.js';

/** What `dlq redrive` changes when it runs the service on a dead-letter topic. */
export interface RunOptions {
  /** Parts of the pipeline to replace (the re-drive bounds the record source at fixed end offsets). */
  pipelineDeps?: (config: Config, logger: Logger) => Partial<PipelineDeps>;
  /** The metrics to count into (the re-drive reports its counters at the end). */
  metrics?: Metrics;
  /** Serves /health, /ready, /status and /metrics instead of an HTTP server on http.port (a member of
   *  `workers: N` answers the main thread, which serves the port for all members). */
  serve?: (source: StatusSource) => { close(): void };
  /** Fields every log line carries (a member of `workers: N` names itself). */
  logBindings?: Record<string, string>;
  /** ANSI colours in pretty logs (decided where the terminal is seen: src/util/logger.ts colorOutput). */
  logColor?: boolean;
}

/**
 * @param shutdown aborted (with the signal's name) to stop gracefully; without it, the process's own
 *   SIGTERM/SIGINT do (when running in the main thread).
 */
export async function runService(config: Config, shutdown?: AbortSignal, options: RunOptions = {}): Promise<number> {
  const redactor = redactorFor(config);
  const root = createLogger(config.logLevel, config.logFormat === 'pretty', redactor, options.logColor === true);
  const logger = options.logBindings ? root.child(options.logBindings) : root;
  // The first line says what runs (a member of `workers: N` leaves it to the main thread's).
  if (!options.logBindings) logger.info({ version: VERSION, node: process.version }, 'kafka-to-elastic starting');
  let pipeline: Pipeline | undefined;
  let consuming = false;
  let phase: Phase = 'initializing';
  let progress: Progress | undefined;
  const health = new HealthMonitor(config, logger, config.http.healthIntervalMs, () => pipeline?.topics ?? config.kafka.topics);
  // Ready: initialized, consuming, a member of the group, both the broker and the search engine answer,
  // the engine accepts writes, the dead-letter topics take dead letters, and no assigned partition with
  // lag has gone without progress for stallTimeoutMs.
  const ready = (): boolean =>
    consuming &&
    health.healthy &&
    pipeline !== undefined &&
    !pipeline.memberLost &&
    pipeline.stats().sink.state !== 'refused' &&
    pipeline.deadLetterState.state !== 'unavailable' &&
    pipeline.stalledPartitions(health.endOffsets).length === 0;
  const metrics = options.metrics ?? new Metrics();
  const reporter = new StatusReporter(config, health, metrics, () => pipeline, ready, () => phase);
  const source: StatusSource = {
    ready,
    status: () => reporter.snapshot(),
    metrics: async () => ({ contentType: metrics.contentType, body: await metrics.render() }),
  };
  let http: { close(): void };
  if (options.serve) http = options.serve(source);
  else {
    let server: Server;
    try {
      server = await startHttpServer({ ...config.http, redact: (text) => redactor.redact(text) }, source);
    } catch (error) {
      if (!(error instanceof HttpPortError)) throw error;
      logger.fatal(error.message);
      return 2;
    }
    logger.info({ host: boundHost(server), tokenRequired: config.http.token !== undefined, port: boundPort(server) }, 'http endpoints listening');
    http = server;
  }

  const signals = new AbortController();
  const onSignal = (signal: string): void => {
    phase = 'stopping';
    logger.info({ signal }, 'shutting down');
    signals.abort();
  };
  if (shutdown) {
    if (shutdown.aborted) onSignal(String(shutdown.reason));
    else shutdown.addEventListener('abort', () => onSignal(String(shutdown.reason)), { once: true });
  } else {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  try {
    if (config.document.id === 'none') {
      logger.warn('document.id is "none": the search engine generates ids, so every redelivered record (after a crash or rebalance) adds a duplicate document');
    }
    if (config.delivery !== 'at-least-once') logger.warn({ delivery: config.delivery }, 'delivery is not at-least-once: a crash can lose records (see README, delivery modes)');
    await waitUntilReady(config, logger, signals.signal);
    if (signals.signal.aborted) return 0;
    pipeline = buildPipeline(config, logger, metrics, options.pipelineDeps?.(config, logger));
    if (pipeline.transform.version !== 'none') logger.info({ version: pipeline.transform.version, epoch: config.document.versionEpoch }, 'documents carry external versions: a late write of an older record never overwrites a newer one');
    // A signal while joining the group (which can take a rebalance timeout) ends the join at once.
    await pipeline.start(signals.signal);
    if (!signals.signal.aborted) {
      consuming = true;
      phase = 'running';
      health.start();
      reporter.start();
      if (config.progress === 'tty' || config.progress === 'lines') {
        progress = new Progress(() => reporter.progress(), config.progress === 'tty', logger);
        progress.start();
      }
      logger.info({ topics: pipeline.topics, topicPattern: config.kafka.topicPattern, groupId: config.kafka.groupId, index: config.elastic.index, dataStream: config.elastic.dataStream }, 'consuming');
    }
    // abortedPromise also settles when the signal came before this line (during start-up).
    const outcome = await Promise.race([pipeline.failed, abortedPromise(signals.signal).then(() => undefined)]);
    consuming = false;
    phase = 'stopping';
    // Bounded shutdown: a search engine that never answers must not keep the process alive forever.
    const stopped = await Promise.race([
      pipeline.stop().then(
        () => true,
        (error: Error) => error,
      ),
      sleep(config.shutdownTimeoutMs, false, { ref: false }),
    ]);
    if (stopped === false) {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; unacknowledged records will be redelivered');
      return 1;
    }
    if (stopped instanceof Error) {
      logger.error({ err: stopped }, 'stopped, but the final offset commit failed: records indexed since the last commit will be read again');
      return 1;
    }
    if (outcome instanceof Error) {
      logger.fatal({ err: outcome }, 'stopped: nothing past the failing record was committed');
      return 1;
    }
    logger.info(pipeline.stats(), 'stopped cleanly');
    return 0;
  } catch (error) {
    if (error instanceof InitCheckError) {
      logger.fatal(error.message);
      return 1;
    }
    throw error;
  } finally {
    http.close();
    progress?.stop();
    reporter.stop();
    await health.stop();
  }
}
