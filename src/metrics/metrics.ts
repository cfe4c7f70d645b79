// Prometheus metrics (prom-client), one registry per service instance. The pipeline calls the small
// methods below; /metrics renders the registry. Names and labels are an interface (alerts, dashboards,
// KEDA): docs/metrics.md lists them all. A renamed metric keeps its old name exported, marked
// deprecated in its HELP, so existing alerts and dashboards keep working while they migrate.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VERSION } from '../util/version.js';

/** What errors.policy did with a record that can never be indexed. */
export type FailureOutcome = 'dead_lettered' | 'skipped';

const deprecated = (replacement: string, help: string): string => `DEPRECATED, use ${replacement}. ${help}`;

export class Metrics {
  readonly registry = new Registry();
  readonly consumed = new Counter({ name: 'k2e_records_consumed_total', help: 'Records received from Kafka', labelNames: ['topic'], registers: [this.registry] });
  readonly indexed = new Counter({ name: 'k2e_records_indexed_total', help: 'Records acknowledged by the search engine', labelNames: ['topic'], registers: [this.registry] });
  readonly superseded = new Counter({ name: 'k2e_records_superseded_total', help: 'Records acknowledged without a write because the index already holds a newer version (external versioning)', labelNames: ['topic'], registers: [this.registry] });
  readonly systemicErrors = new Counter({ name: 'k2e_systemic_errors_total', help: 'Bulk items (or whole requests) refused for a cluster-side reason (privileges, write block, closed or missing index), held and retried', labelNames: ['topic'], registers: [this.registry] });
  readonly stalledPartitions = new Gauge({ name: 'k2e_stalled_partitions', help: 'Assigned partitions with lag that made no progress for stallTimeoutMs', registers: [this.registry] });
  readonly tombstonesIgnored = new Counter({ name: 'k2e_tombstones_ignored_total', help: 'Tombstones acknowledged without a write (document.nullValues: ignore)', labelNames: ['topic'], registers: [this.registry] });
  readonly retried = new Counter({ name: 'k2e_records_retried_total', help: 'Bulk items (or whole requests) retried after a retriable failure', labelNames: ['topic'], registers: [this.registry] });
  readonly #failed = new Counter({ name: 'k2e_records_failed_total', help: 'Records that can never be indexed, by what errors.policy did with them: outcome dead_lettered (produced to the dead-letter topic) or skipped', labelNames: ['topic', 'error_class', 'outcome'], registers: [this.registry] });
  readonly #deadLetteredOrSkipped = new Counter({ name: 'k2e_records_dead_lettered_total', help: deprecated('k2e_records_failed_total{outcome="dead_lettered"} (this one also counts skipped records)', 'Records sent to the dead-letter topic or skipped'), labelNames: ['topic', 'error_class'], registers: [this.registry] });
  readonly bulkDuration = new Histogram({ name: 'k2e_bulk_duration_seconds', help: 'Duration of _bulk requests', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] });
  readonly bulkDocuments = new Histogram({ name: 'k2e_bulk_documents', help: 'Operations per _bulk request', buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000], registers: [this.registry] });
  readonly bulkBytes = new Histogram({ name: 'k2e_bulk_bytes', help: 'Bytes per _bulk request', buckets: [1e3, 1e4, 1e5, 5e5, 1e6, 2.5e6, 5e6, 1e7], registers: [this.registry] });
  readonly commitDuration = new Histogram({ name: 'k2e_commit_duration_seconds', help: 'Duration of offset commits', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1], registers: [this.registry] });
  readonly eventToIndexed = new Histogram({ name: 'k2e_event_to_indexed_seconds', help: 'From the record timestamp to the acknowledgement by the search engine', buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300], registers: [this.registry] });
  readonly lag = new Gauge({ name: 'k2e_consumer_lag', help: 'End offset minus committed offset, per assigned partition', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly committedOffset = new Gauge({ name: 'k2e_committed_offset', help: 'Last committed offset, per assigned partition', labelNames: ['topic', 'partition'], registers: [this.registry] });
  readonly pausedPartitions = new Gauge({ name: 'k2e_paused_partitions', help: 'Assigned partitions whose fetching is paused (buffer full)', registers: [this.registry] });
  readonly #bufferedRecords = new Gauge({ name: 'k2e_buffered_records', help: 'Records fetched and held in memory, not yet acknowledged by the search engine (fetching pauses at batch.maxBufferedRecords)', registers: [this.registry] });
  readonly #bufferedBytes = new Gauge({ name: 'k2e_buffered_bytes', help: 'Bytes of documents held in memory, not yet acknowledged (fetching pauses at batch.maxBufferedBytes)', registers: [this.registry] });
  // The old names said "in flight" but counted everything buffered, not just records in a bulk request.
  readonly #inFlightRecords = new Gauge({ name: 'k2e_in_flight_records', help: deprecated('k2e_buffered_records', 'Records held in memory, not yet acknowledged'), registers: [this.registry] });
  readonly #inFlightBytes = new Gauge({ name: 'k2e_in_flight_bytes', help: deprecated('k2e_buffered_bytes', 'Bytes of records held in memory, not yet acknowledged'), registers: [this.registry] });
  readonly assignedPartitions = new Gauge({ name: 'k2e_assigned_partitions', help: 'Partitions this instance owns', registers: [this.registry] });
  readonly deadLetterFailures = new Counter({ name: 'k2e_dead_letter_failures_total', help: 'Dead-letter produce requests that failed (each retry counts); their records stay unacknowledged until the dead-letter topic accepts them', registers: [this.registry] });
  readonly deadLetterUnavailable = new Gauge({ name: 'k2e_dead_letter_unavailable', help: '1 while a dead-letter topic has not acknowledged a send for errors.dlqTimeoutMs (the partitions concerned are held, /ready is false), else 0', registers: [this.registry] });
  readonly ready = new Gauge({ name: 'k2e_ready', help: '1 when initialized and both Kafka and the search engine answer', registers: [this.registry] });

  /** Always 1; its labels say which kafka-to-elastic and which Node.js run (dashboards join on it). */
  readonly buildInfo = new Gauge({ name: 'k2e_build_info', help: 'Always 1: the version of kafka-to-elastic and of Node.js this instance runs', labelNames: ['version', 'node'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'k2e_' });
    this.buildInfo.set({ version: VERSION, node: process.version }, 1);
  }

  /** A record errors.policy dead-lettered or skipped (counted under the new and the deprecated name). */
  countFailure(topic: string, errorClass: string, outcome: FailureOutcome, count = 1): void {
    this.#failed.inc({ topic, error_class: errorClass, outcome }, count);
    this.#deadLetteredOrSkipped.inc({ topic, error_class: errorClass }, count);
  }

  /** What the pipeline holds in memory (under the new and the deprecated names). */
  setBuffered(records: number, bytes: number): void {
    this.#bufferedRecords.set(records);
    this.#bufferedBytes.set(bytes);
    this.#inFlightRecords.set(records);
    this.#inFlightBytes.set(bytes);
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
