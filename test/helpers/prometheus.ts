// A real Prometheus (Debian's `prometheus` binary) for tests: its own temporary data directory, a
// free port, a 1 s scrape and rule interval, and a small client for its HTTP query API.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from './service.js';
import { which } from './tools.js';

export const prometheusBinary = which('prometheus');

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface RunningPrometheus {
  url: string;
  /** An instant query (at `time`, seconds since the epoch, or now); throws when Prometheus reports an error. */
  query(expr: string, time?: number): Promise<Sample[]>;
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
  /** HELP text of a metric as Prometheus scraped it. */
  help(metric: string): Promise<string | undefined>;
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts Prometheus scraping `targets` as the job "kafka-to-elastic", with `ruleFiles` loaded. */
export async function startPrometheus(targets: string[], ruleFiles: string[] = []): Promise<RunningPrometheus> {
  if (!prometheusBinary) throw new Error('prometheus is not installed (apt-get install prometheus)');
  const dir = mkdtempSync(path.join(tmpdir(), 'k2e-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: ruleFiles,
      scrape_configs: [{ job_name: 'kafka-to-elastic', static_configs: [{ targets }] }],
    }),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(prometheusBinary, [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, 30_000, 200))) {
    await stop();
    throw new Error(`prometheus did not become ready:\n${output}`);
  }
  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const body = (await (await fetch(`${url}${pathAndQuery}`)).json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${pathAndQuery}: ${body.error}`);
    return body.data;
  };
  return {
    url,
    async query(expr, time) {
      const data = await api<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] | [number, string] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}${time === undefined ? '' : `&time=${time}`}`,
      );
      if (data.resultType === 'scalar') return [{ metric: {}, value: Number((data.result as [number, string])[1]) }];
      return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
    async alerts() {
      return (await api<{ alerts: { labels: Record<string, string>; state: string }[] }>('/api/v1/alerts')).alerts;
    },
    async help(metric) {
      const data = await api<Record<string, { help: string }[]>>(`/api/v1/metadata?metric=${encodeURIComponent(metric)}`);
      return data[metric]?.[0]?.help;
    },
    output: () => output,
    stop,
  };
}
