// The admin commands against what goes wrong outside them: a dead broker (127.0.0.1:1, nothing
// listens), a broker that accepts connections and never answers, a service URL nothing answers on,
// an answer that is not JSON, a timeout. Each is one line naming the setting, exit code 1, in seconds,
// never a stack trace; a dead broker is never "topic does not exist". `demo produce` against a broker
// that hangs stops on the first SIGTERM or SIGINT. `run`'s first log line carries the version, and
// pretty logs without a terminal (or with NO_COLOR) carry no colour.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { brokers, uniqueName } from '../helpers/stack.js';

const bin = path.join(repoRoot, 'bin', 'kafka-to-elastic.js');
const version = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const DEAD = '127.0.0.1:1';
/** The environment without the K2E_ variables of whoever runs the tests. */
const cleanEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('K2E_')));

const cli = (args: string[], env: Record<string, string> = {}) => {
  const started = Date.now();
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...cleanEnv(), ...env }, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
};

/** As cli(), without blocking this process (whose own servers must answer meanwhile). */
async function cliAsync(args: string[], env: Record<string, string> = {}): Promise<ReturnType<typeof cli>> {
  const started = Date.now();
  const child = spawn(process.execPath, [bin, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr, ms: Date.now() - started };
}

/** Exit 1, one line on stderr matching `pattern`, no stack trace. */
function failsInOneLine(result: ReturnType<typeof cli>, pattern: RegExp, what: string): void {
  assert.equal(result.code, 1, `${what}: exit ${result.code}\n${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: more than one line:\n${result.stderr}`);
  assert.match(lines[0]!, pattern, what);
  assert.ok(!/AggregateError|TypeError|SyntaxError|\bat \S+:\d+/.test(result.stderr), `${what}: ${result.stderr}`);
}

/** A TCP server that accepts connections and never answers (a hung broker or service). */
async function silentServer(): Promise<{ server: TcpServer; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function httpServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (taken, then released); fetch refuses port 1. */
async function freePort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('admin commands against a dead broker', () => {
  const refused = /^kafka\.brokers 127\.0\.0\.1:1 not reachable: connection refused; check kafka\.brokers \(K2E_BROKERS, --brokers\)$/;

  it('lag, replay, dlq summary and dlq show: one line naming kafka.brokers, exit 1, in seconds', () => {
    const commands: [string, string[]][] = [
      ['lag', ['lag', '--brokers', DEAD, '--topics', 't']],
      ['lag --json', ['lag', '--json', '--group', 'g', '--topics', 't']],
      ['replay', ['replay', '--brokers', DEAD, '--topics', 't', '--group', 'g', '--to-earliest']],
      // dlq summary and show need only Kafka settings: no kafka.topics, no elastic.index.
      ['dlq summary', ['dlq', 'summary', '--brokers', DEAD, '--dlq-topic', 'orders.dlq']],
      ['dlq show', ['dlq', 'show', '--dlq-topic', 'orders.dlq', '--limit', '1']],
      ['dlq summary --topic', ['dlq', 'summary', '--topic', 'orders']],
    ];
    for (const [what, args] of commands) {
      const result = cli(args, { K2E_BROKERS: DEAD });
      failsInOneLine(result, refused, what);
      assert.ok(!/does not exist/.test(result.stderr), `${what}: a dead broker reported as a missing topic`);
      assert.ok(result.ms < 15_000, `${what} took ${result.ms} ms`);
    }
  });

  it('a broker that never answers: a timeout naming --timeout-ms, within a few seconds', async () => {
    const silent = await silentServer();
    try {
      for (const args of [['lag', '--topics', 't'], ['dlq', 'summary', '--dlq-topic', 'd']]) {
        const result = cli([...args, '--brokers', `127.0.0.1:${silent.port}`, '--timeout-ms', '1000']);
        failsInOneLine(result, new RegExp(`^kafka\\.brokers 127\\.0\\.0\\.1:${silent.port} not reachable: .*timed out \\(waited 1000 ms: --timeout-ms\\)`), args.join(' '));
        assert.ok(result.ms < 10_000, `${args.join(' ')} took ${result.ms} ms`);
      }
    } finally {
      await silent.close();
    }
  });

  it('a live broker without the dead-letter topic: "does not exist" (and only then)', () => {
    const topic = uniqueName('cli-no-dlq');
    const result = cli(['dlq', 'summary', '--dlq-topic', topic, '--brokers', brokers]);
    failsInOneLine(result, new RegExp(`^dead-letter topic "${topic}" does not exist`), 'dlq summary');
  });
});

describe('status against what is not a running service', () => {
  it('a bad URL is a usage error (exit 2); refused, timed out and non-JSON answers are one line, exit 1', async () => {
    const bad = cli(['status', '--url', 'not-a-url']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^--url "not-a-url" is not a URL: expected http:\/\/host:port\n/);
    assert.equal(cli(['status', '--url', 'ftp://127.0.0.1/']).code, 2);

    const port = await freePort();
    failsInOneLine(cli(['status', '--url', `http://127.0.0.1:${port}`]), new RegExp(`^no service answers on http://127\\.0\\.0\\.1:${port}/status: connection refused$`), 'refused');
    // Without --url: the configured http.port, named as such.
    failsInOneLine(cli(['status'], { K2E_HTTP_PORT: String(port) }), /^no service answers on http:\/\/127\.0\.0\.1:\d+\/status \(http\.host and http\.port; or --url\): connection refused$/, 'refused, configured');

    const html = await httpServer((_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a proxy</html>'));
    const hang = await httpServer(() => undefined);
    try {
      failsInOneLine(await cliAsync(['status', '--url', html.url]), /^http:\/\/127\.0\.0\.1:\d+\/status answered 200 text\/html but not JSON: is this the service's HTTP endpoint\?$/, 'non-JSON');
      const timedOut = await cliAsync(['status', '--url', hang.url, '--timeout-ms', '700']);
      failsInOneLine(timedOut, /^no answer from http:\/\/127\.0\.0\.1:\d+\/status within 700 ms \(--timeout-ms\)$/, 'timeout');
      assert.ok(timedOut.ms < 10_000);
    } finally {
      await html.close();
      await hang.close();
    }
  });
});

describe('demo produce', () => {
  it('a dead broker: one line, exit 1', () => {
    failsInOneLine(cli(['demo', 'produce', '--format', 'json', '--brokers', DEAD, '--count', '5']), /^kafka\.brokers 127\.0\.0\.1:1 not reachable: connection refused/, 'demo produce');
    failsInOneLine(cli(['demo', 'produce', '--format', 'avro', '--registry', 'http://127.0.0.1:1', '--brokers', DEAD]), /^schema registry http:\/\/127\.0\.0\.1:1 \(--registry, K2E_SCHEMA_REGISTRY_URL\) not reachable/, 'demo produce avro');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`a broker that hangs: the first ${signal} stops it at once`, async () => {
      const silent = await silentServer();
      try {
        const child = spawn(process.execPath, [bin, 'demo', 'produce', '--format', 'json', '--brokers', `127.0.0.1:${silent.port}`, '--timeout-ms', '60000'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = once(child, 'exit');
        // Past start-up: the producer is waiting for the broker.
        await new Promise((resolve) => setTimeout(resolve, 2500));
        const signalled = Date.now();
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const [code] = (await exited) as [number | null];
        clearTimeout(timer);
        assert.equal(code, 0, output);
        assert.ok(Date.now() - signalled < 5000, `took ${Date.now() - signalled} ms after ${signal}`);
        assert.match(output, /produced 0 json tweets \(stopped\)/);
      } finally {
        await silent.close();
      }
    });
  }
});

describe('run', () => {
  it('logs its version first; pretty logs without a terminal or with NO_COLOR carry no colour; a dead broker ends it with exit 1', () => {
    const env = { K2E_BROKERS: DEAD, K2E_TOPICS: 't', K2E_INDEX: 'i', K2E_HTTP_PORT: '0' };
    const json = cli(['run', '--init.budgetMs=1500', '--init.initialDelayMs=200', '--logFormat=json'], env);
    assert.equal(json.code, 1, json.stdout + json.stderr);
    const first = JSON.parse(json.stdout.split('\n')[0]!) as { msg: string; version: string; node: string };
    assert.equal(first.msg, 'kafka-to-elastic starting');
    assert.equal(first.version, version);
    assert.equal(first.node, process.version);
    for (const extra of [{}, { NO_COLOR: '1' }] as Record<string, string>[]) {
      const pretty = cli(['run', '--init.budgetMs=1500', '--init.initialDelayMs=200', '--logFormat=pretty'], { ...env, ...extra });
      assert.equal(pretty.code, 1);
      assert.match(pretty.stdout, new RegExp(`kafka-to-elastic starting.*\\n.*version: "${version.replace(/\./g, '\\.')}"`));
      assert.ok(!pretty.stdout.includes('\x1b['), JSON.stringify(pretty.stdout.slice(0, 300)));
    }
  });
});
