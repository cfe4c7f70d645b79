// The alerting rules shipped in deploy/prometheus: valid for Prometheus (promtool check rules, and
// check config for the example configuration that loads them), every
// alert unit-tested with series that make it fire and series that must not (promtool test rules),
// and every alert documented in docs/operations.md with a runbook anchor that exists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { repoRoot } from '../../scripts/stack/layout.js';
import { markdownAnchors } from '../helpers/promql.js';
import { skipUnless, which } from '../helpers/tools.js';

const dir = path.join(repoRoot, 'deploy', 'prometheus');
const promtool = which('promtool');
const skip = skipUnless(promtool, "promtool comes with Debian's prometheus package: apt-get install prometheus");

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  name: string;
  alert_rule_test: { alertname: string; eval_time: string; exp_alerts: unknown[] }[];
}

const rules = (parse(readFileSync(path.join(dir, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const tests = (parse(readFileSync(path.join(dir, 'alerts.test.yml'), 'utf8')) as { tests: RuleTest[] }).tests;

describe('Prometheus alerting rules', () => {
  it('promtool check rules accepts every rule', { skip }, () => {
    const result = spawnSync(promtool!, ['check', 'rules', 'alerts.yml'], { cwd: dir, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('promtool test rules passes: every alert fires on its case and stays quiet on the others', { skip }, () => {
    const result = spawnSync(promtool!, ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /SUCCESS/);
  });

  it('promtool check config accepts the example scrape configuration with the rules', { skip }, () => {
    const result = spawnSync(promtool!, ['check', 'config', 'prometheus.yml'], { cwd: dir, encoding: 'utf8' });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it('has a firing and a not-firing case for every alert, and no test of an unknown alert', () => {
    assert.ok(rules.length >= 10, `only ${rules.length} rules`);
    const names = new Set(rules.map((r) => r.alert));
    for (const rule of rules) {
      const cases = tests.flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === rule.alert);
      assert.ok(cases.some((c) => c.exp_alerts.length > 0), `${rule.alert}: no case where it fires`);
      assert.ok(cases.some((c) => c.exp_alerts.length === 0), `${rule.alert}: no case where it must not fire`);
    }
    for (const c of tests.flatMap((t) => t.alert_rule_test)) assert.ok(names.has(c.alertname), `test of unknown alert ${c.alertname}`);
  });

  it('gives every alert a severity, a summary, a description and a runbook section in docs/operations.md', () => {
    const anchors = markdownAnchors(readFileSync(path.join(repoRoot, 'docs', 'operations.md'), 'utf8'));
    for (const rule of rules) {
      assert.match(rule.labels?.severity ?? '', /^(critical|warning|info)$/, rule.alert);
      assert.ok(rule.annotations?.summary && rule.annotations.description, `${rule.alert}: summary and description`);
      const runbook = rule.annotations.runbook ?? '';
      assert.equal(runbook, `docs/operations.md#${rule.alert.toLowerCase()}`, rule.alert);
      assert.ok(anchors.has(rule.alert.toLowerCase()), `docs/operations.md has no "${rule.alert}" heading`);
    }
  });
});
