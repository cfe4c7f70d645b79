// Which configuration keys hold secrets (printed as ***), URLs (printed without their user information)
// and which header names count as credentials. No zod here: the service thread uses these to mask.

/**
 * Keys whose values never appear in output (config check, logs, /status). Each can also come from a
 * file: `<key>File` in the config, `<VARIABLE>_FILE` in the environment (read once at start).
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'kafka.sasl.password',
  'kafka.sasl.token',
  'kafka.tls.passphrase',
  'elastic.password',
  'elastic.apiKey',
  'elastic.tls.passphrase',
  'schemaRegistry.password',
  'http.token',
]);
/** Secrets whose `<key>File` is kept as a path and re-read whenever needed (rotated tokens). */
export const REREAD_SECRET_FILES: ReadonlySet<string> = new Set(['kafka.sasl.token']);
/** URL keys whose user information (a proxy's, an engine's or the registry's password) is masked in output. */
export const URL_KEYS: readonly string[] = ['elastic.url', 'elastic.urls', 'elastic.proxy', 'schemaRegistry.url'];
/** Names of elastic.headers whose values are masked in output. */
export const SECRET_HEADER = /auth|token|secret|key|cookie|password|passwd|credential|session|signature/i;
