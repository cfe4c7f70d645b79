// Keeping secrets out of output: the masking helpers (URLs, known values, text), the configuration's
// secret list and printed form, validation errors that quote a URL with a password, the registry's
// user information moved into basic auth, and the escaping of control characters for `dlq show`.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, loadHttpConfig, maskSecrets } from '../../src/config/load.js';
import { secretValues, shownValue } from '../../src/config/secrets.js';
import { escapeControl, escapeJsonControl, maskUrl, Redactor, redactUrls, splitUrlCredentials } from '../../src/util/redact.js';
import { formatShown, shownRecord } from '../../src/dead-letter-admin/show.js';
import { formatSummary, SummaryBuilder } from '../../src/dead-letter-admin/summary.js';
import { parseDeadLetter } from '../../src/dead-letter-admin/records.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'k2e-secrets-unit-'));
const file = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const base = { K2E_TOPICS: 't', K2E_INDEX: 'd' };
/** A raw control character (a line break excepted): what must never reach a terminal. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/;
const configError = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('expected a ConfigError');
};

describe('maskUrl, redactUrls, splitUrlCredentials', () => {
  it('masks the password of a URL, or a user name alone (often a token)', () => {
    assert.equal(maskUrl('http://user:s3cret@host:8081/path?q=1'), 'http://user:***@host:8081/path?q=1');
    assert.equal(maskUrl('https://tok-abc@host/'), 'https://***@host/');
    assert.equal(maskUrl('http://host:9200/'), 'http://host:9200/');
    assert.equal(maskUrl('http://u:p%40ss@h/'), 'http://u:***@h/');
  });

  it('masks what looks like user information in text that is no valid URL', () => {
    assert.ok(!maskUrl('htp//user:pa55w0rd@host').includes('pa55w0rd'));
    assert.ok(!maskUrl('user:pa55w0rd@host:8081').includes('pa55w0rd'));
    assert.ok(!maskUrl('http://user:pa55 w0rd@host').includes('w0rd'));
    assert.equal(maskUrl('not a url'), 'not a url');
  });

  it('redacts every URL password in free text, also one holding @ or / and inside JSON', () => {
    assert.equal(redactUrls('GET http://u:p@host/x failed'), 'GET http://***@host/x failed');
    assert.equal(redactUrls('{"url":"https://u:p@ss/w@rd@host/","to":"a@b"}'), '{"url":"https://***@host/","to":"a@b"}');
    assert.equal(redactUrls('see http://host/path and bob@example.com'), 'see http://host/path and bob@example.com');
    assert.equal(redactUrls('a http://x:1@h b https://y:2@i'), 'a http://***@h b https://***@i');
  });

  it('splits the user information off a URL, decoded', () => {
    assert.deepEqual(splitUrlCredentials('http://reg%40user:p%3Ass@registry:8081/apis/ccompat/v7'), { url: 'http://registry:8081/apis/ccompat/v7', username: 'reg@user', password: 'p:ss' });
    assert.deepEqual(splitUrlCredentials('https://token@registry/'), { url: 'https://registry/', username: 'token' });
    assert.deepEqual(splitUrlCredentials('http://registry:8081'), { url: 'http://registry:8081' });
  });
});

describe('Redactor', () => {
  it('masks known values as written, JSON-escaped and URL-encoded, longest first', () => {
    const r = new Redactor(['hunter2-"quoted"', 'p@ss/word', 'abc', undefined, 'hunter2-"quoted"-and-more']);
    assert.equal(r.redact('pw hunter2-"quoted" here'), 'pw *** here');
    assert.equal(r.redact(JSON.stringify({ msg: 'pw hunter2-"quoted" here' })), '{"msg":"pw *** here"}');
    assert.equal(r.redact('x hunter2-"quoted"-and-more y'), 'x *** y');
    assert.equal(r.redact('url p%40ss%2Fword'), 'url ***');
    assert.equal(r.redact('abc stays: too short to search for'), 'abc stays: too short to search for');
    assert.equal(r.redact('and http://u:whatever@h/'), 'and http://***@h/');
  });
});

describe('escapeControl, escapeJsonControl', () => {
  it('prints every control character visibly: ESC, CSI, DEL, line breaks, bidi overrides', () => {
    assert.equal(escapeControl('a\x1b[31mred\x1b[0m'), 'a\\x1b[31mred\\x1b[0m');
    assert.equal(escapeControl('\x9b2J\x07\x7f\x00'), '\\x9b2J\\x07\\x7f\\x00');
    assert.equal(escapeControl('one\ntwo\r\tthree'), 'one\\ntwo\\r\\tthree');
    assert.equal(escapeControl('user\u202Egnp.exe'), 'user\\u202egnp.exe');
    assert.equal(escapeControl('plain text, ünïcödé, 日本'), 'plain text, ünïcödé, 日本');
  });

  it('keeps JSON valid and the same value, with no raw control character left', () => {
    const value = { k: 'a\x1b]0;title\x07b\x9b\u202E\x7f' };
    const text = escapeJsonControl(JSON.stringify(value));
    assert.deepEqual(JSON.parse(text), value);
    assert.ok(!RAW_CONTROL.test(text) && !text.includes('\n'), text);
    // Indented JSON keeps its line breaks (they are whitespace, not data).
    const indented = escapeJsonControl(JSON.stringify(value, null, 2));
    assert.deepEqual(JSON.parse(indented), value);
    assert.equal(indented.split('\n').length, 3);
  });
});

describe('the configuration: secrets masked in config check, validation errors, the redactor list', () => {
  const everyKind = (): string =>
    file(
      'every-kind.yaml',
      [
        'kafka:',
        '  topics: [t]',
        '  sasl: { mechanism: PLAIN, username: svc, password: sasl-pw-111 }',
        'elastic:',
        '  index: d',
        '  urls: ["https://eu:url-pw-222@a:9200/", "https://eu:url-pw-333@b:9200/"]',
        '  proxy: http://pu:proxy-pw-444@proxy:3128',
        '  headers: { Authorization: Bearer hdr-tok-555, X-Opaque-Id: visible }',
        '  apiKey: api-key-666',
        'schemaRegistry:',
        '  url: http://ru:reg-pw-777@registry:8081/apis/ccompat/v7',
        'http:',
        '  token: http-token-888-0123456789',
      ].join('\n'),
    );
  const SECRETS = ['sasl-pw-111', 'url-pw-222', 'url-pw-333', 'proxy-pw-444', 'hdr-tok-555', 'api-key-666', 'reg-pw-777', 'http-token-888-0123456789'];

  it('moves the registry URL\'s user information into basic auth', () => {
    const config = loadConfig({ file: everyKind(), env: {} });
    assert.equal(config.schemaRegistry!.url, 'http://registry:8081/apis/ccompat/v7');
    assert.equal(config.schemaRegistry!.username, 'ru');
    assert.equal(config.schemaRegistry!.password, 'reg-pw-777');
  });

  it('refuses registry credentials in the URL and in username/password at once, showing neither password', () => {
    const message = configError(() => loadConfig({ env: { ...base, K2E_SCHEMA_REGISTRY_URL: 'http://a:url-secret-1@r:8081', K2E_SCHEMA_REGISTRY_USERNAME: 'b', K2E_SCHEMA_REGISTRY_PASSWORD: 'key-secret-2' } }));
    assert.match(message, /set the credentials in one place/);
    for (const secret of ['url-secret-1', 'key-secret-2']) assert.ok(!message.includes(secret), message);
  });

  it('prints every secret kind masked (config check)', () => {
    const printed = JSON.stringify(maskSecrets(loadConfig({ file: everyKind(), env: {} })));
    for (const secret of SECRETS) assert.ok(!printed.includes(secret), `${secret} printed: ${printed}`);
    assert.match(printed, /"X-Opaque-Id":"visible"/);
    assert.match(printed, /"urls":\["https:\/\/eu:\*\*\*@a:9200\/","https:\/\/eu:\*\*\*@b:9200\/"\]/);
    assert.match(printed, /"token":"\*\*\*"/);
  });

  it('lists every secret value for the redactor of logs and /status', () => {
    const values = secretValues(loadConfig({ file: everyKind(), env: {} }));
    for (const secret of SECRETS) assert.ok(values.includes(secret), `${secret} not listed: ${values.join(', ')}`);
    assert.ok(!values.includes('visible') && !values.includes('svc'));
  });

  it('never quotes a URL password in a validation error, for every URL key', () => {
    const cases: [Record<string, string>, string][] = [
      [{ K2E_ELASTIC_URL: 'ftp://u:bad-pw-elastic@host' }, 'bad-pw-elastic'],
      [{ K2E_ELASTIC_URLS: 'http://ok:9200,gopher://u:bad-pw-urls@host' }, 'bad-pw-urls'],
      [{ K2E_ELASTIC_PROXY: 'socks://u:bad-pw-proxy@host:1080' }, 'bad-pw-proxy'],
      [{ K2E_SCHEMA_REGISTRY_URL: 'registry user:bad-pw-registry@host' }, 'bad-pw-registry'],
    ];
    for (const [env, secret] of cases) {
      const message = configError(() => loadConfig({ env: { ...base, ...env } }));
      assert.match(message, /invalid configuration/);
      assert.ok(!message.includes(secret), message);
    }
  });

  it('never quotes a secret of a section quoted whole, nor of a config file that does not parse', () => {
    const tls = file('tls.yaml', 'kafka:\n  topics: [t]\n  tls: { passphrase: tls-pass-phrase-1, bogus: 1 }\nelastic:\n  index: d\n');
    assert.ok(!configError(() => loadConfig({ file: tls, env: {} })).includes('tls-pass-phrase-1'));
    const yaml = file('broken.yaml', 'elastic:\n  password: broken-pw-1: x\n');
    const yamlMessage = configError(() => loadConfig({ file: yaml, env: {} }));
    assert.match(yamlMessage, /not valid YAML: .*line 2, column/);
    assert.ok(!yamlMessage.includes('broken-pw-1'), yamlMessage);
    const json = file('broken.json', '{"elastic": {"password": "broken-pw-2"');
    assert.ok(!configError(() => loadConfig({ file: json, env: {} })).includes('broken-pw-2'));
    const notJson = file('text.json', 'broken-pw-3');
    assert.ok(!configError(() => loadConfig({ file: notJson, env: {} })).includes('broken-pw-3'));
  });

  it('shows a header value of a credential-like name masked, others as they are', () => {
    assert.equal(shownValue('elastic.headers.Authorization', 'Bearer x'), '"***"');
    assert.equal(shownValue('elastic.headers', { Cookie: 'c=1', 'X-Team': 'a' }), '{"Cookie":"***","X-Team":"a"}');
    assert.equal(shownValue('elastic.index', 'Orders'), '"Orders"');
  });

  it('http.token: from a file (http.tokenFile, K2E_HTTP_TOKEN_FILE), at least 16 characters, never shown', () => {
    const token = file('token', 'tok-0123456789abcdef\n');
    assert.equal(loadConfig({ env: { ...base, K2E_HTTP_TOKEN_FILE: token } }).http.token, 'tok-0123456789abcdef');
    const yaml = file('http.yaml', `kafka:\n  topics: [t]\nelastic:\n  index: d\nhttp:\n  tokenFile: ${token}\n  host: "::1"\n`);
    assert.deepEqual(loadHttpConfig({ file: yaml, env: {} }), { port: 8080, host: '::1', token: 'tok-0123456789abcdef', healthIntervalMs: 5000 });
    const short = file('short', 'short-tok\n');
    const message = configError(() => loadConfig({ env: { ...base, K2E_HTTP_TOKEN_FILE: short } }));
    assert.match(message, /http\.token.*at least 16 printable ASCII characters/);
    assert.ok(!message.includes('short-tok'), message);
  });

  it('errors.dlqHeaders: all, none or a list, from a file, a variable or a flag', () => {
    assert.equal(loadConfig({ env: base }).errors.dlqHeaders, undefined);
    assert.equal(loadConfig({ env: base, flags: ['--errors.dlqHeaders=none'] }).errors.dlqHeaders, 'none');
    assert.equal(loadConfig({ env: base, flags: ['--errors.dlqHeaders', 'all'] }).errors.dlqHeaders, 'all');
    assert.deepEqual(loadConfig({ env: base, flags: ['--errors.dlqHeaders=traceparent, tenant'] }).errors.dlqHeaders, ['traceparent', 'tenant']);
    const yaml = file('dlq-headers.yaml', 'kafka:\n  topics: [t]\nelastic:\n  index: d\nerrors:\n  dlqHeaders: [traceparent]\n');
    assert.deepEqual(loadConfig({ file: yaml, env: {} }).errors.dlqHeaders, ['traceparent']);
    const bad = file('dlq-headers-bad.yaml', 'kafka:\n  topics: [t]\nelastic:\n  index: d\nerrors:\n  dlqHeaders: some\n');
    assert.match(configError(() => loadConfig({ file: bad, env: {} })), /errors\.dlqHeaders\) is "some": expected all, none, or a list of header names/);
  });
});

describe('dlq show and summary print control characters escaped', () => {
  const ESC = '\x1b';
  const hostile = parseDeadLetter({
    topic: 'orders.dlq',
    partition: 0,
    offset: 4n,
    timestamp: 1700000001000n,
    key: Buffer.from(`k${ESC}[2J`),
    value: Buffer.from(`not json ${ESC}]0;owned${'\x07'}\nforged line`),
    headers: [
      [Buffer.from('k2e.error.class'), Buffer.from('decode')],
      [Buffer.from(`k2e.error.type`), Buffer.from(`invalid_json${ESC}[31m`)],
      [Buffer.from('k2e.error.reason'), Buffer.from(`bad ${ESC}[1A${ESC}[2K\x9b2J`)],
      [Buffer.from('k2e.source.topic'), Buffer.from(`orders${ESC}[0m`)],
      [Buffer.from('k2e.source.partition'), Buffer.from('0')],
      [Buffer.from('k2e.source.offset'), Buffer.from('9')],
      [Buffer.from(`x-name${ESC}[8m`), Buffer.from(`v\u202Ealue${ESC}[5m`)],
    ],
  });

  it('in the text of show: keys, values, header names and values, reasons, topics', () => {
    const text = formatShown(shownRecord(hostile, { ok: false, errorType: 'invalid_json', reason: `Unexpected token ${ESC}[7m` }));
    assert.ok(!RAW_CONTROL.test(text), JSON.stringify(text));
    assert.ok(text.includes('\\x1b[2J') || text.includes('\\u001b[2J'), text);
    assert.match(text, /x-name\\x1b\[8m/);
    assert.match(text, /bad \\x1b\[1A\\x1b\[2K\\x9b2J/);
    // The value's line break is escaped: the producer cannot add a line of its own.
    assert.ok(!text.split('\n').some((line) => line.startsWith('forged line')), text);
  });

  it('in the summary', () => {
    const summary = new SummaryBuilder();
    summary.add(hostile);
    const text = formatSummary(summary.build('orders.dlq', new Map([['orders.dlq:0', { end: 5n }]])));
    assert.ok(!RAW_CONTROL.test(text), JSON.stringify(text));
    assert.match(text, /invalid_json\\x1b\[31m/);
  });
});
