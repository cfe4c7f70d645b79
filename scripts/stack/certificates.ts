// The local stack's throwaway PKI, made with openssl once and cached under <STACK_HOME>/tls: a CA,
// a server certificate for the broker and the TLS gateway (localhost, 127.0.0.1, *.k2e.test), a client
// certificate (also with an encrypted key), and a second, untrusted CA with its own client certificate
// so tests can present what must be refused. Test credentials only, never secrets.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Passphrase of `clientEncryptedKey`: a test value, so the passphrase option is exercised. */
export const CLIENT_KEY_PASSPHRASE = 'k2e-local-key-passphrase';
/** The server certificate also names *.k2e.test: Elastic Cloud ids decode to <uuid>.<host>. */
export const SERVER_NAMES = ['localhost', '*.k2e.test', 'k2e.test'];

export interface StackCertificates {
  dir: string;
  ca: string;
  /** A CA nobody trusts: a client that verifies against it must refuse the servers. */
  otherCa: string;
  serverCert: string;
  serverKey: string;
  /** Key + certificate in one PEM (Kafka's PEM key store). */
  serverKeyStore: string;
  clientCert: string;
  clientKey: string;
  clientEncryptedKey: string;
  /** Signed by otherCa: a client certificate the servers must refuse. */
  untrustedClientCert: string;
  untrustedClientKey: string;
}

// Bump when what is generated changes, so cached files from an older layout are made again.
const VERSION = '1';

export function certificatePaths(home: string): StackCertificates {
  const dir = path.join(home, 'tls');
  const f = (name: string): string => path.join(dir, name);
  return {
    dir,
    ca: f('ca.pem'),
    otherCa: f('other-ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server-key.pem'),
    serverKeyStore: f('server-keystore.pem'),
    clientCert: f('client.pem'),
    clientKey: f('client-key.pem'),
    clientEncryptedKey: f('client-key-encrypted.pem'),
    untrustedClientCert: f('untrusted-client.pem'),
    untrustedClientKey: f('untrusted-client-key.pem'),
  };
}

/** Creates the certificates unless a complete set of this version exists; returns their paths. */
export function ensureCertificates(home: string, log: (line: string) => void): StackCertificates {
  const certs = certificatePaths(home);
  const marker = path.join(certs.dir, '.version');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === VERSION) return certs;
  log(`creating the local CA and certificates in ${certs.dir} (openssl)`);
  rmSync(certs.dir, { recursive: true, force: true });
  mkdirSync(certs.dir, { recursive: true });
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: certs.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  // EC P-256 keys: generated in milliseconds, accepted by Java, Node and nginx alike.
  const key = (file: string): void => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file);
  const ca = (name: string, keyFile: string, certFile: string): void => {
    key(keyFile);
    openssl('req', '-x509', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-days', '3650', '-sha256', '-out', certFile, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const leaf = (cn: string, extensions: string, keyFile: string, certFile: string, caCert: string, caKey: string): void => {
    key(keyFile);
    const csr = path.join(certs.dir, `${path.basename(certFile)}.csr`);
    const ext = path.join(certs.dir, `${path.basename(certFile)}.ext`);
    openssl('req', '-new', '-key', keyFile, '-subj', `/CN=${cn}`, '-out', csr);
    writeFileSync(ext, extensions);
    openssl('x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '3650', '-sha256', '-extfile', ext, '-out', certFile);
    rmSync(csr);
    rmSync(ext);
  };
  ca('k2e local test CA', 'ca-key.pem', certs.ca);
  ca('k2e untrusted test CA', 'other-ca-key.pem', certs.otherCa);
  const san = ['IP:127.0.0.1', ...SERVER_NAMES.map((n) => `DNS:${n}`)].join(',');
  leaf('localhost', `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`, certs.serverKey, certs.serverCert, certs.ca, 'ca-key.pem');
  leaf('k2e-client', 'extendedKeyUsage=clientAuth\n', certs.clientKey, certs.clientCert, certs.ca, 'ca-key.pem');
  leaf('k2e-untrusted-client', 'extendedKeyUsage=clientAuth\n', certs.untrustedClientKey, certs.untrustedClientCert, certs.otherCa, 'other-ca-key.pem');
  openssl('pkcs8', '-topk8', '-in', certs.clientKey, '-out', certs.clientEncryptedKey, '-passout', `pass:${CLIENT_KEY_PASSPHRASE}`, '-v2', 'aes-256-cbc');
  // Kafka's PEM key store wants an unencrypted PKCS#8 key followed by the certificate chain.
  const pkcs8 = execFileSync('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', certs.serverKey], { encoding: 'utf8' });
  writeFileSync(certs.serverKeyStore, `${pkcs8}${readFileSync(certs.serverCert, 'utf8')}`);
  writeFileSync(marker, VERSION);
  return certs;
}
