// Kafka over TLS against the stack's real listeners: CA verification, mutual TLS (an encrypted
// client key), SCRAM over TLS, OAUTHBEARER with the broker's unsecured (development) tokens, and the
// one-line failures for a wrong CA, an untrusted client certificate and a wrong password.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexesThrough, initFailure, tempFile } from '../helpers/connections.js';
import { stack } from '../helpers/stack.js';

const engine = stack.engines[0]!;
const secure = stack.kafkaSecure;
const tls = stack.tls;
const skip = secure && tls ? false : 'the stack has no TLS listeners (formatted by an older `stack up`: `npm run stack -- down --wipe && npm run stack -- up`)';

describe('Kafka TLS, mTLS, SCRAM and OAUTHBEARER', { skip }, () => {
  const elastic = { url: engine.url };

  it('consumes over TLS, verifying the broker against the CA (kafka.tls as an object)', async () => {
    const { service } = await indexesThrough({ kafka: { brokers: [secure!.ssl], tls: { caFile: tls!.ca } }, elastic, readUrl: engine.url });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
  });

  it('refuses a broker certificate its CA did not sign: one line naming the broker and the cause', async () => {
    const line = await initFailure({ kafka: { brokers: [secure!.ssl], tls: { caFile: tls!.otherCa } }, elastic });
    assert.match(line, new RegExp(`^initialization check failed: kafka brokers ${secure!.ssl} not reachable: TLS: the server's certificate is not trusted \\(.+\\); check kafka\\.tls\\.caFile$`));
  });

  it('`kafka.tls: true` still works and uses the bundled public CAs (so the stack CA is refused)', async () => {
    const line = await initFailure({ kafka: { brokers: [secure!.ssl], tls: true }, elastic });
    assert.match(line, /kafka brokers .* not reachable: TLS: the server's certificate is not trusted/);
  });

  it('consumes over mutual TLS with an encrypted client key, its passphrase from a file (kafka.tls.passphraseFile)', async () => {
    const passphraseFile = tempFile('passphrase', `${tls!.clientKeyPassphrase}\n`);
    const { service } = await indexesThrough({
      kafka: { brokers: [secure!.mtls], tls: { caFile: tls!.ca, certFile: tls!.clientCert, keyFile: tls!.clientEncryptedKey, passphraseFile } },
      elastic,
      readUrl: engine.url,
    });
    assert.ok(!service.output().includes(tls!.clientKeyPassphrase), 'the passphrase must never be printed');
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
  });

  it('a wrong key passphrase fails at once, naming the setting', async () => {
    const line = await initFailure({ kafka: { brokers: [secure!.mtls], tls: { caFile: tls!.ca, certFile: tls!.clientCert, keyFile: tls!.clientEncryptedKey, passphrase: 'not-the-passphrase' } }, elastic }, ['not-the-passphrase']);
    assert.match(line, /kafka brokers .* not reachable: TLS: the client certificate or key cannot be used \(.*bad decrypt.*\); check kafka\.tls\.certFile, keyFile and passphrase$/);
  });

  it('a client certificate from another CA is refused by the mTLS listener: one line', async () => {
    const line = await initFailure({ kafka: { brokers: [secure!.mtls], tls: { caFile: tls!.ca, certFile: tls!.untrustedClientCert, keyFile: tls!.untrustedClientKey } }, elastic }, [], 2500);
    assert.match(line, new RegExp(`^initialization check failed after \\d+s \\(budget 2500 ms\\): kafka brokers ${secure!.mtls} not reachable: the broker closed the TLS connection: it did not accept the client certificate`));
  });

  it('consumes with SCRAM-SHA-512 over TLS, the password from K2E_KAFKA_SASL_PASSWORD_FILE', { skip: secure?.scram ? false : 'no SCRAM users in this stack (formatted before they were added)' }, async () => {
    const scram = secure!.scram!;
    const passwordFile = tempFile('scram-password', `${scram.password}\n`);
    const { service } = await indexesThrough({
      kafka: { brokers: [secure!.saslSsl], tls: { caFile: tls!.ca } },
      env: { K2E_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512', K2E_KAFKA_SASL_USERNAME: scram.username, K2E_KAFKA_SASL_PASSWORD_FILE: passwordFile },
      elastic,
      readUrl: engine.url,
    });
    assert.ok(!service.output().includes(scram.password), 'the password must never be printed');
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
  });

  it('a wrong SCRAM password fails at once: one line, the password nowhere', async () => {
    const wrong = 'k2e-wrong-scram-password';
    const line = await initFailure({ kafka: { brokers: [secure!.saslSsl], tls: { caFile: tls!.ca }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'k2e-scram', password: wrong } }, elastic }, [wrong]);
    assert.equal(line, `initialization check failed: kafka brokers ${secure!.saslSsl} not reachable: SASL SCRAM-SHA-512 authentication failed: wrong username or password for k2e-scram`);
  });

  it('consumes with OAUTHBEARER against the unsecured-token listener, from a token file', async () => {
    // What an identity provider's agent would write (here: an unsigned development token).
    const { unsecuredJwt } = await import('../../src/source/connection.js');
    const tokenFile = tempFile('token', unsecuredJwt('k2e-oauth-test'));
    const { service } = await indexesThrough({ kafka: { brokers: [secure!.oauthbearer], sasl: { mechanism: 'OAUTHBEARER', tokenFile } }, elastic, readUrl: engine.url });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
  });

  it('consumes with OAUTHBEARER unsecuredPrincipal (development mode)', async () => {
    const { service } = await indexesThrough({ kafka: { brokers: [secure!.oauthbearer], sasl: { mechanism: 'OAUTHBEARER', unsecuredPrincipal: 'k2e-dev' } }, elastic, readUrl: engine.url });
    assert.equal(await service.stop(), 0, service.output().slice(-2000));
  });
});
