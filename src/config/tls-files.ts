// Node TLS options from configured PEM files (CA, client certificate and key, passphrase), shared by
// the Kafka clients and the search engine transport. Files are read when a connection pool is made,
// so a rotated certificate is used by the next one; an unreadable file is one clear sentence.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { TlsConfig } from './schema.js';

/** `key` names the setting in messages, e.g. "kafka.tls". */
export function tlsFileOptions(tls: TlsConfig, key: string): ConnectionOptions {
  const read = (file: string | undefined, name: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${key}.${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
    }
  };
  const ca = read(tls.caFile, 'caFile');
  const cert = read(tls.certFile, 'certFile');
  const privateKey = read(tls.keyFile, 'keyFile');
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(privateKey ? { key: privateKey } : {}),
    ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
    ...(tls.servername ? { servername: tls.servername } : {}),
    rejectUnauthorized: tls.rejectUnauthorized,
  };
}
