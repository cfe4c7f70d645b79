#!/usr/bin/env node
// HTTP transport comparison for `_bulk`: the same tweet-like documents, bulk size and concurrency through
// each transport into each engine listed in .stack/state.json.
//
//   node bench/clients/bulk-transport.mjs [--docs 200000] [--bulk 1000] [--concurrency 4] [--runs 3]
//        [--warmup 200000] [--only searchclient,elastic-transport,opensearch-js,elasticsearch-js]
//
// Transports: `searchclient` = the service's SearchClient (dist/src/sink/search-client.js; run `npx tsc -p .`
// first), `elastic-transport` = @elastic/transport (UndiciConnection), `opensearch-js` =
// @opensearch-project/opensearch Client, `elasticsearch-js` = @elastic/elasticsearch Client (Elasticsearch
// only; against OpenSearch it is probed once and its error recorded). Third-party packages are loaded from
// $KCLIENTS (default /tmp/kclients). Every transport sends bodies built by the service's bulkBody() over encode() (the
// Elasticsearch client serializes its `operations` array itself) and classifies the response with the
// service's classifyBulkResponse(). Each engine is warmed up first; each run is a fresh process and a fresh
// index (1 shard, 0 replicas) that is deleted afterwards. Reported: docs/s, client CPU (user+sys of the
// bench process during the sends) and engine CPU (the JVM's utime+stime from /proc over the same run).
//
// Internal: `--worker <transport> --engine-url U --index I` runs one measurement and prints one JSON line.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { tweet, tweetKey } from './tweets.mjs';

const here = fileURLToPath(import.meta.url);
const KCLIENTS = process.env.KCLIENTS ?? '/tmp/kclients';
const requireScratch = createRequire(`${KCLIENTS}/package.json`);
const TRANSPORTS = ['searchclient', 'elastic-transport', 'opensearch-js', 'elasticsearch-js'];

const { values: args } = parseArgs({
  options: {
    docs: { type: 'string', default: '200000' },
    bulk: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '200000' },
    only: { type: 'string' },
    worker: { type: 'string' },
    'engine-url': { type: 'string' },
    index: { type: 'string' },
  },
});
const DOCS = Number(args.docs);
const BULK = Number(args.bulk);
const CONCURRENCY = Number(args.concurrency);

// ---------------------------------------------------------------- driver

async function main() {
  const engines = JSON.parse(readFileSync(new URL('../../.stack/state.json', import.meta.url), 'utf8')).engines;
  const transports = args.only ? args.only.split(',') : TRANSPORTS;
  const stamp = Date.now().toString(36);
  console.log(`# ${DOCS} docs, bulk ${BULK}, concurrency ${CONCURRENCY}, ${args.runs} runs; engines ${engines.map((e) => `${e.name}@${e.url}`).join(', ')}`);

  for (const engine of engines) {
    engine.pid = jvmPid(engine.url);
    const info = await (await fetch(engine.url)).json();
    engine.version = `${info.version.distribution ?? 'elasticsearch'} ${info.version.number}`;
    console.log(`# ${engine.name}: ${engine.version}, JVM pid ${engine.pid ?? 'unknown'}`);
  }

  // (d) the official Elasticsearch client against every non-Elasticsearch engine: record what it says.
  for (const engine of engines.filter((e) => !e.version.startsWith('elasticsearch'))) {
    console.log(`# @elastic/elasticsearch against ${engine.name}:`);
    for (const line of await probeElasticsearchClient(engine.url)) console.log(`#   ${line}`);
  }

  // Warm-up: one pass per engine through the service's client, so no transport measures a cold JIT.
  if (Number(args.warmup) > 0) {
    for (const engine of engines) {
      const index = `bench-clients-${stamp}-warmup-${engine.name}`;
      await createIndex(engine.url, index);
      const r = await runWorker('searchclient', engine.url, index, Number(args.warmup));
      await deleteIndex(engine.url, index);
      console.log(`# warm-up ${engine.name}: ${fmt(r.docs / r.wallSeconds)} docs/s`);
    }
  }

  const results = [];
  const runs = Number(args.runs);
  for (let run = 0; run < runs; run++) {
    for (const engine of engines) {
      const usable = transports.filter((t) => t !== 'elasticsearch-js' || engine.version.startsWith('elasticsearch'));
      const order = usable.map((_, i) => usable[(i + run) % usable.length]);
      for (const transport of order) {
        const index = `bench-clients-${stamp}-${transport}-${engine.name}-${run}`;
        await createIndex(engine.url, index);
        const jvm0 = jvmCpuSeconds(engine.pid);
        let r;
        try {
          r = await runWorker(transport, engine.url, index, DOCS);
        } catch (error) {
          r = { failure: error.message.split('\n')[0] };
        }
        const jvm1 = jvmCpuSeconds(engine.pid);
        r.engineCpuSeconds = jvm0 !== null && jvm1 !== null ? jvm1 - jvm0 : null;
        r.count = await countDocs(engine.url, index);
        await deleteIndex(engine.url, index);
        results.push({ run, engine: engine.name, transport, ...r });
        console.log(r.failure
          ? `  run ${run + 1} ${engine.name.padEnd(13)} ${transport.padEnd(18)} FAILED: ${r.failure}`
          : `  run ${run + 1} ${engine.name.padEnd(13)} ${transport.padEnd(18)} ${fmt(r.docs / r.wallSeconds)} docs/s  wall ${r.wallSeconds.toFixed(2)} s  client cpu ${r.cpuSeconds.toFixed(2)} s  engine cpu ${r.engineCpuSeconds?.toFixed(1) ?? '?'} s  rejected ${r.notAcked}  count ${r.count}`);
      }
    }
  }
  printTable(engines, transports, results);
}

function jvmPid(url) {
  const port = new URL(url).port;
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const m = out.match(/pid=(\d+)/);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function jvmCpuSeconds(pid) {
  if (!pid) return null;
  try {
    // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the ")" that ends the comm field.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function createIndex(url, index) {
  const r = await fetch(`${url}/${index}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ settings: { number_of_shards: 1, number_of_replicas: 0 } }),
  });
  if (!r.ok) throw new Error(`PUT ${index}: ${r.status} ${await r.text()}`);
}

async function deleteIndex(url, index) {
  await fetch(`${url}/${index}`, { method: 'DELETE' }).catch(() => {});
}

async function countDocs(url, index) {
  await fetch(`${url}/${index}/_refresh`, { method: 'POST' });
  const r = await fetch(`${url}/${index}/_count`);
  return r.ok ? (await r.json()).count : null;
}

async function probeElasticsearchClient(url) {
  const { Client } = requireScratch('@elastic/elasticsearch');
  const client = new Client({ node: url });
  const lines = [];
  const describe = (e) => `${e.name}: ${e.message}${e.meta?.statusCode ? ` (status ${e.meta.statusCode})` : ''}`;
  try {
    const info = await client.info();
    lines.push(`info() succeeded: ${JSON.stringify(info).slice(0, 120)}`);
  } catch (e) {
    lines.push(`info() threw ${describe(e)}`);
  }
  try {
    await client.bulk({ operations: [{ index: { _index: 'bench-clients-probe' } }, { a: 1 }] });
    lines.push('bulk() succeeded');
  } catch (e) {
    lines.push(`bulk() threw ${describe(e)}`);
  }
  await client.close();
  await deleteIndex(url, 'bench-clients-probe');
  return lines;
}

function runWorker(transport, url, index, docs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here, '--worker', transport, '--engine-url', url, '--index', index, '--docs', String(docs), '--bulk', String(BULK), '--concurrency', String(CONCURRENCY)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()));
      else reject(new Error(`worker ${transport} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

function printTable(engines, transports, results) {
  console.log(`\n| transport | engine | docs/s min | docs/s median | client CPU s median | engine CPU s median | runs ok |`);
  console.log(`|---|---|---:|---:|---:|---:|---:|`);
  for (const transport of transports) {
    for (const engine of engines) {
      const rs = results.filter((r) => r.transport === transport && r.engine === engine.name);
      if (!rs.length) continue;
      const ok = rs.filter((r) => !r.failure && r.notAcked === 0 && r.count === r.docs);
      if (!ok.length) {
        console.log(`| ${transport} | ${engine.name} | failed | | | | 0/${rs.length} |`);
        continue;
      }
      const rates = ok.map((r) => r.docs / r.wallSeconds);
      const engineCpu = ok.map((r) => r.engineCpuSeconds).filter((x) => x !== null);
      console.log(`| ${transport} | ${engine.name} | ${fmt(Math.min(...rates))} | ${fmt(median(rates))} | ${median(ok.map((r) => r.cpuSeconds)).toFixed(2)} | ${engineCpu.length ? median(engineCpu).toFixed(1) : '?'} | ${ok.length}/${rs.length} |`);
    }
  }
  console.log(`\ndocs/s = docs / wall time of the sends (client construction excluded); CPU in seconds for the whole run.`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function fmt(x) {
  return Math.round(x).toLocaleString('en-US');
}

// ---------------------------------------------------------------- worker

async function worker(transport, url, index, docs) {
  const sinkDir = new URL('../../dist/src/sink/', import.meta.url);
  const { bulkBody, encode } = await import(new URL('bulk-request.js', sinkDir));
  const { classifyBulkResponse } = await import(new URL('bulk-response.js', sinkDir));

  const ops = [];
  // Encoded once, as the service does: every transport sends the same bytes.
  for (let i = 0; i < docs; i++) ops.push(encode({ action: 'index', index, id: tweetKey(i), source: tweet(i) }));
  const chunks = [];
  for (let i = 0; i < ops.length; i += BULK) chunks.push(ops.slice(i, i + BULK));

  let send;
  let close;
  const classify = (body, batch) => classifyBulkResponse(typeof body === 'string' ? JSON.parse(body) : body, batch.map((e) => e.op));
  if (transport === 'searchclient') {
    const { SearchClient } = await import(new URL('search-client.js', sinkDir));
    const client = new SearchClient(url, { connections: CONCURRENCY });
    send = (batch) => client.bulk(batch);
    close = () => client.close();
  } else if (transport === 'elastic-transport') {
    const { Transport, WeightedConnectionPool, UndiciConnection } = requireScratch('@elastic/transport');
    const connectionPool = new WeightedConnectionPool({ Connection: UndiciConnection });
    connectionPool.addConnection(url);
    const t = new Transport({ connectionPool, maxRetries: 0, compression: false });
    send = async (batch) => classify(await t.request({ method: 'POST', path: '/_bulk', bulkBody: bulkBody(batch) }), batch);
    close = () => connectionPool.empty();
  } else if (transport === 'opensearch-js') {
    const { Client } = requireScratch('@opensearch-project/opensearch');
    const client = new Client({ node: url, maxRetries: 0 });
    send = async (batch) => classify((await client.bulk({ body: bulkBody(batch) })).body, batch);
    close = () => client.close();
  } else if (transport === 'elasticsearch-js') {
    const { Client } = requireScratch('@elastic/elasticsearch');
    const client = new Client({ node: url, maxRetries: 0 });
    // The client's own serialization path: an operations array (pre-serialized lines are passed through).
    send = async (batch) => {
      const operations = [];
      for (const e of batch) operations.push(e.line, e.op.source);
      return classify(await client.bulk({ operations }), batch);
    };
    close = () => client.close();
  } else {
    throw new Error(`unknown transport ${transport}`);
  }

  let next = 0;
  let notAcked = 0;
  let firstProblem = null;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < chunks.length) {
        const batch = chunks[next++];
        const outcomes = await send(batch);
        for (const o of outcomes) {
          if (o.kind !== 'acked') {
            notAcked++;
            firstProblem ??= o;
          }
        }
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await close();
  return { docs, wallSeconds: wall, cpuSeconds: (cpu.user + cpu.system) / 1e6, notAcked, ...(firstProblem ? { firstProblem } : {}), maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

// ---------------------------------------------------------------- entry point

if (args.worker) {
  const result = await worker(args.worker, args['engine-url'], args.index, DOCS);
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(0);
} else {
  await main();
}
