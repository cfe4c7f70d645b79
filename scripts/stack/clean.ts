// `npm run stack -- clean [--dry-run]`: deletes what tests and benchmarks left on the running stack.
// Each run leaves hundreds of topics and indices behind (kept on purpose, for a post-mortem), and an
// engine holding hundreds of indices indexes markedly slower (docs/benchmarks.md, "A crowded
// engine"). Only names the tests' uniqueName() makes are touched, never the user's own.
import { Admin } from '@platformatic/kafka';
import type { StackState } from './state.js';

/** The earliest time a test name's timestamp may carry (older ones are not ours). */
const EARLIEST_TEST_NAME_MS = Date.UTC(2025, 0, 1);
/** `<prefix>-<Date.now() in base 36>-<up to 5 random base-36 characters>`, inside a longer name too. */
const TEST_NAME_PART = /(?:^|[-_.])([0-9a-z]{8})-[0-9a-z]{1,5}(?=$|[-_.])/g;

/**
 * Whether a topic, group, index, data stream or template name came from the tests' uniqueName():
 * it holds a segment of 8 base-36 characters that reads as a time since 2025 and before tomorrow,
 * followed by a short random one (`churn-mwyiqjh6-n6xtq`, `churn-mwyiqjh6-n6xtq.dlq`).
 */
export function isTestName(name: string, now = Date.now()): boolean {
  if (name.startsWith('.') || name.startsWith('_')) return false; // the engine's or the broker's own
  for (const match of name.matchAll(TEST_NAME_PART)) {
    const ms = Number.parseInt(match[1]!, 36);
    if (ms >= EARLIEST_TEST_NAME_MS && ms <= now + 86_400_000) return true;
  }
  return false;
}

export interface CleanReport {
  /** What was deleted (or would be, with dryRun), per kind: `topics`, `groups`, `<engine> indices` … */
  deleted: Record<string, string[]>;
  /** What could not be listed or deleted, and why (a step that fails does not stop the others). */
  problems: string[];
}

const chunks = <T>(items: T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

export async function cleanStack(state: StackState, dryRun: boolean): Promise<CleanReport> {
  const report: CleanReport = { deleted: {}, problems: [] };
  await cleanKafka(state.brokers, dryRun, report);
  for (const engine of state.engines) await cleanEngine(engine.name, engine.url, dryRun, report);
  return report;
}

async function cleanKafka(brokers: string, dryRun: boolean, report: CleanReport): Promise<void> {
  const admin = new Admin({ clientId: 'k2e-stack-clean', bootstrapBrokers: [brokers], retries: 1, timeout: 10_000 });
  try {
    const topics = (await admin.listTopics()).filter((t) => isTestName(t));
    report.deleted.topics = topics;
    if (!dryRun) for (const batch of chunks(topics, 100)) await admin.deleteTopics({ topics: batch });
    // Only groups without members can be deleted; a test's group is empty once its instances stopped.
    const groups = [...(await admin.listGroups({ states: ['EMPTY'] })).keys()].filter((g) => isTestName(g));
    report.deleted['consumer groups'] = groups;
    if (!dryRun) for (const batch of chunks(groups, 100)) await admin.deleteGroups({ groups: batch });
  } catch (error) {
    report.problems.push(`kafka at ${brokers}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

async function cleanEngine(name: string, url: string, dryRun: boolean, report: CleanReport): Promise<void> {
  const request = async (method: string, path: string): Promise<unknown> => {
    const response = await fetch(new URL(path, url), { method, signal: AbortSignal.timeout(60_000) });
    const body = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${body.slice(0, 300)}`);
    return body ? JSON.parse(body) : undefined;
  };
  const step = async (kind: string, list: () => Promise<string[]>, remove: (names: string[]) => Promise<unknown>, size: number): Promise<void> => {
    try {
      const names = (await list()).filter((n) => isTestName(n)).sort();
      report.deleted[`${name} ${kind}`] = names;
      if (!dryRun) for (const batch of chunks(names, size)) await remove(batch);
    } catch (error) {
      report.problems.push(`${name} ${kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  // Data streams first: their backing indices (.ds-…) go with them. The stack's Elasticsearch does not
  // load the data-stream module, so listing them fails there: nothing to delete.
  const dataStreams = await request('GET', '/_data_stream').then(
    (body) => ((body as { data_streams?: { name: string }[] }).data_streams ?? []).map((d) => d.name),
    () => undefined,
  );
  if (dataStreams) await step('data streams', async () => dataStreams, (names) => request('DELETE', `/_data_stream/${names.join(',')}`), 20);
  // Names in the path, never wildcards: Elasticsearch refuses wildcard deletes by default.
  await step(
    'indices',
    async () => ((await request('GET', '/_cat/indices?format=json&h=index&expand_wildcards=open,closed')) as { index: string }[]).map((i) => i.index),
    (names) => request('DELETE', `/${names.join(',')}?ignore_unavailable=true`),
    50,
  );
  await step(
    'index templates',
    async () => ((await request('GET', '/_index_template')) as { index_templates: { name: string }[] }).index_templates.map((t) => t.name),
    async ([template]) => request('DELETE', `/_index_template/${template!}`),
    1,
  );
}
