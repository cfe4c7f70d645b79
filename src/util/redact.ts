// Keeping secrets out of everything the service prints: URL user information, known secret values
// (passwords, tokens, credential headers) wherever they turn up in a line of text, and terminal
// control characters in data that came from producers (`dlq show`). Pure functions, no configuration.

/** What replaces a secret. */
export const MASK = '***';

/** `scheme://userinfo@` in free text. The user information runs up to the last `@` before a blank, a
 *  quote or an angle bracket: a password holding an unencoded `@` or `/` is masked whole (the host may
 *  be masked with it, which is the safe side). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>`]*@/gi;

/**
 * A URL without its password: http://user:secret@host/ → http://user:***@host/; a user name alone
 * (often a token: https://token@host/) is masked too. Text that is no URL is masked as free text.
 */
export function maskUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return maskInvalidUrl(url);
  }
  // `user:pw@host:8081` parses too, as scheme `user:` with an opaque path: no host, an `@` in it.
  if (parsed.username === '' && parsed.password === '') return parsed.host === '' && url.includes('@') ? maskInvalidUrl(url) : url;
  if (parsed.password !== '') parsed.password = MASK;
  else parsed.username = MASK;
  return parsed.toString();
}

/** Text meant as a URL that is none (a typo in a setting): everything before its last `@` but the scheme is masked. */
function maskInvalidUrl(text: string): string {
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:(\/\/)?/i.exec(text)?.[0] ?? '';
  return `${scheme}${MASK}${text.slice(at)}`;
}

/** Every `scheme://user:password@` in the text becomes `scheme://***@`. */
export function redactUrls(text: string): string {
  // `user:***@` (already masked by maskUrl) stays as it is: the user name is no secret.
  return text.replace(URL_USERINFO, (match, scheme: string) => (/^[^:@\s/]*:\*\*\*@$/.test(match.slice(scheme.length)) ? match : `${scheme}${MASK}@`));
}

/** A URL's user information, decoded, and the URL without it (for basic auth instead of the URL). */
export function splitUrlCredentials(url: string): { url: string; username?: string; password?: string } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url };
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), username, ...(password !== '' ? { password } : {}) };
}

/** Secrets shorter than this are not searched for in text: masking every "ab" would garble the logs. */
const MIN_SECRET_LENGTH = 4;

/**
 * Replaces known secret values, as written and in the forms they take inside JSON strings and URLs,
 * and URL user information, in any text (a log line, an error message, a JSON body).
 */
export class Redactor {
  readonly #needles: string[];

  constructor(secrets: Iterable<string | undefined>) {
    const needles = new Set<string>();
    for (const secret of secrets) {
      if (secret === undefined || secret.length < MIN_SECRET_LENGTH) continue;
      needles.add(secret);
      needles.add(JSON.stringify(secret).slice(1, -1));
      needles.add(encodeURIComponent(secret));
    }
    // Longest first: a secret that contains another is masked whole.
    this.#needles = [...needles].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.#needles.length;
  }

  redact(text: string): string {
    let out = text;
    for (const needle of this.#needles) if (out.includes(needle)) out = out.replaceAll(needle, MASK);
    return out.includes('://') ? redactUrls(out) : out;
  }
}

/**
 * C0 and C1 control characters (ESC starts terminal escape sequences; CSI is \x9b), DEL, and the
 * Unicode format characters that reorder or hide text (bidi overrides, zero-width), written as
 * visible escapes. Line breaks and tabs too: one field never spans or forges lines.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Text safe to print to a terminal: every control character as \n, \xNN or \uNNNN. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** What JSON.stringify leaves raw inside strings: DEL, C1, and the bidi and zero-width characters (it
 *  escapes C0 itself; a raw line break in its output is indentation). */
const RAW_IN_JSON = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/** JSON text (indented or not) with those characters as \u escapes: the same value, safe in a terminal. */
export function escapeJsonControl(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
