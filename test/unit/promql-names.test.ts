// The helpers the alert and dashboard tests rely on: metric names out of PromQL, names out of a
// /metrics page, Markdown anchors. A wrong extractor would let a misspelt metric pass unnoticed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exportedNames, markdownAnchors, metricNames } from '../helpers/promql.js';

const names = (expr: string): string[] => [...metricNames(expr)].sort();

describe('metricNames', () => {
  it('finds selectors and skips functions, aggregations, label lists, strings, ranges and numbers', () => {
    assert.deepEqual(names('sum by (job, topic) (rate(k2e_records_indexed_total{job="k2e", topic=~"a|b"}[5m]))'), ['k2e_records_indexed_total']);
    assert.deepEqual(names('histogram_quantile(0.99, sum by (le) (rate(k2e_bulk_duration_seconds_bucket[$__rate_interval])))'), ['k2e_bulk_duration_seconds_bucket']);
    assert.deepEqual(
      names('sum by (job, topic, outcome) (rate(k2e_records_failed_total[10m])) / on (job, topic) group_left sum by (job, topic) (rate(k2e_records_consumed_total[10m])) > 1e-2'),
      ['k2e_records_consumed_total', 'k2e_records_failed_total'],
    );
    assert.deepEqual(names('max(k2e_consumer_lag) by (topic, partition) unless on (topic) k2e_ready offset 5m'), ['k2e_consumer_lag', 'k2e_ready']);
    assert.deepEqual(names('deriv(sum by (job) (k2e_consumer_lag{instance=~"$instance"})[10m:1m]) > 0 and up{job="x"} == bool 0'), ['k2e_consumer_lag', 'up']);
    assert.deepEqual(names('k2e_process_resident_memory_bytes{job="$job"} / 1024 / 1024'), ['k2e_process_resident_memory_bytes']);
    assert.deepEqual(names('count(k2e_assigned_partitions == 0) or vector(0)'), ['k2e_assigned_partitions']);
  });

  it('catches a misspelt metric', () => {
    assert.deepEqual(names('rate(k2e_record_indexed_total[1m])'), ['k2e_record_indexed_total']);
  });
});

describe('exportedNames', () => {
  it('expands histograms and keeps families without samples', () => {
    const page = [
      '# HELP k2e_bulk_duration_seconds Duration',
      '# TYPE k2e_bulk_duration_seconds histogram',
      'k2e_bulk_duration_seconds_bucket{le="0.1"} 1',
      '# HELP k2e_records_failed_total Failed',
      '# TYPE k2e_records_failed_total counter',
      '# TYPE k2e_ready gauge',
      'k2e_ready 1',
    ].join('\n');
    assert.deepEqual([...exportedNames(page)].sort(), ['k2e_bulk_duration_seconds_bucket', 'k2e_bulk_duration_seconds_count', 'k2e_bulk_duration_seconds_sum', 'k2e_ready', 'k2e_records_failed_total']);
  });
});

describe('markdownAnchors', () => {
  it('builds GitHub-style anchors', () => {
    const anchors = markdownAnchors('# Operating it\n### K2ENotReady\n## What to watch: lag, rate & latency\ntext # not a heading');
    assert.deepEqual([...anchors].sort(), ['k2enotready', 'operating-it', 'what-to-watch-lag-rate--latency']);
  });
});
