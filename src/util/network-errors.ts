// What fails on the way to a server (TLS, DNS, TCP, a proxy, timeouts), in one short sentence with
// the likely fix: shared by the Kafka connections and the search engine's transport. Never includes
// credentials: messages come from Node/undici errors.

/** TLS verification failures: the server's certificate is not trusted, or not for this host. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);

export interface ErrorDescription {
  /** One sentence, no stack, no secret. */
  text: string;
  /** A configuration error that waiting will not fix (untrusted certificate, unusable key). */
  permanent: boolean;
}

interface Coded {
  code?: string;
  message: string;
  cause?: unknown;
  errors?: unknown[];
}

/** Every error in a chain of `cause`s and `errors` (AggregateError), outermost first. */
export function errorChain(error: unknown, depth = 0): Coded[] {
  if (error === null || typeof error !== 'object' || depth > 8) return [];
  const e = error as Coded;
  return [e, ...(e.errors ?? []).flatMap((inner) => errorChain(inner, depth + 1)), ...errorChain(e.cause, depth + 1)];
}

/**
 * `hints` name the settings to check: e.g. { ca: 'elastic.tls.caFile', key: 'elastic.tls.keyFile
 * and passphrase', proxy: 'elastic.proxy' }.
 */
export function describeNetworkError(error: unknown, hints: { ca: string; key: string; servername: string; proxy?: string }): ErrorDescription {
  const chain = errorChain(error);
  const has = (predicate: (e: Coded) => boolean): Coded | undefined => chain.find(predicate);
  const untrusted = has((e) => e.code !== undefined && UNTRUSTED.has(e.code));
  if (untrusted) return { text: `TLS: the server's certificate is not trusted (${untrusted.message}); check ${hints.ca}`, permanent: true };
  const expired = has((e) => e.code === 'CERT_HAS_EXPIRED' || e.code === 'CERT_NOT_YET_VALID');
  if (expired) return { text: `TLS: the server's certificate is not valid now (${expired.message})`, permanent: true };
  const altname = has((e) => e.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
  if (altname) return { text: `TLS: the server's certificate is not for this host (${altname.message}); set ${hints.servername} to a name it carries`, permanent: true };
  const key = has((e) => e.code?.startsWith('ERR_OSSL') === true || /bad decrypt|PEM routines|no start line|key values mismatch/i.test(e.message));
  if (key) return { text: `TLS: the client certificate or key cannot be used (${key.message}); check ${hints.key}`, permanent: true };
  const alert = has((e) => /alert (certificate required|bad certificate|unknown ca|certificate unknown|handshake failure)/i.test(e.message) || /SSLV3_ALERT|TLSV13_ALERT|TLSV1_ALERT/.test(e.code ?? ''));
  if (alert) return { text: `TLS: the server refused the handshake (${alert.message}): it may require a client certificate it trusts; check ${hints.key}`, permanent: true };
  const plainText = has((e) => /wrong version number|packet length too long|http request/i.test(e.message));
  if (plainText) return { text: `TLS handshake failed (${plainText.message}): does this endpoint speak TLS? (http:// instead of https://)`, permanent: true };
  const proxy = has((e) => /Proxy response \((\d+)\)/.test(e.message));
  if (proxy) {
    const status = /Proxy response \((\d+)\)/.exec(proxy.message)![1];
    // 407 is the standard answer; some proxies (tinyproxy) answer 401.
    const auth = status === '407' || status === '401';
    return {
      text: `the proxy answered ${status}${auth ? ` (proxy authentication failed: check the user and password in ${hints.proxy ?? 'the proxy URL'})` : ' to CONNECT'}`,
      permanent: auth,
    };
  }
  const byCode = (code: string): Coded | undefined => has((e) => e.code === code);
  if (byCode('ECONNREFUSED')) return { text: 'connection refused', permanent: false };
  if (byCode('ENOTFOUND') || byCode('EAI_AGAIN')) return { text: `host not found (${(byCode('ENOTFOUND') ?? byCode('EAI_AGAIN'))!.message})`, permanent: false };
  if (byCode('UND_ERR_CONNECT_TIMEOUT') || byCode('ETIMEDOUT')) return { text: 'connection timed out', permanent: false };
  if (byCode('UND_ERR_HEADERS_TIMEOUT') || byCode('UND_ERR_BODY_TIMEOUT') || has((e) => (e as Error).name === 'TimeoutError')) return { text: 'no answer within the request timeout', permanent: false };
  if (byCode('ECONNRESET') || byCode('UND_ERR_SOCKET') || byCode('EPIPE')) return { text: `the connection was closed (${(byCode('ECONNRESET') ?? byCode('UND_ERR_SOCKET') ?? byCode('EPIPE'))!.message})`, permanent: false };
  const first = chain.find((e) => e.message) ?? { message: String(error) };
  return { text: first.message.split('\n')[0]!, permanent: false };
}
