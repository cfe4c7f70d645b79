// No secret in anything the service prints or serves. The real service (two workers, SASL to the
// broker, Avro through the registry, two engine endpoints behind an authenticating CONNECT proxy) runs
// with a secret of every kind: user information in every URL key (elastic.urls, elastic.proxy,
// schemaRegistry.url; elastic.url in the second run), passwords, tokens (http.tokenFile, a bearer
// header in elastic.headers), and a record carrying an Authorization header. Every log line, /status,
// /metrics, `config check`, `status` and `dlq show` are searched for each secret: none is found. The
// credentials still work (each endpoint, the proxy and the registry refuse requests without them), the
// registry's user information goes as basic auth, the dead letter leaves the Authorization header
// behind, and the HTTP endpoints want the token (/health and /ready do not) on IPv4 and [::1] alike.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import avro from 'avsc';
import { stringify } from 'yaml';
import { repoRoot } from '../../scripts/stack/layout.js';
import { confluentAvro, registerSchema } from '../../src/cli/demo-produce.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { tempFile } from '../helpers/connections.js';
import { type FaultProxy, startFaultProxy } from '../helpers/fault-proxy.js';
import { createTopic, produce, readTopic } from '../helpers/kafka.js';
import { refreshAndCount } from '../helpers/search.js';
import { startService, waitFor } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';
import { freePort } from '../helpers/tcp-forwarder.js';

const engine = stack.engines[0]!;
const bin = path.join(repoRoot, 'bin', 'kafka-to-elastic.js');
const sasl = stack.sasl;
const registry = stack.registry;
const skip = !sasl ? 'no SASL listener in this stack' : !registry ? 'no schema registry in this stack' : false;

/** Every secret of every kind; each unique enough that finding it anywhere means it leaked. */
const SECRET = {
  urlsPassword1: 'k2e-urls-pw-one-7Hq2',
  urlsPassword2: 'k2e-urls-pw-two-9Lx4',
  proxyPassword: 'k2e-proxy-pw-3Vb8',
  registryPassword: 'k2e-registry-pw-5Nc1',
  elasticPassword: 'k2e-elastic-password-2Kd6',
  headerToken: 'k2e-header-bearer-token-8Wm3',
  httpToken: 'k2e-http-token-0123456789-4Pz7',
  recordAuthorization: 'k2e-record-authorization-6Tj9',
  // The second run: elastic.url and an API key.
  elasticUrlPassword: 'k2e-elastic-url-pw-1Rf5',
  apiKey: 'k2e-api-key-secret-0Ys2',
  deadRegistryPassword: 'k2e-dead-registry-pw-6Gh3',
  // A setting that fails validation.
  invalidUrlPassword: 'k2e-invalid-url-pw-2Qe8',
  invalidRegistryPassword: 'k2e-invalid-registry-pw-5Ua1',
};
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Each secret, and the base64 form a basic-auth header would carry, must appear nowhere in `text`. */
function assertNoSecret(text: string, what: string, secrets: readonly string[] = [...Object.values(SECRET), ...(sasl ? [sasl.password] : [])]): void {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `${what}: the secret ${secret} leaked:\n${text.slice(Math.max(0, text.indexOf(secret) - 1500), text.indexOf(secret) + 500)}`);
  }
  for (const [user, password] of [['eu1', SECRET.urlsPassword1], ['eu2', SECRET.urlsPassword2], ['pu', SECRET.proxyPassword], ['ru', SECRET.registryPassword]] as const) {
    assert.ok(!text.includes(basic(user, password).slice('Basic '.length)), `${what}: the basic credentials of ${user} leaked`);
  }
}

const run = (args: string[], env: Record<string, string> = {}): { code: number | null; out: string; stdout: string } => {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: result.status, out: result.stdout + result.stderr, stdout: result.stdout };
};

const portOf = (output: string): string | undefined => /"port":(\d+),"msg":"http endpoints listening"/.exec(output)?.[1];

describe('secrets never leave the service', { skip }, () => {
  const endpoints: FaultProxy[] = [];
  let registryProxy: FaultProxy;
  let connectProxy: Awaited<ReturnType<typeof startConnectProxy>>;

  before(async () => {
    // Two engine endpoints and the registry, each refusing (401) a request without its credentials.
    for (const [user, password] of [['eu1', SECRET.urlsPassword1], ['eu2', SECRET.urlsPassword2]] as const) {
      const endpoint = await startFaultProxy(engine.url);
      endpoint.set({ kind: 'status', status: 401 }, (req) => req.headers.authorization !== basic(user, password));
      endpoints.push(endpoint);
    }
    registryProxy = await startFaultProxy(new URL(registry!).origin);
    registryProxy.set({ kind: 'status', status: 401 }, (req) => req.headers.authorization !== basic('ru', SECRET.registryPassword));
    connectProxy = await startConnectProxy({ username: 'pu', password: SECRET.proxyPassword });
  });
  after(async () => {
    for (const endpoint of endpoints) await endpoint.close();
    await registryProxy?.close();
    await connectProxy?.close();
  });

  it('with a secret of every kind: none in any log line, /status, /metrics, config check, status or dlq show', { timeout: 240_000 }, async () => {
    const topic = uniqueName('secrets');
    const index = topic;
    const registryPath = new URL(registry!).pathname;
    const tokenFile = tempFile('http-token', `${SECRET.httpToken}\n`);
    const config = tempFile(
      'secrets.yaml',
      stringify({
        kafka: { brokers: [sasl!.brokers], topics: [topic], groupId: uniqueName('secrets-group'), sasl: { mechanism: 'PLAIN', username: sasl!.username, password: sasl!.password } },
        decode: { format: 'avro' },
        schemaRegistry: { url: `http://ru:${SECRET.registryPassword}@127.0.0.1:${new URL(registryProxy.url).port}${registryPath}` },
        elastic: {
          urls: endpoints.map((e, i) => `http://eu${i + 1}:${i === 0 ? SECRET.urlsPassword1 : SECRET.urlsPassword2}@${e.url.slice('http://'.length)}/`),
          proxy: `http://pu:${SECRET.proxyPassword}@${connectProxy.url.slice('http://'.length)}`,
          headers: { Authorization: `Bearer ${SECRET.headerToken}`, 'X-Opaque-Id': 'k2e-secrets-test' },
          username: 'svc',
          password: SECRET.elasticPassword,
          index,
        },
        http: { tokenFile },
        workers: 2,
        maxHeapMb: 96,
      }),
    );
    // Started before the topic exists: the initialization check logs "waiting for dependencies".
    const service = startService({ K2E_CONFIG: config, K2E_LOG_FORMAT: 'json', K2E_LOG_LEVEL: 'debug' }, ['--init.initialDelayMs=300', '--init.maxDelayMs=1000', '--http.healthIntervalMs=500']);
    try {
      assert.ok(await waitFor(async () => /"msg":"waiting for dependencies"/.test(service.output()), 30_000), service.output().slice(-3000));
      await createTopic(topic, 2);
      const schema = { type: 'record', name: 'Item', fields: [{ name: 'i', type: 'int' }, { name: 'note', type: 'string' }] };
      const id = await registerSchema(registry!, `${topic}-value`, JSON.stringify(schema));
      const type = avro.Type.forSchema(schema as avro.Schema);
      await produce(topic, [
        ...Array.from({ length: 20 }, (_, i) => ({ key: `k-${i}`, value: confluentAvro(id, type, { i, note: 'ok' }), headers: { traceparent: `tp-${i}` } })),
        // Not Avro: dead-lettered, with headers a producer passed along (one a credential, one hostile to terminals).
        { key: 'bad', value: Buffer.from('not avro \x1b[31mred\x1b[0m'), partition: 0, headers: { Authorization: `Bearer ${SECRET.recordAuthorization}`, traceparent: 'tp-bad', 'x-note': 'hi\x1b]0;owned\x07\x1b[2J' } },
      ]);

      const port = portOf(service.output());
      assert.ok(port, service.output().slice(-3000));
      const base = `http://127.0.0.1:${port}`;
      const auth = { authorization: `Bearer ${SECRET.httpToken}` };
      type Status = { indexed?: number; deadLettered?: number; members?: unknown[] };
      let status: Status = {};
      assert.ok(
        await waitFor(async () => {
          status = (await (await fetch(`${base}/status`, { headers: auth })).json()) as Status;
          return status.indexed === 20 && status.deadLettered === 1;
        }, 90_000),
        `${JSON.stringify(status)}\n${service.output().slice(-3000)}`,
      );
      assert.equal(await refreshAndCount(engine.url, index), 20);
      assert.equal(status.members?.length, 2, 'the merged /status of both workers');

      // The token: required by /status and /metrics, not by /health and /ready; the same on [::1].
      for (const url of [base, `http://[::1]:${port}`]) {
        for (const p of ['/status', '/metrics']) {
          assert.equal((await fetch(`${url}${p}`)).status, 401, `${url}${p} without a token`);
          assert.equal((await fetch(`${url}${p}`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401, `${url}${p} with a wrong token`);
          assert.equal((await fetch(`${url}${p}`, { headers: auth })).status, 200, `${url}${p} with the token`);
        }
        assert.equal((await fetch(`${url}/health`)).status, 200);
        assert.ok(await waitFor(async () => (await fetch(`${url}/ready`)).status === 200, 20_000), `${url}/ready`);
        const post = await fetch(`${url}/status`, { method: 'POST', headers: auth, body: '{}' });
        assert.equal(post.status, 405);
        assert.equal(post.headers.get('allow'), 'GET, HEAD');
        assert.equal(post.headers.get('x-content-type-options'), 'nosniff');
      }
      const page = await fetch(`${base}/`);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'sha256-/);
      const served = (await (await fetch(`${base}/status`, { headers: auth })).text()) + (await (await fetch(`${base}/metrics`, { headers: auth })).text());
      assertNoSecret(served, '/status and /metrics');

      // The `status` command: with --token-file, with the token from the configuration, refused without.
      const byFlag = run(['status', '--url', `http://[::1]:${port}`, '--token-file', tokenFile]);
      assert.equal(byFlag.code, 0, byFlag.out);
      assert.equal((JSON.parse(byFlag.stdout) as Status).indexed, 20);
      const byConfig = run(['status', '--config', config, `--http.port=${port}`]);
      assert.equal(byConfig.code, 0, byConfig.out);
      const without = run(['status', `--http-port=${port}`]);
      assert.equal(without.code, 1);
      assert.match(without.out, /wants a bearer token: pass --token-file FILE, or set http.tokenFile/);
      assertNoSecret(byFlag.out + byConfig.out + without.out, 'the status command');

      // The dead letter: the producer's Authorization header stayed behind, the other headers went along.
      const [dead] = await readTopic(`${topic}.dlq`, 1);
      assert.equal(dead?.headers.traceparent, 'tp-bad');
      assert.ok(dead?.headers['x-note']?.includes('\x1b'));
      assert.ok(!Object.keys(dead!.headers).some((name) => name.toLowerCase() === 'authorization'), JSON.stringify(dead?.headers));
      // dlq show: the terminal escape sequences are printed escaped.
      const shown = run(['dlq', 'show', '--config', config]);
      assert.equal(shown.code, 0, shown.out);
      assert.ok(!shown.out.includes('\x1b') && !shown.out.includes('\x07'), JSON.stringify(shown.out));
      assert.match(shown.out, /x-note="hi\\u001b\]0;owned\\u0007\\u001b\[2J"/);
      assert.match(shown.out, /not avro \\x1b\[31mred\\x1b\[0m/);
      assertNoSecret(shown.out, 'dlq show');

      // config check: every secret masked, the registry's user information moved into basic auth.
      const checked = run(['config', 'check', '--config', config]);
      assert.equal(checked.code, 0, checked.out);
      assertNoSecret(checked.out, 'config check');
      const printed = JSON.parse(checked.stdout) as { schemaRegistry: { url: string; username: string; password: string }; elastic: { urls: string[]; proxy: string; headers: Record<string, string> }; http: { token: string } };
      assert.equal(printed.schemaRegistry.url, `http://127.0.0.1:${new URL(registryProxy.url).port}${registryPath}`);
      assert.deepEqual([printed.schemaRegistry.username, printed.schemaRegistry.password], ['ru', '***']);
      assert.deepEqual(printed.elastic.urls, endpoints.map((e, i) => `http://eu${i + 1}:***@${e.url.slice('http://'.length)}/`));
      assert.equal(printed.elastic.headers.Authorization, '***');
      assert.equal(printed.http.token, '***');
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-3000));
    }
    assertNoSecret(service.output(), 'the log');
    // Every credential was needed and sent: no request refused by an endpoint, the registry or the proxy.
    assert.deepEqual([...endpoints.map((e) => e.faulted), registryProxy.faulted, connectProxy.refused], [0, 0, 0, 0]);
    assert.ok(connectProxy.targets.length > 0, 'the engine was reached through the proxy');
  });

  it('an unreachable registry and elastic.url with a password: the waiting lines and the failure name the endpoints without credentials', { timeout: 60_000 }, async () => {
    const topic = uniqueName('secrets-dead');
    await createTopic(topic, 1);
    const dead = await freePort();
    const config = tempFile(
      'dead-registry.yaml',
      stringify({
        kafka: { brokers: [brokers], topics: [topic], groupId: uniqueName('g') },
        decode: { format: 'avro' },
        schemaRegistry: { url: `http://ru:${SECRET.deadRegistryPassword}@127.0.0.1:${dead}/apis/ccompat/v7` },
        elastic: { url: `http://eu:${SECRET.elasticUrlPassword}@${engine.url.slice('http://'.length)}/`, apiKey: SECRET.apiKey, index: topic },
        maxHeapMb: 0,
      }),
    );
    const service = startService({ K2E_CONFIG: config, K2E_LOG_FORMAT: 'json' }, ['--init.budgetMs=3000', '--init.initialDelayMs=200', '--init.maxDelayMs=500']);
    assert.equal(await service.exited, 1, service.output().slice(-3000));
    const output = service.output();
    const waiting = output.split('\n').filter((l) => l.includes('"msg":"waiting for dependencies"'));
    assert.ok(waiting.length >= 2, output);
    assert.match(output, new RegExp(`schema registry http://127\\.0\\.0\\.1:${dead}/apis/ccompat/v7 not reachable`));
    assertNoSecret(output, 'the log of a failed start');
    const checked = run(['config', 'check', '--config', config]);
    assert.equal(checked.code, 0, checked.out);
    assertNoSecret(checked.out, 'config check');
    assert.match(checked.stdout, /"url": "http:\/\/eu:\*\*\*@127\.0\.0\.1:\d+\/"/);
  });

  it('a setting that fails validation never shows the password of the URL it quotes', () => {
    const env = { K2E_TOPICS: 't', K2E_INDEX: 'd', K2E_ELASTIC_URL: `ftp://user:${SECRET.invalidUrlPassword}@host:9200`, K2E_SCHEMA_REGISTRY_URL: `registry user:${SECRET.invalidRegistryPassword}@host:8081` };
    for (const command of [['config', 'check'], ['run']]) {
      const result = run(command, env);
      assert.equal(result.code, 2, result.out);
      assert.match(result.out, /K2E_ELASTIC_URL \(elastic\.url\) is "ftp:\/\/user:\*\*\*@host:9200\/"/);
      assert.match(result.out, /K2E_SCHEMA_REGISTRY_URL \(schemaRegistry\.url\) is "\*\*\*@host:8081"/);
      assertNoSecret(result.out, `${command.join(' ')} with invalid URLs`);
    }
  });
});
