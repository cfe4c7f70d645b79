// Every configuration key there is, read from the schema: to refuse an unknown key from any source
// (file, flag, variable) with the closest known one, before the values are validated.
import { z } from 'zod';
import { configSchema, SECRET_KEYS } from './schema.js';
import { didYouMean } from '../util/suggest.js';

function unwrap(node: z.ZodType | undefined): z.ZodType | undefined {
  while (node instanceof z.ZodDefault || node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
  return node;
}

/** The object schema a union offers (`kafka.tls` is `true` or an object: its keys are the object's). */
const objectOf = (node: z.ZodType | undefined): z.ZodType | undefined =>
  node instanceof z.ZodUnion ? (node.options as z.ZodType[]).find((o) => o instanceof z.ZodObject) : node;

/** The innermost schema at a dotted key, through defaults and optionals; undefined when there is none. */
export function schemaAt(key: string): z.ZodType | undefined {
  let node: z.ZodType | undefined = configSchema;
  for (const part of key.split('.')) {
    node = objectOf(unwrap(node));
    node = node instanceof z.ZodObject ? (node.shape as Record<string, z.ZodType>)[part] : undefined;
  }
  return unwrap(node);
}

/** Every key (sections and leaves), dotted, plus `<secret>File` for each secret. */
function listKeys(node: z.ZodType | undefined = configSchema, prefix = ''): string[] {
  const object = objectOf(unwrap(node));
  if (!(object instanceof z.ZodObject)) return [];
  return Object.entries(object.shape as Record<string, z.ZodType>).flatMap(([name, child]) => [`${prefix}${name}`, ...listKeys(child, `${prefix}${name}.`)]);
}

export const CONFIG_KEYS: readonly string[] = [...listKeys(), ...[...SECRET_KEYS].filter((k) => !listKeys().includes(`${k}File`)).map((k) => `${k}File`)];
const KNOWN = new Set(CONFIG_KEYS);

/** Whether a dotted key exists; anything below a map keyed by data (decode.topics, elastic.headers...) does. */
export function isKnownKey(key: string): boolean {
  if (KNOWN.has(key)) return true;
  const parts = key.split('.');
  for (let i = parts.length - 1; i > 0; i--) {
    const parent = parts.slice(0, i).join('.');
    if (KNOWN.has(parent)) return schemaAt(parent) instanceof z.ZodRecord;
  }
  return false;
}

/** The top-level names (sections and keys): `--logLevel=debug`, `--kafka.groupId=g`. */
export const TOP_LEVEL_KEYS: readonly string[] = Object.keys(configSchema.shape);

/** " (did you mean kafka.groupId?)" for an unknown key, or "". */
export const keySuggestion = (key: string): string => didYouMean(key, CONFIG_KEYS);
