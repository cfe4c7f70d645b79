// The search engine's own event→searchable latency at a given rate, with no Kafka and no service:
// documents are bulk-indexed straight from memory every 100 ms (one request each, like a sink that
// keeps up) while the same search probe as the service's steady-state run looks for markers. The
// service cannot make a document searchable sooner than this floor on the same machine.
//
//   node dist/bench/workers/latency-floor.js --url U --index I --rate R --seconds S [--every-ms 100]
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '../lib/engine.js';
import { tweet } from '../lib/data.js';
import { refreshesBetween, refreshStats } from '../lib/service.js';
import { SearchProbe } from '../lib/search-probe.js';

const { values } = parseArgs({
  options: { url: { type: 'string' }, index: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string', default: '30' }, 'every-ms': { type: 'string', default: '100' }, 'first-id': { type: 'string', default: '0' } },
});
const engine = new Engine(values.url!, 4);
const index = values.index!;
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const everyMs = Number(values['every-ms']);
const probeEvery = Math.max(1, Math.round(rate / 20));
const probe = new SearchProbe(engine, index, 60_000);
const bulkMs: number[] = [];

const refresh0 = await refreshStats(engine, index);
const t0 = performance.now();
let sent = 0;
const bulks: Promise<void>[] = [];
while (performance.now() - t0 < seconds * 1000) {
  const due = Math.floor(((performance.now() - t0) / 1000) * rate);
  if (due > sent) {
    const now = performance.now();
    const lines: string[] = [];
    for (; sent < due; sent++) {
      const id = `f-${sent}`;
      if (sent % probeEvery === 0) probe.expect(id, now);
      lines.push(`{"index":{"_id":"${id}"}}`, tweet(Number(values['first-id']) + sent, { marker: true }));
    }
    const started = performance.now();
    bulks.push(
      engine.call('POST', `/${index}/_bulk?filter_path=errors`, lines.join('\n') + '\n').then(() => {
        bulkMs.push(performance.now() - started);
      }),
    );
  }
  await sleep(everyMs);
}
const producedSeconds = (performance.now() - t0) / 1000;
const refresh = refreshesBetween(refresh0, await refreshStats(engine, index), producedSeconds);
await Promise.all(bulks);
const latencies = await probe.finish();
await engine.close();
const q = (list: number[], p: number): number => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
};
const cpu = process.cpuUsage();
console.log(JSON.stringify({ rate, seconds: producedSeconds, events: sent, probes: latencies.length, refresh, processCpuSeconds: (cpu.user + cpu.system) / 1e6, probe: { p50: q(latencies, 0.5), p90: q(latencies, 0.9), p99: q(latencies, 0.99), max: q(latencies, 1) }, bulk: { count: bulkMs.length, p50: q(bulkMs, 0.5), p99: q(bulkMs, 0.99) } }));
