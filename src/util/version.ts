// The version of kafka-to-elastic: package.json's, read once (it sits at the package root, beside
// dist/; this file runs from dist/src/util/). Shown by --version, /status, the first log line of
// `run` and the k2e_build_info metric.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

export const VERSION: string = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version;
