// Connection settings shared by every Kafka client the service creates (consumer, admin, producer):
// brokers, client id, TLS (CA, client certificate, server name) and SASL (PLAIN, SCRAM, OAUTHBEARER).
// Certificate and token files are read when a client is created (tokens at every authentication),
// so rotated files are picked up by the next connection.
import { readFileSync } from 'node:fs';
import type { SASLOptions } from '@platformatic/kafka';
import type { Config } from '../config/schema.js';
import { tlsFileOptions } from '../config/tls-files.js';

export function kafkaClientOptions(kafka: Config['kafka'], clientIdSuffix = '') {
  const tls = kafka.tls === false ? undefined : kafka.tls === true ? {} : tlsFileOptions(kafka.tls, 'kafka.tls');
  const servername = typeof kafka.tls === 'object' ? kafka.tls.servername : undefined;
  return {
    clientId: `${kafka.clientId}${clientIdSuffix}`,
    bootstrapBrokers: kafka.brokers,
    ...(tls ? { tls } : {}),
    ...(servername ? { tlsServerName: servername } : {}),
    ...(kafka.sasl ? { sasl: saslOptions(kafka.sasl) } : {}),
  };
}

type SaslConfig = NonNullable<Config['kafka']['sasl']>;

function saslOptions(sasl: SaslConfig): SASLOptions {
  if (sasl.mechanism !== 'OAUTHBEARER') return { mechanism: sasl.mechanism, username: sasl.username ?? '', password: sasl.password ?? '' };
  // The library asks for the token at every (re-)authentication: a file is read each time.
  const token =
    sasl.token ??
    (sasl.tokenFile !== undefined
      ? tokenFromFile(sasl.tokenFile)
      : () => unsecuredJwt(sasl.unsecuredPrincipal ?? 'kafka-to-elastic'));
  return { mechanism: 'OAUTHBEARER', token, ...(sasl.extensions ? { oauthBearerExtensions: sasl.extensions } : {}) };
}

function tokenFromFile(file: string): () => string {
  return () => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new Error(`kafka.sasl.tokenFile: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
    }
  };
}

/**
 * An unsigned JWT ("alg": "none") as Kafka's unsecured OAUTHBEARER validator accepts it: for
 * development brokers only; a real broker validates signed tokens from an identity provider.
 */
export function unsecuredJwt(principal: string, lifetimeSeconds = 3600, now = Date.now()): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const iat = Math.floor(now / 1000);
  return `${part({ alg: 'none' })}.${part({ sub: principal, iat, exp: iat + lifetimeSeconds })}.`;
}
