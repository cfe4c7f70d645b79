// `workers: N | auto`: the configuration, how many members auto means, what each member is given, and
// how the members' /status and /metrics become one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { mergeHistory, mergeMetrics, mergeStatus, processMetricsRegistry } from '../../src/workers/aggregate.js';
import { AUTO_MAX_WORKERS, cgroupCpuLimit, resolveWorkerCount } from '../../src/workers/count.js';
import { memberConfig } from '../../src/workers/pool.js';
import { threadResourceLimits } from '../../src/service/thread-limits.js';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';

const base = { K2E_TOPICS: 't', K2E_INDEX: 'i' };

describe('workers configuration', () => {
  it('defaults to 1, takes a number or auto from the environment and flags, refuses anything else', () => {
    assert.equal(loadConfig({ env: base }).workers, 1);
    assert.equal(loadConfig({ env: { ...base, K2E_WORKERS: '3' } }).workers, 3);
    assert.equal(loadConfig({ env: { ...base, K2E_WORKERS: 'auto' } }).workers, 'auto');
    assert.equal(loadConfig({ env: base, flags: ['--workers=2'] }).workers, 2);
    assert.throws(() => loadConfig({ env: { ...base, K2E_WORKERS: '0' } }), ConfigError);
    assert.throws(() => loadConfig({ env: { ...base, K2E_WORKERS: 'many' } }), ConfigError);
  });

  it('auto is the usable cores: the affinity count, the cgroup quota, at most 8', () => {
    assert.equal(resolveWorkerCount(4, 2, undefined), 4, 'a number is taken as given');
    assert.equal(resolveWorkerCount('auto', 2, undefined), 2);
    assert.equal(resolveWorkerCount('auto', 2, 'max 100000\n'), 2);
    assert.equal(resolveWorkerCount('auto', 16, '300000 100000\n'), 3, 'a 3-CPU container limit on a 16-core host');
    assert.equal(resolveWorkerCount('auto', 16, '50000 100000'), 1, 'half a CPU still runs one member');
    assert.equal(resolveWorkerCount('auto', 64, undefined), AUTO_MAX_WORKERS);
    assert.equal(cgroupCpuLimit('150000 100000'), 2);
    assert.equal(cgroupCpuLimit('garbage'), undefined);
  });

  it('gives each member its own instance id and an equal share of the buffer bounds', () => {
    const config = loadConfig({ env: { ...base, K2E_WORKERS: '3' }, flags: ['--instanceId=pod-a', '--batch.maxBufferedRecords=10000'] });
    const members = [1, 2, 3].map((i) => memberConfig(config, i, 3));
    assert.deepEqual(members.map((m) => m.instanceId), ['pod-a-w1', 'pod-a-w2', 'pod-a-w3']);
    assert.ok(members.every((m) => m.batch.maxBufferedRecords === 3334 && m.batch.maxBufferedBytes === Math.ceil(config.batch.maxBufferedBytes / 3)));
    assert.ok(members.every((m) => m.kafka.groupId === config.kafka.groupId && m.progress === 'off'));
  });
});

describe('merging the members', () => {
  const member = (assigned: number[], indexed: number, lag: number | null, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    instance: 'x',
    ready: true,
    memory: { rss: 300, heapUsed: 20 },
    reachable: { kafka: true, searchEngine: true, since: 1 },
    consumed: indexed,
    indexed,
    buffered: 1,
    generation: 4,
    assigned: assigned.map((p) => `t:${p}`),
    sink: { state: 'ok', lastError: null, lastErrorAt: null },
    lag,
    stalled: [],
    partitions: assigned.map((p) => ({ topic: 't', partition: p })),
    history: [],
    ...extra,
  });

  it('sums the totals, concatenates the partitions, keeps the worst sink state and a section per member', () => {
    const merged = mergeStatus({ instance: 'pod', memory: { rss: 300, heapUsed: 5 } }, [
      { worker: 'w1', alive: true, status: member([4, 1], 100, 5) },
      { worker: 'w2', alive: true, status: member([0], 50, 0, { sink: { state: 'retrying', lastError: '429', lastErrorAt: 2 } }) },
    ]);
    assert.equal(merged.instance, 'pod');
    assert.deepEqual(merged.memory, { rss: 300, heapUsed: 5 + 20 + 20, heapTotal: 0, external: 0, arrayBuffers: 0 }, 'the process\'s RSS, the heaps of all threads');
    assert.equal(merged.indexed, 150);
    assert.equal(merged.buffered, 2);
    assert.equal(merged.lag, 5);
    assert.equal(merged.ready, true);
    assert.deepEqual(merged.assigned, ['t:0', 't:1', 't:4']);
    assert.deepEqual((merged.partitions as { partition: number; worker: string }[]).map((p) => `${p.partition}@${p.worker}`), ['0@w2', '1@w1', '4@w1']);
    assert.deepEqual(merged.sink, { state: 'retrying', lastError: '429', lastErrorAt: 2 });
    assert.deepEqual((merged.members as { worker: string; indexed: number }[]).map((m) => [m.worker, m.indexed]), [['w1', 100], ['w2', 50]]);
  });

  it('is not ready, and its lag unknown, when a member did not answer or exited', () => {
    const merged = mergeStatus({}, [
      { worker: 'w1', alive: true, status: member([0], 10, 0) },
      { worker: 'w2', alive: false },
    ]);
    assert.equal(merged.ready, false);
    assert.equal(merged.lag, null);
    assert.equal(merged.indexed, 10);
  });

  it('reachability: unreachable when any member says so, unknown while any does not know yet; phase: running once all run', () => {
    const reach = (kafka: boolean | null, phase = 'running') => member([0], 1, 0, { reachable: { kafka, searchEngine: true, since: 1 }, phase });
    const merged = (...statuses: Record<string, unknown>[]) => mergeStatus({}, statuses.map((status, i) => ({ worker: `w${i}`, alive: true, status })));
    assert.deepEqual(merged(reach(true), reach(true)).reachable, { kafka: true, searchEngine: true, since: 1 });
    assert.equal((merged(reach(true), reach(null)).reachable as { kafka: unknown }).kafka, null);
    assert.equal((merged(reach(null), reach(false)).reachable as { kafka: unknown }).kafka, false);
    assert.equal(merged(reach(true), reach(true)).phase, 'running');
    assert.equal(merged(reach(true), reach(null, 'initializing')).phase, 'initializing');
    assert.equal(merged(reach(true), reach(true, 'stopping')).phase, 'stopping');
    assert.equal(mergeStatus({ phase: 'stopping' }, [{ worker: 'w1', alive: true, status: reach(true) }]).phase, 'stopping');
    assert.equal(mergeStatus({}, [{ worker: 'w1', alive: true, status: reach(true) }, { worker: 'w2', alive: true }]).phase, 'initializing');
  });

  it('aligns histories from the newest point', () => {
    const merged = mergeHistory([
      [{ t: 1, indexedPerSec: 1, lag: 1 }, { t: 3, indexedPerSec: 2, lag: 2 }],
      [{ t: 4, indexedPerSec: 10, lag: null }],
    ]);
    assert.deepEqual(merged, [{ t: 1, indexedPerSec: 1, lag: 1 }, { t: 4, indexedPerSec: 12, lag: null }]);
  });

  it('merges metrics with one HELP/TYPE per name, a worker label per member, process-wide metrics once', async () => {
    const registries = ['w1', 'w2'].map((worker, i) => {
      const registry = new Registry();
      registry.setDefaultLabels({ worker });
      new Counter({ name: 'k2e_records_indexed_total', help: 'indexed', labelNames: ['topic'], registers: [registry] }).inc({ topic: 't' }, 10 * (i + 1));
      new Counter({ name: 'k2e_process_cpu_seconds_total', help: 'cpu', registers: [registry] }).inc(99);
      return registry;
    });
    const text = await mergeMetrics(processMetricsRegistry(), await Promise.all(registries.map((r) => r.getMetricsAsJSON())));
    const lines = text.split('\n');
    assert.deepEqual(lines.filter((l) => l.startsWith('k2e_records_indexed_total')), ['k2e_records_indexed_total{topic="t",worker="w1"} 10', 'k2e_records_indexed_total{topic="t",worker="w2"} 20']);
    assert.equal(lines.filter((l) => l.startsWith('# TYPE k2e_records_indexed_total')).length, 1);
    assert.equal(lines.filter((l) => l.startsWith('k2e_process_cpu_seconds_total')).length, 1);
    assert.ok(!lines.some((l) => l.startsWith('k2e_process_cpu_seconds_total') && l.includes('worker=')), 'the process-wide value is the main thread\'s');
    assert.equal(lines.filter((l) => l.startsWith('k2e_process_start_time_seconds ')).length, 1, 'restarts stay visible (K2EInstanceRestarting)');
  });
});

describe('service thread memory limits', () => {
  it('caps the old generation at maxHeapMb and sizes the young generation only when asked', async () => {
    assert.equal(threadResourceLimits(0, 16), undefined, 'maxHeapMb 0: no thread limits at all');
    assert.deepEqual(threadResourceLimits(128, 0), { maxOldGenerationSizeMb: 128 });
    assert.deepEqual(threadResourceLimits(128, 16), { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 16 });
    assert.equal(loadConfig({ env: base }).maxYoungGenerationMb, 16);
    assert.equal(loadConfig({ env: { ...base, K2E_MAX_YOUNG_GENERATION_MB: '0' } }).maxYoungGenerationMb, 0);
    assert.equal(loadConfig({ env: base }).heapGrowthPercent, 0, "V8's own growing factor unless asked");
    assert.equal(loadConfig({ env: { ...base, K2E_HEAP_GROWTH_PERCENT: '200' } }).heapGrowthPercent, 200);
    assert.throws(() => loadConfig({ env: { ...base, K2E_HEAP_GROWTH_PERCENT: '-1' } }), /heapGrowthPercent/);
    // What V8 makes of them: a thread given a 16 MiB young generation has a smaller heap limit than one left to V8.
    const heapLimit = async (youngMb: number): Promise<number> => {
      const worker = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)", { eval: true, resourceLimits: threadResourceLimits(64, youngMb)! });
      const [limit] = (await once(worker, 'message')) as [number];
      await worker.terminate();
      return limit / 1048576;
    };
    const byV8 = await heapLimit(0);
    const small = await heapLimit(16);
    assert.ok(small < byV8 - 16, `young generation 16 MiB: heap limit ${small} MiB, V8's own ${byV8} MiB`);
  });
});
