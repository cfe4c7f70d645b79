// What Elasticsearch and OpenSearch accept as an index or data stream name, and how the parts of a
// data stream name are made to fit the naming scheme. Checked before sending, so a record whose
// name breaks the rules goes to the fallback index or the dead-letter topic with the reason,
// instead of failing inside the engine.

/** Characters both engines refuse in index names (MetadataCreateIndexService), `:` included. */
const FORBIDDEN = /[\\/*?"<>| ,#:]/;
const MAX_NAME_BYTES = 255;

/** Why the engines would refuse this index name, or undefined when they accept it. */
export function indexNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name !== name.toLowerCase()) return 'has upper-case letters';
  const bad = FORBIDDEN.exec(name);
  if (bad) return `contains ${JSON.stringify(bad[0])} (not allowed: \\ / * ? " < > | space , # :)`;
  if (/^[-_+]/.test(name)) return 'starts with -, _ or +';
  if (name === '.' || name === '..') return 'is . or ..';
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_NAME_BYTES) return `is ${bytes} bytes long, over the engines' ${MAX_NAME_BYTES}`;
  return undefined;
}

/** A value substituted into an index name: index names are lower-case. */
export const lowerCase = (value: string): string => value.toLowerCase();

/** Longest dataset or namespace of the data stream naming scheme. */
const MAX_PART = 100;

/**
 * A value substituted into a data stream's dataset or namespace. The naming scheme
 * `<type>-<dataset>-<namespace>` uses `-` as its separator, so a value keeps none; like Elastic's
 * own routing of documents to data streams, characters an index name cannot hold (and `-`) become
 * `_`, the value is lower-cased and cut at 100 characters.
 */
export const dataStreamPart = (value: string): string => value.toLowerCase().replace(/[\\/*?"<>| ,#:-]/g, '_').slice(0, MAX_PART);

/** Why a literal type, dataset or namespace of a data stream cannot be used, or undefined. */
export function dataStreamLiteralProblem(literal: string): string | undefined {
  if (literal.includes('-')) return 'contains "-", the separator of <type>-<dataset>-<namespace>';
  if (literal !== literal.toLowerCase()) return 'has upper-case letters';
  const bad = FORBIDDEN.exec(literal);
  if (bad) return `contains ${JSON.stringify(bad[0])}`;
  return undefined;
}
