// One sentence for a failed connection to the brokers: which broker, and what went wrong (TLS trust,
// client certificate, SASL credentials or mechanism, refused, timed out), with the setting to check.
// The client's own errors nest (AggregateError → NetworkError → cause); they never carry secrets.
import type { Config } from '../config/schema.js';
import { describeNetworkError, errorChain, type ErrorDescription } from '../util/network-errors.js';

export function describeKafkaError(error: unknown, kafka: Config['kafka']): ErrorDescription & { broker: string } {
  const chain = errorChain(error);
  const messages = chain.map((e) => e.message);
  const broker = messages.map((m) => /Connection to (\S+?) (?:failed|timed out)/.exec(m)?.[1]).find(Boolean) ?? kafka.brokers.join(',');
  const tls = kafka.tls !== false;
  const sasl = kafka.sasl;
  const hints = { ca: 'kafka.tls.caFile', key: 'kafka.tls.certFile, keyFile and passphrase', servername: 'kafka.tls.servername' };
  const saw = (pattern: RegExp): boolean => messages.some((m) => pattern.test(m));

  if (saw(/SASL authentication failed|current SASL state/)) {
    const who = sasl?.mechanism === 'OAUTHBEARER' ? 'the broker refused the OAUTHBEARER token' : `wrong username or password for ${sasl?.username ?? '?'}`;
    return { broker, text: `SASL ${sasl?.mechanism ?? ''} authentication failed: ${who}`, permanent: true };
  }
  if (saw(/does not support the requested SASL mechanism/)) {
    return { broker, text: `the listener does not offer SASL ${sasl?.mechanism ?? ''} (check kafka.sasl.mechanism and the port)`, permanent: true };
  }
  if (saw(/TLS handshake failed/)) return { broker, text: 'TLS handshake failed: the listener does not speak TLS (check the port, or kafka.tls)', permanent: true };
  const network = describeNetworkError(error, hints);
  if (network.permanent || network.text !== 'Connection closed') {
    return { broker, ...network };
  }
  // The broker hung up without saying why: a TLS listener spoken to in plain text, or (TLS 1.3,
  // where the client learns it late) a listener that requires a client certificate.
  const text = tls
    ? typeof kafka.tls === 'object' && kafka.tls.certFile
      ? 'the broker closed the TLS connection: it did not accept the client certificate (signed by a CA it trusts? check kafka.tls.certFile)'
      : 'the broker closed the TLS connection: the listener may require a client certificate (kafka.tls.certFile and keyFile)'
    : 'the broker closed the connection: does this listener require TLS (kafka.tls) or SASL (kafka.sasl)?';
  return { broker, text, permanent: false };
}
