// The search engine behind what production puts in front of it, with real servers: the stack's nginx
// gateway (TLS, basic auth, path prefixes, client certificates, least-privilege accounts), the
// tinyproxy forward proxy, an Elastic Cloud id, several endpoints, and AWS SigV4 checked by botocore.
// Failures must be one line naming the endpoint and the cause, with no secret in the output.
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { indexesThrough, initFailure, tempFile } from '../helpers/connections.js';
import { startConnectProxy } from '../helpers/connect-proxy.js';
import { withSearch } from '../helpers/search.js';
import { AWS_TEST_CREDENTIALS, botocoreMissing, type SigV4Proxy, startSigV4Proxy } from '../helpers/sigv4-proxy.js';
import { waitFor } from '../helpers/service.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { freePort } from '../helpers/tcp-forwarder.js';

const engine = stack.engines[0]!;
const gateway = stack.gateway;
const tls = stack.tls;
const noGateway = gateway && tls ? false : 'no TLS gateway in this stack (nginx not installed when it started)';
const accessLog = (): string[] => (gateway && existsSync(gateway.accessLog) ? readFileSync(gateway.accessLog, 'utf8').split('\n') : []);

describe('search engine behind the TLS gateway', { skip: noGateway }, () => {
  const admin = gateway?.users.admin;

  for (const target of stack.engines) {
    it(`indexes into ${target.name} over HTTPS with basic auth under the path prefix /${target.name}/, sending elastic.headers`, async () => {
      const tag = uniqueName('k2e-opaque');
      const passwordFile = tempFile('password', `${admin!.password}\n`);
      const { service } = await indexesThrough({
        elastic: { url: `${gateway!.url}/${target.name}/`, username: admin!.username, tls: { caFile: tls!.ca }, headers: { 'X-Opaque-Id': tag } },
        env: { K2E_ELASTIC_PASSWORD_FILE: passwordFile },
        readUrl: target.url,
      });
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
      assert.ok(!service.output().includes(admin!.password), 'the password must never be printed');
      const tagged = accessLog().filter((l) => l.includes(`"${tag}"`));
      assert.ok(tagged.some((l) => new RegExp(`"POST /${target.name}/_bulk(\\?\\S*)? HTTP/1.1" 200`).test(l)), `no tagged bulk under /${target.name}/ in the access log:\n${tagged.join('\n')}`);
      assert.ok(tagged.every((l) => l.includes(` ${admin!.username} `)), 'every request carries the basic-auth user');
    });
  }

  it('refuses a gateway certificate its CA did not sign: one line, at once', async () => {
    const line = await initFailure({ elastic: { url: `${gateway!.url}/${engine.name}/`, username: admin!.username, password: admin!.password, tls: { caFile: tls!.otherCa } } }, [admin!.password]);
    assert.match(line, new RegExp(`^initialization check failed: search engine ${gateway!.url}/${engine.name} not reachable: TLS: the server's certificate is not trusted \\(.+\\); check elastic\\.tls\\.caFile$`));
  });

  it('a wrong password fails at once: one line naming the endpoint, the password nowhere', async () => {
    const wrong = 'k2e-wrong-gateway-password';
    const line = await initFailure({ elastic: { url: `${gateway!.url}/${engine.name}/`, username: admin!.username, password: wrong, tls: { caFile: tls!.ca } } }, [wrong]);
    assert.match(line, new RegExp(`^initialization check failed: search engine ${gateway!.url}/${engine.name} refused the credentials \\(401 \\(401 Authorization Required\\)\\)`));
  });

  it('indexes over mutual TLS with an encrypted client key (no password at all)', async () => {
    const { service } = await indexesThrough({
      elastic: { url: `${gateway!.mtlsUrl}/${engine.name}`, tls: { caFile: tls!.ca, certFile: tls!.clientCert, keyFile: tls!.clientEncryptedKey, passphrase: tls!.clientKeyPassphrase } },
      readUrl: engine.url,
    });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
    assert.ok(accessLog().some((l) => l.includes(`POST /${engine.name}/_bulk`) && l.includes('CN=k2e-client')), 'the gateway saw the client certificate');
  });

  it('without a client certificate the mTLS gateway refuses: one line with its reason', async () => {
    const line = await initFailure({ elastic: { url: `${gateway!.mtlsUrl}/${engine.name}`, tls: { caFile: tls!.ca } } });
    assert.match(line, new RegExp(`^initialization check failed: search engine ${gateway!.mtlsUrl}/${engine.name} answered 400 \\(400 No required SSL certificate was sent\\)`));
  });

  it('reaches the gateway through the forward proxy (tinyproxy, CONNECT, proxy credentials)', { skip: stack.proxy ? false : 'no forward proxy (tinyproxy not installed)' }, async () => {
    const proxy = stack.proxy!;
    const before = readFileSync(proxy.log, 'utf8').length;
    const proxyUrl = `http://${proxy.username}:${proxy.password}@${proxy.url.slice('http://'.length)}`;
    const { service } = await indexesThrough({
      elastic: { url: `${gateway!.url}/${engine.name}/`, username: admin!.username, password: admin!.password, tls: { caFile: tls!.ca }, proxy: proxyUrl },
      readUrl: engine.url,
    });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
    assert.ok(!service.output().includes(proxy.password), 'the proxy password must never be printed');
    const logged = readFileSync(proxy.log, 'utf8').slice(before);
    assert.match(logged, new RegExp(`CONNECT 127\\.0\\.0\\.1:${new URL(gateway!.url).port} HTTP/1\\.1`));
  });

  it('a wrong proxy password fails at once: one line saying the proxy refused the credentials', { skip: stack.proxy ? false : 'no forward proxy (tinyproxy not installed)' }, async () => {
    const proxy = stack.proxy!;
    const line = await initFailure({ elastic: { url: `${gateway!.url}/${engine.name}/`, username: admin!.username, password: admin!.password, tls: { caFile: tls!.ca }, proxy: `http://${proxy.username}:wrong-proxy-pw@${proxy.url.slice('http://'.length)}` } }, ['wrong-proxy-pw'], 2500);
    assert.match(line, /^initialization check failed: search engine https:\/\/127\.0\.0\.1:\d+\/\w+ not reachable: the proxy answered 40[17] \(proxy authentication failed: check the user and password in elastic\.proxy\)$/);
  });

  it('connects to an Elastic Cloud id: https://<es id>.<host>:<port>, verified against that name', async () => {
    const proxy = await startConnectProxy();
    try {
      const port = new URL(gateway!.url).port;
      const cloudId = `k2e-test:${Buffer.from(`k2e.test:${port}$es0123abcd$kb4567`).toString('base64')}`;
      const { service } = await indexesThrough({
        elastic: { cloudId, username: admin!.username, password: admin!.password, tls: { caFile: tls!.ca }, proxy: proxy.url },
        readUrl: engine.url,
      });
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
      assert.ok(proxy.targets.includes(`es0123abcd.k2e.test:${port}`), `CONNECT targets: ${proxy.targets.join(', ')}`);
    } finally {
      await proxy.close();
    }
  });

  it('fails over: a node that refuses connections is skipped (elastic.urls)', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { service } = await indexesThrough({ elastic: { urls: [dead, `${gateway!.url}/${engine.name}/`], username: admin!.username, password: admin!.password, tls: { caFile: tls!.ca } }, readUrl: engine.url });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
  });
});

describe('least privilege (simulated by the gateway: 403 security_exception outside writes to lp-*)', { skip: noGateway }, () => {
  const createIndex = async (): Promise<string> => {
    const index = uniqueName(gateway!.leastPrivilegeIndexPrefix.replace(/-$/, ''));
    await withSearch(engine.url, (c) => c.createIndex(index, { settings: { number_of_shards: 1, number_of_replicas: 0 } }));
    return index;
  };

  it('a writer (write + view_index_metadata, no cluster privileges) starts, stays ready and indexes', async () => {
    const writer = gateway!.users.writer;
    const index = await createIndex();
    const logged = accessLog().length;
    const { service } = await indexesThrough({ index, elastic: { url: `${gateway!.url}/${engine.name}/`, username: writer.username, password: writer.password, tls: { caFile: tls!.ca } }, readUrl: engine.url });
    try {
      assert.ok(await waitFor(async () => (await service.status())?.ready === true, 15_000), `not ready:\n${service.output().slice(-2000)}`);
    } finally {
      assert.equal(await service.stop(), 0, service.output().slice(-2000));
    }
    const mine = accessLog().slice(logged).filter((l) => l.includes(` ${writer.username} `));
    const refused = mine.filter((l) => /" 403 /.test(l));
    // The index health is asked once per client (init check, /ready) and never again after a 403.
    assert.ok(refused.every((l) => l.includes(`/_cluster/health/${index}`)) && refused.length <= 2, `refused requests:\n${refused.join('\n')}`);
    assert.ok(mine.some((l) => new RegExp(`"POST /${engine.name}/_bulk(\\?\\S*)? HTTP/1.1" 200`).test(l)), `no bulk of the writer:\n${mine.join('\n')}`);
    assert.ok(mine.some((l) => new RegExp(`"HEAD /${engine.name}/${index} HTTP/1.1" 200`).test(l)), 'readiness asked HEAD on the index');
  });

  it('a writer whose index does not exist: one line saying it may not create it', async () => {
    const writer = gateway!.users.writer;
    const index = uniqueName('lp-missing');
    const line = await initFailure({ index, elastic: { url: `${gateway!.url}/${engine.name}/`, username: writer.username, password: writer.password, tls: { caFile: tls!.ca } } }, [writer.password], 2500);
    assert.match(line, new RegExp(`^initialization check failed after \\d+s \\(budget 2500 ms\\): search engine ${gateway!.url}/${engine.name}: index ${index} does not exist and the account may not create it \\(403 \\(security_exception: .+\\)\\): create it, or grant create_index$`));
  });

  it('an account that may only write: index creation skipped with a clear message, then it indexes', async () => {
    const bulkOnly = gateway!.users.bulkOnly;
    const index = await createIndex();
    const { service } = await indexesThrough({ index, elastic: { url: `${gateway!.url}/${engine.name}/`, username: bulkOnly.username, password: bulkOnly.password, tls: { caFile: tls!.ca } }, readUrl: engine.url });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
    assert.match(service.output(), /index creation skipped: the account may neither view nor create the index; assuming it exists/);
  });
});

describe('Amazon OpenSearch Service: SigV4 signatures checked by botocore', { skip: botocoreMissing() ?? false }, () => {
  const region = 'eu-west-1';
  let proxies: SigV4Proxy[] = [];
  // The AWS default chain must stop at what the test gives it (never reach for instance metadata).
  const awsEnv = { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: tempFile('aws-config', ''), AWS_SHARED_CREDENTIALS_FILE: tempFile('aws-none', '') };

  before(async () => {
    proxies = [await startSigV4Proxy(engine.url, region, 'es'), await startSigV4Proxy(engine.url, region, 'aoss')];
  });
  after(async () => {
    for (const p of proxies) await p.close();
  });

  it('signs every request with credentials from the environment (session token included)', async () => {
    const proxy = proxies[0]!;
    const { service } = await indexesThrough({
      elastic: { url: proxy.url, aws: { region, service: 'es' } },
      env: { ...awsEnv, AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey, AWS_SESSION_TOKEN: AWS_TEST_CREDENTIALS.sessionToken },
      readUrl: engine.url,
    });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
    const stats = await proxy.stats();
    assert.equal(stats.refused, 0, `botocore refused: ${stats.last_failure}`);
    assert.ok(stats.verified >= 3, `verified ${stats.verified}`);
    assert.ok(!service.output().includes(AWS_TEST_CREDENTIALS.secretAccessKey));
  });

  it('takes credentials from a shared credentials profile (aoss)', async () => {
    const proxy = proxies[1]!;
    const credentials = tempFile(
      'aws-credentials',
      `[k2e-test]\naws_access_key_id = ${AWS_TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${AWS_TEST_CREDENTIALS.secretAccessKey}\naws_session_token = ${AWS_TEST_CREDENTIALS.sessionToken}\n`,
    );
    const { service } = await indexesThrough({
      elastic: { url: proxy.url, aws: { region, service: 'aoss' } },
      env: { ...awsEnv, AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_PROFILE: 'k2e-test' },
      readUrl: engine.url,
    });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
    const stats = await proxy.stats();
    assert.equal(stats.refused, 0, `botocore refused: ${stats.last_failure}`);
    assert.deepEqual(stats.services, ['aoss']);
  });

  it('a wrong secret key: one line, refused by the verifier, the secret nowhere', async () => {
    const proxy = proxies[0]!;
    const wrong = 'k2e/wrong/secret/EXAMPLEKEY';
    const line = await initFailure(
      { elastic: { url: proxy.url, aws: { region, service: 'es' } }, env: { ...awsEnv, AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: wrong, AWS_SESSION_TOKEN: AWS_TEST_CREDENTIALS.sessionToken } },
      [wrong],
    );
    assert.match(line, new RegExp(`^initialization check failed: search engine ${proxy.url} refused the credentials \\(403 \\(The request signature we calculated does not match`));
  });
});
