// Which values of a configuration are secrets, and the configuration as it may be printed: every
// secret key, the user information of every URL key and the values of credential-like headers masked.
// The same list feeds the redactor of log lines, error messages and /status (src/util/redact.ts).
import { readFileSync } from 'node:fs';
import { MASK, maskUrl, Redactor, redactUrls, splitUrlCredentials } from '../util/redact.js';
import { SECRET_HEADER, SECRET_KEYS, URL_KEYS } from './secret-keys.js';

type Tree = Record<string, unknown>;

const getPath = (tree: unknown, dotted: string): unknown =>
  dotted.split('.').reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Tree)[key] : undefined), tree);

function setPath(tree: Tree, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  const parent = getPath(tree, keys.slice(0, -1).join('.'));
  if (parent !== null && typeof parent === 'object') (parent as Tree)[keys.at(-1)!] = value;
}

/** The configuration with every secret replaced by "***", for printing (config check): secret keys, URL passwords, credential headers. */
export function maskSecrets<T>(config: T): unknown {
  const copy = structuredClone(config) as Tree;
  for (const key of SECRET_KEYS) if (getPath(copy, key) !== undefined) setPath(copy, key, MASK);
  for (const key of URL_KEYS) {
    const value = getPath(copy, key);
    if (value !== undefined) setPath(copy, key, Array.isArray(value) ? value.map((v) => maskUrl(String(v))) : maskUrl(String(value)));
  }
  const headers = getPath(copy, 'elastic.headers');
  if (headers !== null && typeof headers === 'object') {
    for (const name of Object.keys(headers)) if (SECRET_HEADER.test(name)) (headers as Tree)[name] = MASK;
  }
  return copy;
}

/** Property names whose values are masked wherever they sit in a tree (a section quoted whole in a validation error). */
const SECRET_PROPERTY = /password|passphrase|token|secret|apikey|authorization|cookie/i;

/** A value as a validation error may show it: secrets masked, URLs without their user information. */
export function shownValue(key: string, value: unknown): string {
  if (isSecretKey(key)) return JSON.stringify(MASK);
  if (URL_KEYS.includes(key)) return JSON.stringify(Array.isArray(value) ? value.map((v) => maskUrl(String(v))) : maskUrl(String(value)));
  return redactUrls(JSON.stringify(maskTree(value, key.endsWith('headers'))) ?? String(value));
}

function maskTree(value: unknown, headers = false): unknown {
  if (Array.isArray(value)) return value.map((v) => maskTree(v));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_PROPERTY.test(k) || (headers && SECRET_HEADER.test(k)) ? MASK : maskTree(v, k === 'headers')]));
}

/** Whether a value at this dotted key is printed as "***" (validation errors). */
function isSecretKey(key: string): boolean {
  if (SECRET_KEYS.has(key)) return true;
  const header = /^elastic\.headers\.(.+)$/.exec(key);
  return header !== null && SECRET_HEADER.test(header[1]!);
}

/**
 * Every secret value of a configuration, parsed or raw (before validation): secret keys, passwords
 * and user names given in URLs, credential-like header values, and the current content of
 * kafka.sasl.tokenFile (re-read when connecting; what it holds at start is masked at least).
 */
export function secretValues(config: unknown): string[] {
  const found: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === 'string' && value !== '') found.push(value);
  };
  for (const key of SECRET_KEYS) add(getPath(config, key));
  for (const key of URL_KEYS) {
    const value = getPath(config, key);
    for (const url of Array.isArray(value) ? value : [value]) {
      if (typeof url !== 'string') continue;
      try {
        const { username, password } = splitUrlCredentials(url);
        // A user name with a password is no secret; alone, it often is a token.
        if (password !== undefined) add(password);
        else add(username);
      } catch {
        // Not a URL: redactUrls masks its user information as text.
      }
    }
  }
  const headers = getPath(config, 'elastic.headers');
  if (headers !== null && typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers)) {
      if (!SECRET_HEADER.test(name) || typeof value !== 'string') continue;
      add(value);
      // `Bearer abc…`: the credential alone may turn up without its scheme.
      const credential = /^\S+\s+(\S.*)$/.exec(value)?.[1];
      add(credential);
    }
  }
  const tokenFile = getPath(config, 'kafka.sasl.tokenFile');
  if (typeof tokenFile === 'string') {
    try {
      add(readFileSync(tokenFile, 'utf8').trim());
    } catch {
      // Unreadable now: the loader reports it.
    }
  }
  return found;
}

/** The redactor for everything a service with this configuration prints. */
export const redactorFor = (config: unknown): Redactor => new Redactor(secretValues(config));
