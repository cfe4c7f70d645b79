// The search-engine bulk ceiling: the benchmark's documents bulk-indexed straight from memory by the
// leanest loader we could write with undici. Runs as its own process (its CPU is measured apart):
//
//   node dist/bench/workers/bulk-loader.js <mode> --file F --url U --prefix P [--docs N] [--bulk B] [--concurrency C] [--sweep 1000x2,2000x4,...]
//
// mode warmup|full: one run of `--docs` documents (from the start of the file) into the index `--prefix`.
// mode sweep: every BxC of `--sweep` on the first `--docs` documents, each into a fresh index `<prefix>-<B>x<C>`.
// What makes it lean: bodies are built before the clock starts (Buffers, no string work while sending),
// the index is in the URL (short action lines), and `filter_path=errors,items.*.error` keeps the
// responses of successful bulks to a few bytes. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { Engine } from '../lib/engine.js';
import type { LoaderRun } from '../lib/report.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    file: { type: 'string' },
    url: { type: 'string' },
    prefix: { type: 'string' },
    docs: { type: 'string' },
    bulk: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
    sweep: { type: 'string', default: '' },
    // lean: the index in the URL, filter_path; service: what the service sends (`_index` in every action
    // line, POST /_bulk, the whole response read and parsed), to see what the request shape costs the engine.
    shape: { type: 'string', default: 'lean' },
  },
});
const mode = positionals[0];
const url = values.url!;
const engine = new Engine(url, 2);

/** Action + source lines of each document, as Buffers sliced from the file. */
function loadDocs(file: string, limit: number, index: string | undefined): Buffer[] {
  const data = readFileSync(file);
  const docs: Buffer[] = [];
  let start = 0;
  while (start < data.length && docs.length < limit) {
    let end = data.indexOf(10, start);
    if (end < 0) end = data.length;
    const tab = data.indexOf(9, start);
    const key = data.toString('latin1', start, tab);
    const action = index === undefined ? `{"index":{"_id":"${key}"}}\n` : `{"index":{"_index":"${index}","_id":"${key}"}}\n`;
    docs.push(Buffer.concat([Buffer.from(action), data.subarray(tab + 1, end), Buffer.from('\n')]));
    start = end + 1;
  }
  return docs;
}

function bodies(docs: Buffer[], bulk: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < docs.length; i += bulk) out.push(Buffer.concat(docs.slice(i, i + bulk)));
  return out;
}

async function load(index: string, docs: Buffer[], bulk: number, concurrency: number): Promise<LoaderRun> {
  const payloads = bodies(docs, bulk);
  const bytes = payloads.reduce((sum, b) => sum + b.length, 0);
  const pool = new Pool(new URL(url).origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const lean = values.shape !== 'service';
  const path = lean ? `/${index}/_bulk?filter_path=errors,items.*.error` : '/_bulk';
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  async function lane(): Promise<void> {
    while (next < payloads.length) {
      const body = payloads[next++]!;
      const response = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'application/x-ndjson' } });
      const text = await response.body.text();
      const failed = lean ? text !== '{"errors":false}' : (JSON.parse(text) as { errors: boolean }).errors;
      if (response.statusCode !== 200 || failed) throw new Error(`bulk answered ${response.statusCode}: ${text.slice(0, 500)}`);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await pool.close();
  return { bulk, concurrency, docs: docs.length, bytes, seconds, docsPerSec: docs.length / seconds, mbPerSec: bytes / seconds / 1e6, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

// The service's shape names the index in every action line; sweep indices differ per run, so only full/warmup.
const docs = loadDocs(values.file!, values.docs ? Number(values.docs) : Infinity, values.shape === 'service' && mode !== 'sweep' ? values.prefix : undefined);
let result: object;
if (mode === 'sweep') {
  const runs: LoaderRun[] = [];
  for (const spec of values.sweep.split(',')) {
    const [bulk, concurrency] = spec.split('x').map(Number) as [number, number];
    const index = `${values.prefix}-${bulk}x${concurrency}`;
    await engine.createIndex(index);
    try {
      runs.push(await load(index, docs, bulk, concurrency));
    } finally {
      await engine.deleteIndex(index);
    }
  }
  result = { runs };
} else if (mode === 'full' || mode === 'warmup') {
  // The caller created the index (and deletes it).
  result = await load(values.prefix!, docs, Number(values.bulk), Number(values.concurrency));
} else {
  throw new Error(`unknown mode ${mode}`);
}
await engine.close();
const total = process.cpuUsage();
console.log(JSON.stringify({ ...result, processCpuSeconds: (total.user + total.system) / 1e6 }));
