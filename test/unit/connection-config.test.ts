// Connection settings in the configuration: kafka.tls (boolean or object), SASL mechanisms, engine
// endpoints (url, urls, cloudId), secrets from files (`<key>File`, `<VARIABLE>_FILE`) and masking.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, maskSecrets } from '../../src/config/load.js';
import { decodeCloudId } from '../../src/config/cloud-id.js';
import { kafkaClientOptions, unsecuredJwt } from '../../src/source/connection.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'k2e-connection-config-'));
const file = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const base = { K2E_TOPICS: 't', K2E_INDEX: 'd' };
const fails = (options: Parameters<typeof loadConfig>[0], pattern: RegExp): void => {
  assert.throws(() => loadConfig(options), (e: Error) => e instanceof ConfigError && pattern.test(e.message), pattern.source);
};

describe('kafka.tls and kafka.sasl', () => {
  it('keeps `tls: true` (and K2E_KAFKA_TLS=true) working, and takes the object form', () => {
    assert.equal(loadConfig({ env: { ...base, K2E_KAFKA_TLS: 'true' } }).kafka.tls, true);
    assert.deepEqual(kafkaClientOptions(loadConfig({ env: { ...base, K2E_KAFKA_TLS: 'true' } }).kafka).tls, {});
    // Read and checked for a PEM block at load (config check accepts what run accepts), not verified.
    const pem = '-----BEGIN CERTIFICATE-----\nnot really a CA, but readable\n-----END CERTIFICATE-----\n';
    const ca = file('ca.pem', pem);
    const yaml = file('tls.yaml', `kafka:\n  topics: [t]\n  tls: { caFile: ${ca}, servername: broker.internal }\nelastic:\n  index: d\n`);
    const config = loadConfig({ file: yaml, env: {}, flags: ['--kafka.tls.rejectUnauthorized=false'] });
    assert.deepEqual(config.kafka.tls, { caFile: ca, servername: 'broker.internal', rejectUnauthorized: false });
    const options = kafkaClientOptions(config.kafka);
    assert.equal(options.tls?.ca?.toString(), pem);
    assert.equal(options.tlsServerName, 'broker.internal');
  });

  it('refuses unreadable certificate files at start, naming the key and the file', () => {
    fails({ env: base, flags: [`--kafka.tls.caFile=${path.join(tmp, 'nope.pem')}`] }, /--kafka\.tls\.caFile \(kafka\.tls\.caFile\) is ".*nope\.pem": cannot read it \(ENOENT\)/);
    fails({ env: base, flags: [`--kafka.tls.certFile=${file('c.pem', 'x')}`] }, /a client certificate needs both kafka\.tls\.certFile and keyFile/);
  });

  it('checks what each SASL mechanism needs', () => {
    fails({ env: { ...base, K2E_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', K2E_KAFKA_SASL_USERNAME: 'u' } }, /SCRAM-SHA-512 needs kafka\.sasl\.username and kafka\.sasl\.password/);
    fails({ env: { ...base, K2E_KAFKA_SASL_MECHANISM: 'OAUTHBEARER' } }, /OAUTHBEARER needs exactly one of kafka\.sasl\.token, tokenFile or unsecuredPrincipal/);
    const config = loadConfig({ env: { ...base, K2E_KAFKA_SASL_MECHANISM: 'OAUTHBEARER', K2E_KAFKA_SASL_TOKEN: 'abc' } });
    assert.deepEqual(kafkaClientOptions(config.kafka).sasl, { mechanism: 'OAUTHBEARER', token: 'abc' });
  });

  it('makes unsecured development tokens Kafka accepts (alg none, sub, iat, exp)', () => {
    const [header, claims, signature] = unsecuredJwt('alice', 60, 1_700_000_000_000).split('.');
    assert.deepEqual(JSON.parse(Buffer.from(header!, 'base64url').toString()), { alg: 'none' });
    assert.deepEqual(JSON.parse(Buffer.from(claims!, 'base64url').toString()), { sub: 'alice', iat: 1_700_000_000, exp: 1_700_000_060 });
    assert.equal(signature, '');
  });
});

describe('search engine endpoints', () => {
  it('url, urls and cloudId: one of them; elastic.url is the first endpoint', () => {
    assert.equal(loadConfig({ env: base }).elastic.url, 'http://127.0.0.1:9200');
    const urls = loadConfig({ env: { ...base, K2E_ELASTIC_URLS: 'https://a:9200/es/,https://b:9200/es/' } }).elastic;
    assert.deepEqual(urls.urls, ['https://a:9200/es/', 'https://b:9200/es/']);
    assert.equal(urls.url, 'https://a:9200/es/');
    fails({ env: { ...base, K2E_ELASTIC_URL: 'http://x:9200', K2E_ELASTIC_URLS: 'http://y:9200' } }, /set only one of elastic\.url, elastic\.urls and elastic\.cloudId; got K2E_ELASTIC_URL and K2E_ELASTIC_URLS/);
    fails({ env: { ...base, K2E_ELASTIC_URLS: 'ftp://y' } }, /K2E_ELASTIC_URLS \(elastic\.urls\) is \["ftp:\/\/y"\]: expected an http:\/\/ or https:\/\/ URL/);
    const cloudId = `prod:${Buffer.from('eu-west-1.aws.found.io$abc123$kib456').toString('base64')}`;
    assert.equal(loadConfig({ env: { ...base, K2E_ELASTIC_CLOUD_ID: cloudId } }).elastic.url, 'https://abc123.eu-west-1.aws.found.io');
    fails({ env: { ...base, K2E_ELASTIC_CLOUD_ID: 'prod:bm90IGEgY2xvdWQgaWQ=' } }, /K2E_ELASTIC_CLOUD_ID \(elastic\.cloudId\): not an Elastic Cloud id/);
  });

  it('decodes Elastic Cloud ids with ports on the host or the id', () => {
    const id = (text: string): string => `n:${Buffer.from(text).toString('base64')}`;
    assert.equal(decodeCloudId(id('us-central1.gcp.cloud.es.io$es1$kb1')), 'https://es1.us-central1.gcp.cloud.es.io');
    assert.equal(decodeCloudId(id('us-central1.gcp.cloud.es.io:9243$es1$kb1')), 'https://es1.us-central1.gcp.cloud.es.io:9243');
    assert.equal(decodeCloudId(id('host.example:443$es1:9244$kb1:9245')), 'https://es1.host.example:9244');
    assert.throws(() => decodeCloudId(id('only-a-host')), /no host\$elasticsearch-id/);
  });

  it('refuses SigV4 together with basic or API key credentials', () => {
    fails({ env: { ...base, K2E_ELASTIC_AWS_REGION: 'eu-west-1', K2E_ELASTIC_API_KEY: 'k' } }, /elastic\.aws signs requests with SigV4/);
    assert.deepEqual(loadConfig({ env: { ...base, K2E_ELASTIC_AWS_REGION: 'eu-west-1' } }).elastic.aws, { region: 'eu-west-1', service: 'es' });
  });
});

describe('secrets from files', () => {
  it('reads <VARIABLE>_FILE and <key>File (one trailing newline dropped), the later source winning', () => {
    const pw = file('pw', 's3cret-from-file\n');
    assert.equal(loadConfig({ env: { ...base, K2E_ELASTIC_PASSWORD_FILE: pw } }).elastic.password, 's3cret-from-file');
    const yaml = file('secrets.yaml', `kafka:\n  topics: [t]\n  sasl: { mechanism: PLAIN, username: u, passwordFile: ${pw} }\nelastic:\n  index: d\n  apiKeyFile: ${pw}\n  password: in-file\n`);
    const config = loadConfig({ file: yaml, env: { K2E_ELASTIC_PASSWORD_FILE: pw } });
    assert.equal(config.kafka.sasl?.password, 's3cret-from-file');
    assert.equal(config.elastic.apiKey, 's3cret-from-file');
    assert.equal(config.elastic.password, 's3cret-from-file', 'the environment overrides the file');
    assert.equal(loadConfig({ file: yaml, env: { K2E_ELASTIC_PASSWORD: 'from-env' } }).elastic.password, 'from-env');
  });

  it('refuses a value and its file in the same place, and unreadable files, never showing a secret', () => {
    const pw = file('pw2', 'never-shown');
    fails({ env: { ...base, K2E_ELASTIC_PASSWORD: 'x', K2E_ELASTIC_PASSWORD_FILE: pw } }, /set K2E_ELASTIC_PASSWORD or K2E_ELASTIC_PASSWORD_FILE, not both/);
    fails({ env: { ...base, K2E_SCHEMA_REGISTRY_PASSWORD_FILE: path.join(tmp, 'absent') } }, /K2E_SCHEMA_REGISTRY_PASSWORD_FILE \(schemaRegistry\.passwordFile\): cannot read .*absent: ENOENT/);
    try {
      loadConfig({ env: { ...base, K2E_ELASTIC_PASSWORD_FILE: pw, K2E_HTTP_PORT: 'x' } });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(!(error as Error).message.includes('never-shown'));
    }
  });

  it('masks secrets, URL passwords and credential headers in `config check`', () => {
    const yaml = file(
      'mask.yaml',
      'kafka:\n  topics: [t]\n  tls: { passphrase: pass-1 }\n  sasl: { mechanism: OAUTHBEARER, token: tok-1 }\nelastic:\n  index: d\n  urls: [https://u:url-pw@a:9200/]\n  proxy: http://p:proxy-pw@proxy:3128\n  headers: { Authorization: Bearer hdr-1, X-Opaque-Id: visible }\n  tls: { passphrase: pass-2 }\n',
    );
    const printed = JSON.stringify(maskSecrets(loadConfig({ file: yaml, env: {} })));
    for (const secret of ['pass-1', 'tok-1', 'url-pw', 'proxy-pw', 'hdr-1', 'pass-2']) assert.ok(!printed.includes(secret), `${secret} printed: ${printed}`);
    assert.match(printed, /"X-Opaque-Id":"visible"/);
    assert.match(printed, /"proxy":"http:\/\/p:\*\*\*@proxy:3128\/"/);
  });
});
