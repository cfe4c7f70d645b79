// Metric names are an interface: every name the alert rules, the Grafana dashboard and docs/metrics.md
// use is one a running service really exports (read from its live /metrics), every service metric is
// documented, and every deprecated name is still exported and names its exported replacement.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../../scripts/stack/layout.js';
import { createTopic } from '../helpers/kafka.js';
import { exportedNames, helpTexts, metricNames } from '../helpers/promql.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const engine = stack.engines[0]!;
/** Series Prometheus makes itself. */
const PROMETHEUS_OWN = new Set(['up']);
const read = (...parts: string[]): string => readFileSync(path.join(repoRoot, ...parts), 'utf8');

interface Panel {
  title: string;
  targets?: { expr: string }[];
  panels?: Panel[];
}

async function liveMetrics(): Promise<string> {
  const topic = uniqueName('metric-names');
  await createTopic(topic, 1);
  const service = startService({ K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: uniqueName('metric-names-group'), K2E_ELASTIC_URL: engine.url, K2E_INDEX: topic });
  try {
    assert.ok(await service.consuming(), service.output().slice(-2000));
    const port = /"port":(\d+),"msg":"http endpoints listening"/.exec(service.output())![1]!;
    let text = '';
    // The gauges of the status reporter are set once it has sampled (every 2 s).
    assert.ok(await waitFor(async () => /^k2e_assigned_partitions 1$/m.test((text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())), 20_000));
    return text;
  } finally {
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
  }
}

describe('metric names against a live /metrics', () => {
  it('alerts, dashboard and docs use only exported names; every service metric is documented', async () => {
    const page = await liveMetrics();
    const exported = exportedNames(page);
    const known = (name: string): boolean => exported.has(name) || PROMETHEUS_OWN.has(name);

    // Alert rules.
    const rules = (parse(read('deploy', 'prometheus', 'alerts.yml')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    for (const rule of rules) for (const name of metricNames(rule.expr)) assert.ok(known(name), `alert ${rule.alert} uses ${name}, which the service does not export`);

    // Dashboard: every panel's queries and the variables' queries.
    const dashboard = JSON.parse(read('deploy', 'grafana', 'kafka-to-elastic.json')) as { panels: Panel[]; templating: { list: { name: string; definition?: string }[] } };
    const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
    const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
    for (const v of dashboard.templating.list) if (v.definition) queries.push({ where: `variable ${v.name}`, expr: v.definition.replace(/^label_values\((.*),\s*\w+\)$/, '$1') });
    assert.ok(queries.length >= 25, `only ${queries.length} dashboard queries`);
    for (const { where, expr } of queries) {
      const names = metricNames(expr);
      assert.ok(names.size > 0, `${where}: no metric in ${expr}`);
      for (const name of names) assert.ok(known(name), `${where} uses ${name}, which the service does not export`);
    }
    // The panels the issue asks for.
    const used = new Set(queries.flatMap((q) => [...metricNames(q.expr)]));
    for (const name of ['k2e_consumer_lag', 'k2e_records_indexed_total', 'k2e_bulk_duration_seconds_bucket', 'k2e_records_retried_total', 'k2e_records_failed_total', 'k2e_buffered_records', 'k2e_process_resident_memory_bytes', 'k2e_stalled_partitions']) {
      assert.ok(used.has(name), `the dashboard has no panel on ${name}`);
    }

    // docs/metrics.md: every documented name is exported, every service metric documented.
    const docs = read('docs', 'metrics.md');
    const documented = new Set([...docs.matchAll(/`(k2e_[a-z_]+)`/g)].map((m) => m[1]!).filter((n) => !n.endsWith('_')));
    const families = [...page.matchAll(/^# TYPE (k2e_\w+) /gm)].map((m) => m[1]!);
    for (const family of families) {
      if (/^k2e_(process|nodejs)_/.test(family)) continue; // prom-client defaults, listed by pattern
      assert.ok(documented.has(family), `${family} is exported but not in docs/metrics.md`);
    }
    for (const name of documented) assert.ok(families.includes(name) || exported.has(name), `docs/metrics.md lists ${name}, which the service does not export`);

    // Deprecated names: still exported, HELP names an exported replacement, documented as deprecated.
    const help = helpTexts(page);
    const deprecated = [...help].filter(([, text]) => text.startsWith('DEPRECATED'));
    assert.deepEqual(deprecated.map(([name]) => name).sort(), ['k2e_in_flight_bytes', 'k2e_in_flight_records', 'k2e_records_dead_lettered_total']);
    const deprecatedSection = docs.slice(docs.indexOf('## Deprecated names'), docs.indexOf('## Process and runtime'));
    for (const [name, text] of deprecated) {
      const replacement = /^DEPRECATED, use (k2e_\w+)/.exec(text)?.[1];
      assert.ok(replacement && exported.has(replacement), `${name}: HELP "${text}" names no exported replacement`);
      assert.match(deprecatedSection, new RegExp(`\\| \`${name}\` \\|.*\`${replacement}`), `${name} is not listed as deprecated in docs/metrics.md`);
      for (const rule of rules) assert.ok(!metricNames(rule.expr).has(name), `alert ${rule.alert} uses the deprecated ${name}`);
      for (const q of queries) assert.ok(!metricNames(q.expr).has(name), `${q.where} uses the deprecated ${name}`);
    }
  });
});
