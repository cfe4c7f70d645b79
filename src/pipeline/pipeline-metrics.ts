// What the pipeline counts, as an interface: the core depends on these few methods, not on the
// Prometheus registry (src/metrics/metrics.ts implements them; a test may pass its own).
type Labels = Record<string, string>;

interface Count {
  inc(labels: Labels, value?: number): void;
}

interface Observe {
  observe(value: number): void;
}

export interface PipelineMetrics {
  /** Per topic; the pipeline keeps the labelled child to avoid a label lookup per record. */
  consumed: { labels(labels: Labels): { inc(value?: number): void } };
  indexed: Count;
  superseded: Count;
  systemicErrors: Count;
  tombstonesIgnored: Count;
  retried: Count;
  bulkDuration: Observe;
  bulkDocuments: Observe;
  bulkBytes: Observe;
  eventToIndexed: Observe;
  commitDuration: Observe;
  committedOffset: { set(labels: Labels, value: number): void; remove(labels: Labels): void };
  /** Failed dead-letter produce requests; and 1/0 while a dead-letter topic is unavailable. */
  deadLetterFailures: { inc(value?: number): void };
  deadLetterUnavailable: { set(value: number): void };
  countFailure(topic: string, errorClass: string, outcome: 'dead_lettered' | 'skipped', count?: number): void;
}
