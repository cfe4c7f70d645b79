// The stack's Kafka: one KRaft node (broker+controller), or a cluster of N such nodes forming an
// N-voter quorum (`up --brokers 3`). Node n has its own folder, config, data, log and PID file; the
// jars are shared. Node 1 keeps the single broker's paths and ports, so a running stack stays ours.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { certificatePaths, ensureCertificates } from './certificates.js';
import { kafkaHealthy } from './health.js';
import { findJava } from './java.js';
import type { StackLayout } from './layout.js';
import { repoRoot } from './layout.js';
import { resolveJars } from './maven.js';
import type { StackService } from './services.js';

/** The local stack's SASL/PLAIN user (on each broker's port + 2); a test credential, not a secret. */
export const SASL_TEST_USER = { username: 'k2e', password: 'k2e-local-sasl-password' } as const;
/** The SCRAM-SHA-512/256 user of the SASL_SSL listener (port + 5), created at format time. */
export const SCRAM_TEST_USER = { username: 'k2e-scram', password: 'k2e-local-scram-password' } as const;

/** Node n's ports are node 1's shifted by 10·(n-1): 9092-9098, 9102-9108, 9112-9118 by default. */
export const KAFKA_NODE_PORT_STEP = 10;

/**
 * Node n's listeners: PLAINTEXT on its base port, SASL/PLAIN +2, SSL +3, SSL with client certificates
 * +4, SASL_SSL (SCRAM) +5, OAUTHBEARER +6; its controller on KAFKA_CONTROLLER_PORT (default base+1)
 * shifted the same way.
 */
export function kafkaNodePorts(layout: StackLayout, node: number) {
  const shift = KAFKA_NODE_PORT_STEP * (node - 1);
  const plain = layout.kafkaPort + shift;
  return { plain, sasl: plain + 2, ssl: plain + 3, mtls: plain + 4, saslSsl: plain + 5, oauthbearer: plain + 6, controller: layout.kafkaControllerPort + shift };
}

export const kafkaAddress = (layout: StackLayout, node: number): string => `127.0.0.1:${kafkaNodePorts(layout, node).plain}`;

/** Service names: `kafka` for a single broker (as always), `kafka-1` … `kafka-N` in a cluster. */
export const kafkaNodeName = (node: number, size: number): string => (size === 1 ? 'kafka' : `kafka-${node}`);

/** Node 1 keeps the single broker's paths (kafka/, logs/kafka.log, run/kafka.pid); node n uses kafka-n. */
function nodePaths(layout: StackLayout, node: number) {
  const base = node === 1 ? 'kafka' : `kafka-${node}`;
  const dir = path.join(layout.home, base);
  return {
    dir,
    dataDir: path.join(dir, 'data'),
    configFile: path.join(dir, 'server.properties'),
    logFile: path.join(layout.home, 'logs', `${base}.log`),
    pidFile: path.join(layout.home, 'run', `${base}.pid`),
  };
}

/** Where `up` keeps Kafka's jars (broker, clients, tools): tests run Kafka's tools and Java producer from here. */
export const kafkaLibDir = (layout: StackLayout): string => path.join(layout.home, 'kafka', 'lib');

/** Kafka's jars, resolved from Maven Central once. */
function kafkaLib(layout: StackLayout, log: (line: string) => void): string {
  const lib = kafkaLibDir(layout);
  resolveJars(path.join(repoRoot, 'stack', 'maven', 'kafka', 'pom.xml'), lib, log);
  return lib;
}

const CLUSTER_SIZE_FILE = 'k2e-cluster-size';
const scramMarker = (dataDir: string): string => path.join(dataDir, 'k2e-scram-users');

/**
 * The number of nodes the storage under STACK_HOME was formatted for, or undefined before the first
 * `up` (or after `down --wipe`). Storage formatted before clusters existed has no marker: one node.
 */
export function formattedKafkaSize(layout: StackLayout): number | undefined {
  const { dataDir } = nodePaths(layout, 1);
  if (!existsSync(path.join(dataDir, 'meta.properties'))) return undefined;
  const marker = path.join(dataDir, CLUSTER_SIZE_FILE);
  return existsSync(marker) ? Number(readFileSync(marker, 'utf8').trim()) : 1;
}

export function kafkaSizeMismatch(have: number, want: number, running: boolean): string {
  const plural = (n: number): string => `${n} Kafka broker${n === 1 ? '' : 's'}`;
  return (
    `the ${running ? 'running stack has' : "stack's Kafka data was formatted for"} ${plural(have)}, not ${want}: a KRaft quorum cannot change its voters in place; ` +
    `run \`npm run stack -- down --wipe\` (deletes the data) and then \`npm run stack -- up --brokers ${want}\``
  );
}

/** A cluster id as Kafka's `random-uuid` prints it (base64url of 16 random bytes), without a JVM start. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka never makes ids that look like command-line flags
  }
}

/** Unchanged files are not rewritten: a node starting right now may be reading its own. */
function writeIfChanged(file: string, content: string): void {
  if (!existsSync(file) || readFileSync(file, 'utf8') !== content) writeFileSync(file, content);
}

/** Writes every node's configuration and formats the storage of a new cluster (all nodes, one cluster id). */
function prepareCluster(layout: StackLayout, size: number, java: string, lib: string, log: (line: string) => void): void {
  ensureCertificates(layout.home, log);
  for (let node = 1; node <= size; node++) {
    const { dir, configFile, dataDir } = nodePaths(layout, node);
    mkdirSync(dir, { recursive: true });
    writeIfChanged(configFile, kafkaServerProperties(layout, node, size, dataDir));
    writeIfChanged(path.join(dir, 'log4j2.properties'), LOG4J2_CONSOLE);
  }
  const formatted = formattedKafkaSize(layout);
  if (formatted !== undefined) {
    if (formatted !== size) throw new Error(kafkaSizeMismatch(formatted, size, false));
    return;
  }
  log(`formatting Kafka storage (KRaft, ${size} node${size === 1 ? '' : 's'})`);
  const clusterId = randomClusterId();
  // SCRAM credentials live in the cluster metadata: created here, with the storage.
  const scram = ['SCRAM-SHA-512', 'SCRAM-SHA-256'].flatMap((m) => ['--add-scram', `${m}=[name=${SCRAM_TEST_USER.username},password=${SCRAM_TEST_USER.password}]`]);
  for (let node = 1; node <= size; node++) {
    const { configFile, dataDir } = nodePaths(layout, node);
    rmSync(dataDir, { recursive: true, force: true }); // a node left over from an earlier cluster
    execFileSync(java, ['-cp', `${lib}/*`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', configFile, ...scram], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    writeFileSync(scramMarker(dataDir), `${SCRAM_TEST_USER.username}\n`);
  }
  // Written last: its presence means every node was formatted.
  writeFileSync(path.join(nodePaths(layout, 1).dataDir, CLUSTER_SIZE_FILE), `${size}\n`);
}

/** Node `node` (1-based) of a cluster of `size` nodes. */
export function kafkaService(layout: StackLayout, node = 1, size = 1): StackService {
  const { dir, dataDir, configFile, logFile, pidFile } = nodePaths(layout, node);
  const address = kafkaAddress(layout, node);
  return {
    name: kafkaNodeName(node, size),
    address,
    logFile,
    pidFile,
    marker: configFile,
    dataDirs: [dataDir],
    prepare(log) {
      const lib = kafkaLib(layout, log);
      const java = findJava(17);
      prepareCluster(layout, size, java, lib, log);
      return {
        name: kafkaNodeName(node, size),
        command: java,
        args: [`-Xmx${layout.kafkaHeap}`, `-Xms${layout.kafkaHeap}`, `-Dlog4j2.configurationFile=${path.join(dir, 'log4j2.properties')}`, '-cp', `${lib}/*`, 'kafka.Kafka', configFile],
        cwd: dir,
        pidFile,
        logFile,
        marker: configFile,
      };
    },
    // Healthy once the node answers metadata that lists itself (registered and unfenced).
    healthy: () => kafkaHealthy(address, node),
  };
}

/**
 * Node 1's secure listeners with its current configuration, or undefined when its configuration
 * predates them (a broker started by an older `up` keeps running as it is). SCRAM users exist only
 * when the storage was formatted with them.
 */
export function kafkaSecureListeners(layout: StackLayout): { ssl: string; mtls: string; saslSsl: string; oauthbearer: string; scram: boolean } | undefined {
  const { configFile, dataDir } = nodePaths(layout, 1);
  if (!existsSync(configFile) || !readFileSync(configFile, 'utf8').includes('MTLS://')) return undefined;
  const ports = kafkaNodePorts(layout, 1);
  const at = (port: number): string => `127.0.0.1:${port}`;
  return { ssl: at(ports.ssl), mtls: at(ports.mtls), saslSsl: at(ports.saslSsl), oauthbearer: at(ports.oauthbearer), scram: existsSync(scramMarker(dataDir)) };
}

export function kafkaServerProperties(layout: StackLayout, node: number, size: number, dataDir: string): string {
  const certs = certificatePaths(layout.home);
  const ports = kafkaNodePorts(layout, node);
  const voters = Array.from({ length: size }, (_, i) => `${i + 1}@127.0.0.1:${kafkaNodePorts(layout, i + 1).controller}`).join(',');
  // Replicated like a production cluster once there are nodes to replicate to: 3 copies, 2 in sync.
  const replicas = Math.min(size, 3);
  const minIsr = Math.max(1, replicas - 1);
  const plain = `PLAINTEXT://127.0.0.1:${ports.plain},SASL_PLAINTEXT://127.0.0.1:${ports.sasl}`;
  const tls = `SSL://127.0.0.1:${ports.ssl},MTLS://127.0.0.1:${ports.mtls},SASL_SSL://127.0.0.1:${ports.saslSsl},OAUTH://127.0.0.1:${ports.oauthbearer}`;
  return [
    `# Written by \`npm run stack -- up\`: KRaft broker+controller ${node} of ${size} on loopback.`,
    'process.roles=broker,controller',
    `node.id=${node}`,
    `controller.quorum.voters=${voters}`,
    `listeners=${plain},CONTROLLER://127.0.0.1:${ports.controller},${tls}`,
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
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${replicas}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minIsr}`,
    `share.coordinator.state.topic.replication.factor=${replicas}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
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
