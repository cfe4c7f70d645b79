// `npm run stack -- up [--brokers N] | down [--wipe] | status [--json] | logs [service] [-f] | stop|start|kill <service> | clean [--dry-run]`
// A real Kafka broker and real search engines on 127.0.0.1, from Maven Central, without Docker.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENGINE_NAMES, type EngineName, readLayout } from './layout.js';
import { killGroup, readPid, removeFile, startDetached, stopGroup } from './processes.js';
import { elasticsearchService, openSearchService, type StackService } from './services.js';
import { formattedKafkaSize, kafkaNodePorts, kafkaSecureListeners, kafkaService, kafkaSizeMismatch, SASL_TEST_USER, SCRAM_TEST_USER } from './kafka.js';
import { registryService } from './registry.js';
import { CLIENT_KEY_PASSPHRASE, certificatePaths } from './certificates.js';
import { findExecutable, GATEWAY_USERS, gatewayAccessLog, gatewayPorts, gatewayService, LEAST_PRIVILEGE_INDEX_PREFIX } from './gateway.js';
import { forwardProxyService, PROXY_TEST_USER } from './forward-proxy.js';
import { readState, type StackState, stateFile, writeState } from './state.js';
import { cleanStack } from './clean.js';

const layout = readLayout();
const log = (line: string): void => console.log(`[stack] ${line}`);

/**
 * Which engines to start. Unset: Elasticsearch, or OpenSearch when Elasticsearch cannot be assembled
 * here. `all`: every engine this machine can start (tests run against each). A list: exactly those.
 * `none`: Kafka only (and the registry unless STACK_REGISTRY=0).
 */
function requestedEngines(): { engines: EngineName[]; explicit: boolean } {
  const raw = process.env.STACK_ENGINE?.trim();
  // Unset while a stack runs: keep the engines it runs (`up` stays a no-op).
  if (!raw && existsSync(stateFile())) return { engines: readState().engines.map((e) => e.name), explicit: true };
  if (!raw) return { engines: ['elasticsearch'], explicit: false };
  if (raw === 'all') return { engines: ['elasticsearch', 'opensearch'], explicit: false };
  if (raw === 'none') return { engines: [], explicit: true };
  const engines = raw.split(',').map((s) => s.trim()) as EngineName[];
  for (const engine of engines) {
    if (!ENGINE_NAMES.includes(engine)) throw new Error(`STACK_ENGINE: "${engine}" is not one of ${ENGINE_NAMES.join(', ')} (comma-separated)`);
  }
  return { engines, explicit: true };
}

function engineService(engine: EngineName, index: number): StackService {
  const port = layout.enginePort + index;
  // Elasticsearch's transport port sits far from 9300-9400, the range OpenSearch picks its own from.
  return engine === 'elasticsearch' ? elasticsearchService(layout, port, port + 1100) : openSearchService(layout, port);
}

/** `--brokers N` or STACK_BROKERS, when given. */
function requestedBrokers(args: string[]): number | undefined {
  const at = args.indexOf('--brokers');
  const flag = at >= 0 ? (args[at + 1] ?? '') : args.find((a) => a.startsWith('--brokers='))?.slice('--brokers='.length);
  const [raw, source] = flag !== undefined ? [flag, '--brokers'] : [process.env.STACK_BROKERS?.trim(), 'STACK_BROKERS'];
  if (raw === undefined || raw === '') return undefined;
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new Error(`${source} must be a number of Kafka brokers from 1 to 9, got "${raw}"`);
  return count;
}

/** The Kafka nodes of the stack under STACK_HOME: as its data was formatted (or state.json says), else one. */
function kafkaServices(size = Math.max(formattedKafkaSize(layout) ?? 1, existsSync(stateFile()) ? (readState().kafkaNodes?.length ?? 1) : 1)): StackService[] {
  return Array.from({ length: size }, (_, i) => kafkaService(layout, i + 1, size));
}

/** Every service `down`/`status`/`logs` may find, whatever STACK_ENGINE says now. */
function allServices(): StackService[] {
  const state = existsSync(stateFile()) ? readState() : undefined;
  const engines = state?.engines.map((e, i) => engineService(e.name, i)) ?? [];
  for (const name of ENGINE_NAMES) if (!engines.some((s) => s.name === name)) engines.push(engineService(name, 0));
  const chosen = state?.engines ?? [{ name: 'elasticsearch' as const, url: engines[0]!.address }];
  return [...kafkaServices(), runningRegistry(state), ...engines, gatewayService(layout, chosen), forwardProxyService(layout)];
}

/**
 * The registry as `up` started it: the port in state.json's URL, else REGISTRY_PORT. Its PID file is
 * checked against `-Dquarkus.http.port=<port>`, so `down`/`stop` without the same REGISTRY_PORT
 * would otherwise miss it (and leave it running).
 */
function runningRegistry(state: StackState | undefined): StackService {
  const port = state?.registry ? Number(new URL(state.registry).port) : Number.NaN;
  return registryService(Number.isInteger(port) && port > 0 ? { ...layout, registryPort: port } : layout);
}

async function waitHealthy(service: StackService, pid: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (await service.healthy()) return;
    if (readPid(service.pidFile, service.marker) === undefined) {
      throw new Error(`${service.name} exited during start (pid ${pid}); see ${service.logFile}:\n${tail(service.logFile, 30)}`);
    }
    await sleep(500);
  }
  throw new Error(`${service.name} not healthy after ${layout.upTimeoutMs / 1000}s (STACK_UP_TIMEOUT); see ${service.logFile}:\n${tail(service.logFile, 30)}`);
}

async function ensureUp(service: StackService, deadline: number): Promise<void> {
  const running = readPid(service.pidFile, service.marker);
  if (running !== undefined) {
    if (await service.healthy()) {
      await service.configure?.();
      return log(`${service.name} already up at ${service.address} (pid ${running})`);
    }
    log(`${service.name} starting (pid ${running}), waiting`);
    await waitHealthy(service, running, deadline);
    return service.configure?.();
  }
  if (await portInUse(service.address)) {
    throw new Error(`${service.name}: ${service.address} is already in use by a process this stack did not start; stop it or change the port (see --help)`);
  }
  const spec = service.prepare(log);
  const pid = startDetached(spec);
  log(`${service.name} started (pid ${pid}), log ${service.logFile}`);
  await waitHealthy(service, pid, deadline);
  await service.configure?.();
  log(`${service.name} healthy at ${service.address}`);
}

async function up(args: string[]): Promise<void> {
  const started = Date.now();
  const deadline = started + layout.upTimeoutMs;
  const { engines, explicit } = requestedEngines();
  // Unless asked for a size, the stack keeps the Kafka cluster its data was formatted for.
  const formatted = formattedKafkaSize(layout);
  const brokerCount = requestedBrokers(args) ?? formatted ?? 1;
  if (formatted !== undefined && formatted !== brokerCount) {
    const running = kafkaServices(formatted).some((s) => readPid(s.pidFile, s.marker) !== undefined);
    throw new Error(kafkaSizeMismatch(formatted, brokerCount, running));
  }
  const kafka = kafkaServices(brokerCount);
  const services: StackService[] = [...kafka];
  const chosen: { name: EngineName; url: string }[] = [];
  for (const engine of engines) {
    const index = chosen.length; // the first engine started gets ENGINE_PORT, the next +1
    let service = engineService(engine, index);
    try {
      if (readPid(service.pidFile, service.marker) === undefined && !(await service.healthy())) service.prepare(log);
    } catch (error) {
      if (explicit || engine !== 'elasticsearch') throw error;
      // Not asked for by name: Elasticsearch when it can be assembled here, OpenSearch otherwise.
      log(`Elasticsearch is not available (${(error as Error).message.split('\n')[0]}); using OpenSearch`);
      if (engines.includes('opensearch')) continue;
      service = engineService('opensearch', index);
    }
    services.push(service);
    chosen.push({ name: service.name as EngineName, url: service.address });
  }
  const registry = layout.registry ? registryService(layout) : undefined;
  if (registry) services.push(registry);
  // The TLS gateway and the forward proxy run when Debian's nginx / tinyproxy are installed (.ci/run
  // installs them) and there is an engine to put them in front of.
  const gateway = chosen.length > 0 && findExecutable('nginx') ? gatewayService(layout, chosen) : undefined;
  const proxy = chosen.length > 0 && findExecutable('tinyproxy') ? forwardProxyService(layout) : undefined;
  if (chosen.length === 0) log('no search engine (STACK_ENGINE=none): no TLS gateway, no forward proxy');
  else {
    if (!gateway) log('nginx not installed: no TLS gateway (its tests are skipped)');
    if (!proxy) log('tinyproxy not installed: no forward proxy (its tests are skipped)');
  }
  for (const extra of [gateway, proxy]) if (extra) services.push(extra);
  await Promise.all(services.map((s) => ensureUp(s, deadline)));
  const certs = certificatePaths(layout.home);
  const secure = kafkaSecureListeners(layout);
  writeState({
    brokers: kafka[0]!.address,
    kafkaNodes: kafka.map((s, i) => ({ id: i + 1, name: s.name, address: s.address })),
    engines: chosen,
    ...(registry ? { registry: registry.address } : {}),
    sasl: { brokers: `127.0.0.1:${kafkaNodePorts(layout, 1).sasl}`, mechanism: 'PLAIN', ...SASL_TEST_USER },
    ...(existsSync(certs.ca)
      ? {
          tls: {
            ca: certs.ca,
            otherCa: certs.otherCa,
            clientCert: certs.clientCert,
            clientKey: certs.clientKey,
            clientEncryptedKey: certs.clientEncryptedKey,
            clientKeyPassphrase: CLIENT_KEY_PASSPHRASE,
            untrustedClientCert: certs.untrustedClientCert,
            untrustedClientKey: certs.untrustedClientKey,
          },
        }
      : {}),
    ...(secure
      ? { kafkaSecure: { ssl: secure.ssl, mtls: secure.mtls, saslSsl: secure.saslSsl, oauthbearer: secure.oauthbearer, ...(secure.scram ? { scram: { ...SCRAM_TEST_USER } } : {}) } }
      : {}),
    ...(gateway
      ? {
          gateway: {
            url: gateway.address,
            mtlsUrl: `https://127.0.0.1:${gatewayPorts(layout).mtls}`,
            users: GATEWAY_USERS,
            leastPrivilegeIndexPrefix: LEAST_PRIVILEGE_INDEX_PREFIX,
            accessLog: gatewayAccessLog(layout),
          },
        }
      : {}),
    ...(proxy ? { proxy: { url: proxy.address, ...PROXY_TEST_USER, log: proxy.logFile } } : {}),
  });
  const parts = [
    `kafka ${kafka.map((s) => s.address).join(',')}`,
    ...chosen.map((e) => `${e.name} ${e.url}`),
    ...(registry ? [`registry ${registry.address}`] : []),
    ...(gateway ? [`gateway ${gateway.address}`] : []),
    ...(proxy ? [`proxy ${proxy.address}`] : []),
  ];
  log(`up in ${((Date.now() - started) / 1000).toFixed(1)}s: ${parts.join('; ')}`);
}

async function down(wipe: boolean): Promise<void> {
  // All at once: Kafka nodes stopped one after another lose their quorum, and the last one then
  // waits out its controlled shutdown (20 s) before it is killed.
  await Promise.all(
    allServices().map(async (service) => {
      const pid = readPid(service.pidFile, service.marker);
      if (pid !== undefined) {
        log(`stopping ${service.name} (pid ${pid})`);
        await stopGroup(pid);
      }
      removeFile(service.pidFile);
      if (wipe) for (const dir of service.dataDirs) rmSync(dir, { recursive: true, force: true });
    }),
  );
  removeFile(stateFile());
  log(wipe ? 'stopped; data wiped (downloads kept)' : 'stopped');
}

/**
 * The services a name means (tests stop, start and kill them to simulate outages): `kafka` is every
 * Kafka node, `kafka-N` one node (`kafka-1` also names a single broker).
 */
function servicesNamed(name: string | undefined): StackService[] {
  const all = allServices();
  const kafka = kafkaServices();
  const found = name === 'kafka' ? kafka : name === 'kafka-1' ? kafka.slice(0, 1) : all.filter((s) => s.name === name);
  if (found.length === 0) {
    const nodes = kafka.length > 1 ? `, ${kafka.map((s) => s.name).join(', ')}` : '';
    throw new Error(`no service named "${name ?? ''}": kafka${nodes}, registry, elasticsearch, opensearch, gateway or proxy`);
  }
  return found;
}

/** Stops (SIGTERM, then SIGKILL after a grace period) or kills (SIGKILL) the named services, all at once. */
async function stopNamed(name: string | undefined, how: 'stop' | 'kill'): Promise<void> {
  await Promise.all(
    servicesNamed(name).map(async (service) => {
      const pid = readPid(service.pidFile, service.marker);
      if (pid === undefined) return log(`${service.name} is not running`);
      log(`${how === 'kill' ? 'killing (SIGKILL)' : 'stopping'} ${service.name} (pid ${pid})`);
      await (how === 'kill' ? killGroup(pid) : stopGroup(pid));
      removeFile(service.pidFile);
    }),
  );
}

async function startNamed(name: string | undefined): Promise<void> {
  const deadline = Date.now() + layout.upTimeoutMs;
  await Promise.all(servicesNamed(name).map((s) => ensureUp(s, deadline)));
}

async function status(json: boolean): Promise<boolean> {
  const rows = await Promise.all(
    allServices().map(async (s) => {
      const pid = readPid(s.pidFile, s.marker);
      return { name: s.name, address: s.address, pid: pid ?? null, healthy: pid !== undefined && (await s.healthy()) };
    }),
  );
  // The registry counts when the running stack has one (state.json), or, without a stack, unless STACK_REGISTRY=0.
  const withRegistry = existsSync(stateFile()) ? readState().registry !== undefined : layout.registry;
  const relevant = rows.filter((r) => r.pid !== null || r.name.startsWith('kafka') || (r.name === 'registry' && withRegistry));
  if (json) console.log(JSON.stringify(relevant, null, 2));
  else for (const r of relevant) console.log(`${r.name.padEnd(14)} ${r.healthy ? 'healthy' : r.pid ? 'starting/unhealthy' : 'down'}  ${r.address}${r.pid ? `  pid ${r.pid}` : ''}`);
  return relevant.every((r) => r.healthy);
}

async function portInUse(address: string): Promise<boolean> {
  const { hostname, port } = new URL(address.includes('://') ? address : `tcp://${address}`);
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function tail(file: string, lines: number): string {
  if (!existsSync(file)) return '(no log yet)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function logs(name: string | undefined, follow: boolean): void {
  const services = name ? servicesNamed(name) : allServices().filter((s) => existsSync(s.logFile));
  if (services.length === 0) throw new Error('no logs yet: run `npm run stack -- up`');
  if (follow) {
    spawn('tail', ['-n', '50', '-F', ...services.map((s) => s.logFile)], { stdio: 'inherit' });
    return;
  }
  for (const s of services) console.log(`==> ${s.logFile} <==\n${tail(s.logFile, 50)}`);
}

/** Deletes the topics, groups, indices, data streams and templates tests and benchmarks left behind. */
async function clean(dryRun: boolean): Promise<boolean> {
  const state = readState();
  const report = await cleanStack(state, dryRun);
  for (const [kind, names] of Object.entries(report.deleted)) {
    const sample = dryRun && names.length > 0 ? `: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}` : '';
    log(`${dryRun ? 'would delete' : 'deleted'} ${names.length} ${kind}${sample}`);
  }
  for (const problem of report.problems) log(`could not clean ${problem}`);
  return report.problems.length === 0;
}

const USAGE = `usage: npm run stack -- <command>
  up [--brokers N] start Kafka and the search engine(s) on 127.0.0.1; no-op when healthy. --brokers 3:
                   a three-node KRaft cluster (replication factor 3, min.insync.replicas 2); default 1,
                   or as many as the stack's Kafka data was formatted for
  down [--wipe]    stop what 'up' started; --wipe also deletes their data (not the downloads)
  status [--json]  show each service; exit 1 unless all are healthy
  logs [name] [-f] print (or follow) the logs: kafka, registry, elasticsearch, opensearch, gateway, proxy
  stop <name>      stop one service of the running stack (keeps its data); kafka = every broker,
                   kafka-2 = broker 2 of a cluster
  start <name>     start it again and wait until it is healthy
  kill <name>      SIGKILL it (a crash); start it again with start
  clean [--dry-run] delete the topics, consumer groups, indices, data streams and index templates that
                   tests and benchmarks left on the running stack (names made by the tests only)
environment: STACK_ENGINE=elasticsearch|opensearch|all|none|<comma list> (first on ENGINE_PORT, next +1;
  unset: Elasticsearch, else OpenSearch when Elasticsearch cannot be assembled; all: every engine that can start;
  none: Kafka only), STACK_BROKERS (as --brokers),
  STACK_HOME (${layout.home}), KAFKA_PORT (9092; broker N on +10·(N-1)), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), ENGINE_PORT (9200),
  REGISTRY_PORT (8081; STACK_REGISTRY=0 skips the schema registry), GATEWAY_PORT (9243; client
  certificates on +1; needs nginx), PROXY_PORT (9280; needs tinyproxy),
  KAFKA_HEAP (512m), ENGINE_HEAP (1g), STACK_UP_TIMEOUT seconds (240), JAVA_HOME`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      await up(rest);
      return 0;
    case 'down':
      await down(rest.includes('--wipe'));
      return 0;
    case 'status':
      return (await status(rest.includes('--json'))) ? 0 : 1;
    case 'stop':
    case 'kill':
      await stopNamed(rest[0], command);
      return 0;
    case 'start':
      await startNamed(rest[0]);
      return 0;
    case 'clean':
      return (await clean(rest.includes('--dry-run'))) ? 0 : 1;
    case 'logs':
      logs(rest.find((a) => !a.startsWith('-')), rest.includes('-f') || rest.includes('--follow'));
      return 0;
    default:
      console.log(USAGE);
      return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`[stack] error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
