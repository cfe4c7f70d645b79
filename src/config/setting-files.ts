// The files a configuration names (certificates, keys, tokens, index definitions, schemas), read at
// load time the way the service reads them later, so that `config check` accepts exactly what `run`
// accepts: an unreadable file, or a JSON file that does not parse, is one line naming the setting.
// Certificates are read again when connections are made, tokens at every authentication (rotation).
import { readFileSync } from 'node:fs';
import type { Config } from './schema.js';

/** json-object: an index definition or template; json: any JSON (an Avro schema may be a name or a union). */
type FileKind = 'pem' | 'json' | 'json-object' | 'text';

/** The file settings of a (parsed) configuration section: [key, path, what the file holds]. */
function fileSettings(config: Partial<Pick<Config, 'kafka' | 'elastic' | 'schemaRegistry' | 'decode'>>): [string, string | undefined, FileKind][] {
  const { kafka, elastic, schemaRegistry, decode } = config;
  const kafkaTls = typeof kafka?.tls === 'object' ? kafka.tls : undefined;
  return [
    ['kafka.tls.caFile', kafkaTls?.caFile, 'pem'],
    ['kafka.tls.certFile', kafkaTls?.certFile, 'pem'],
    ['kafka.tls.keyFile', kafkaTls?.keyFile, 'pem'],
    ['kafka.sasl.tokenFile', kafka?.sasl?.tokenFile, 'text'],
    ['elastic.tls.caFile', elastic?.tls?.caFile, 'pem'],
    ['elastic.tls.certFile', elastic?.tls?.certFile, 'pem'],
    ['elastic.tls.keyFile', elastic?.tls?.keyFile, 'pem'],
    ['elastic.indexDefinitionFile', elastic?.indexDefinitionFile, 'json-object'],
    ['elastic.templateFile', elastic?.templateFile, 'json-object'],
    ['schemaRegistry.caFile', schemaRegistry?.caFile, 'pem'],
    ['decode.readerSchemaFile', decode?.readerSchemaFile, 'json'],
  ];
}

/** What is wrong with one file, or undefined. */
function fileProblem(file: string, kind: FileKind): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
  }
  if (kind === 'json' || kind === 'json-object') {
    try {
      const parsed: unknown = JSON.parse(text);
      if (kind === 'json-object' && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) return 'expected a JSON object';
    } catch (error) {
      return `not valid JSON: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  // Node's TLS options take PEM text only.
  if (kind === 'pem' && !text.includes('-----BEGIN ')) return 'not a PEM file (no -----BEGIN line)';
  return undefined;
}

/**
 * One line per file setting that cannot be used, each naming where the setting came from.
 * @param where the origin of a key (a flag, a variable, a file's key)
 */
export function settingFileProblems(config: Parameters<typeof fileSettings>[0], where: (key: string) => string): string[] {
  const problems: string[] = [];
  for (const [key, file, kind] of fileSettings(config)) {
    if (file === undefined) continue;
    const problem = fileProblem(file, kind);
    if (problem) problems.push(`  ${where(key)} (${key}) is ${JSON.stringify(file)}: ${problem}`);
  }
  return problems;
}
