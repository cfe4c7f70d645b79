// Checks shared by the plain manifests (deploy/kubernetes) and every rendering of the Helm chart:
// offline schema validation (scripts/deploy/validate_manifests.py in its venv), and one installation's
// consistency with itself and with the service: the pod's user can read every mounted file and every
// file the configuration names, the configuration (with the pod's files laid out in a temporary folder)
// loads with the service's own loader, probes and scraping use its port, the grace period outlasts
// shutdownTimeoutMs, no secret sits in the ConfigMap, the PDB, Service, ServiceMonitor and KEDA's
// ScaledObject point at this Deployment, its group and at most one replica per partition.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { SECRET_KEYS } from '../../src/config/secret-keys.js';
import { octal, podFileAccess, type FileAccess, type PodSpec } from '../../scripts/deploy/pod-files.js';
import { repoRoot } from '../../scripts/stack/layout.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are free-form YAML
export type Manifest = Record<string, any>;

const venvPython = path.join(process.env.K2E_TEST_DEPLOY_VENV ?? path.join(process.env.STACK_HOME ?? path.join(repoRoot, '.stack'), 'venv-deploy'), 'bin', 'python');
const validator = path.join(repoRoot, 'scripts', 'deploy', 'validate_manifests.py');
/** `false`, or why the schema validation is skipped. */
export const validationSkip: false | string = existsSync(venvPython) ? false : `the validators' venv is missing: bash scripts/deploy/setup-venv.sh (looked for ${venvPython})`;

export interface Validation {
  kind: string;
  name: string;
  status: 'valid' | 'invalid' | 'unchecked';
  errors: string[];
  validator?: string;
  /** The file the resource came from. */
  file: string;
}

export function validateFiles(paths: string[]): { code: number | null; results: Validation[]; stderr: string } {
  const run = spawnSync(venvPython, [validator, ...paths], { encoding: 'utf8' });
  return { code: run.status, results: run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Validation), stderr: run.stderr };
}

/** Validates resources (written to a temporary file as JSON documents); asserts every one is valid. */
export function assertValid(resources: Manifest[], label: string): Validation[] {
  const tmp = mkdtempSync(path.join(tmpdir(), 'k2e-validate-'));
  try {
    const file = path.join(tmp, 'resources.yaml');
    writeFileSync(file, resources.map((r) => JSON.stringify(r)).join('\n---\n'));
    const { code, results, stderr } = validateFiles([file]);
    assert.equal(code, 0, `${label}: ${JSON.stringify(results.filter((r) => r.status !== 'valid'), null, 2)}${stderr}`);
    assert.equal(results.length, resources.length, label);
    return results;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const mib = (quantity: string): number => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  assert.ok(match, `memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
};

/** Every `*File` setting in a configuration object: dotted key -> path. */
function fileSettings(node: unknown, prefix = ''): [string, string][] {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return [];
  return Object.entries(node as Record<string, unknown>).flatMap(([key, value]): [string, string][] =>
    key.endsWith('File') && typeof value === 'string' ? [[`${prefix}${key}`, value]] : fileSettings(value, `${prefix}${key}.`),
  );
}

/** A secret from a Secret this installation does not hold (an existing one): long enough for a token. */
/** What a mounted Secret key holds in the pod's view: PEM-shaped for certificates and keys (the loader checks), else a word. */
const placeholder = (source: string, key: string): string => {
  const text = `placeholder-of-${source.replace('/', '-')}-${key}`;
  return /\.(crt|pem|key)$/.test(key) ? `-----BEGIN PLACEHOLDER-----\n${Buffer.from(text).toString('base64')}\n-----END PLACEHOLDER-----\n` : text;
};

export interface Installation {
  config: Config;
  /** Every mounted file with its mode, owner, group and whether the pod's user reads it. */
  files: FileAccess[];
  /** Config key (or variable) -> path, for every file the service is told to read. */
  named: [string, string][];
}

/**
 * One installation (the resources of one rendering): asserts what the module comment says and returns
 * the loaded configuration and the pod's files for further checks.
 */
export function checkInstallation(resources: Manifest[], label: string): Installation {
  const of = (kind: string): Manifest[] => resources.filter((r) => r.kind === kind);
  const one = (kind: string): Manifest => {
    assert.equal(of(kind).length, 1, `${label}: one ${kind}`);
    return of(kind)[0]!;
  };
  const deployment = one('Deployment');
  const pod = deployment.spec.template.spec;
  assert.equal(pod.containers.length, 1, label);
  const container = pod.containers[0];
  const env = new Map<string, string>((container.env ?? []).filter((e: Manifest) => e.value !== undefined).map((e: Manifest) => [e.name, e.value]));

  // The pod's files: every key of a Secret/ConfigMap rendered here, one entry per volume otherwise.
  const data = new Map<string, Record<string, string>>();
  for (const r of of('Secret')) data.set(`secret/${r.metadata.name}`, { ...(r.stringData ?? {}), ...Object.fromEntries(Object.entries((r.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])) });
  for (const r of of('ConfigMap')) data.set(`configMap/${r.metadata.name}`, r.data ?? {});
  const files = podFileAccess(pod as PodSpec, { keysOf: (source) => (data.has(source) ? Object.keys(data.get(source)!) : undefined) });
  for (const f of files) assert.ok(f.readable, `${label}: the pod's user cannot read ${f.path} (${f.source}, ${octal(f.mode)} ${f.uid}:${f.gid}): ${f.why}`);
  const fileAt = (p: string): FileAccess | undefined => files.find((f) => f.path === p);
  for (const mount of container.volumeMounts) assert.equal(mount.readOnly, true, `${label}: ${mount.name} mounted read-only`);

  // The configuration file the pod reads, with the pod's files laid out under a temporary root.
  const configPath = env.get('K2E_CONFIG');
  assert.ok(configPath, `${label}: K2E_CONFIG`);
  const configFile = fileAt(configPath);
  assert.ok(configFile && configFile.source.startsWith('configMap/'), `${label}: ${configPath} is a mounted ConfigMap file`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'k2e-pod-'));
  let config: Config;
  let named: [string, string][];
  let configText: string;
  try {
    const inPod = (p: string): string => path.join(tmp, p);
    for (const f of files) {
      if (f.key === '*') continue;
      mkdirSync(path.dirname(inPod(f.path)), { recursive: true });
      writeFileSync(inPod(f.path), data.get(f.source)?.[f.key] ?? placeholder(f.source, f.key));
    }
    configText = data.get(configFile.source)![configFile.key]!;
    const parsed = loadYamlConfig(configText);
    named = [...fileSettings(parsed), ...[...env].filter(([name]) => name.endsWith('_FILE'))];
    // Every file the service is told to read is a mounted one its user can read.
    for (const [key, file] of named) {
      const mounted = fileAt(file);
      assert.ok(mounted, `${label}: ${key} names ${file}, which no volume mounts`);
      assert.ok(mounted.readable, `${label}: ${key}: ${file}: ${mounted.why}`);
      if (SECRET_KEYS.has(key.replace(/File$/, '')) || key.endsWith('_FILE')) assert.ok(mounted.source.startsWith('secret/'), `${label}: ${key} comes from a Secret`);
    }
    // The same configuration with its paths moved under the temporary root, read by the service's loader.
    writeFileSync(inPod(configPath), stringifyYaml(movePaths(parsed, inPod)));
    const fileEnv = Object.fromEntries([...env].filter(([name]) => name.endsWith('_FILE')).map(([name, file]) => [name, inPod(file)]));
    config = loadConfig({ file: inPod(configPath), env: fileEnv });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }

  // No secret in the ConfigMap or the environment: only paths.
  for (const key of SECRET_KEYS) {
    const [section, ...rest] = key.split('.');
    let node: unknown = loadYamlConfig(configText)[section!];
    for (const part of rest) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
    assert.equal(node, undefined, `${label}: ${key} is in the ConfigMap`);
  }
  for (const name of env.keys()) assert.ok(!/PASSWORD$|API_KEY$|TOKEN$/.test(name), `${label}: ${name} in the environment`);

  // Probes and the scrape annotations use the service's port and endpoints.
  const port = container.ports.find((p: Manifest) => p.name === 'http');
  assert.equal(port.containerPort, config.http.port, label);
  assert.equal(container.readinessProbe.httpGet.path, '/ready');
  assert.equal(container.livenessProbe.httpGet.path, '/health');
  for (const probe of [container.readinessProbe, container.livenessProbe]) assert.ok(probe.httpGet.port === 'http' || probe.httpGet.port === config.http.port, label);
  const annotations = deployment.spec.template.metadata.annotations ?? {};
  if (annotations['prometheus.io/port'] !== undefined) assert.equal(annotations['prometheus.io/port'], String(config.http.port));
  // SIGTERM gets shutdownTimeoutMs plus a margin before the kubelet's SIGKILL.
  assert.ok(pod.terminationGracePeriodSeconds * 1000 >= config.shutdownTimeoutMs + 10_000, `${label}: grace ${pod.terminationGracePeriodSeconds} s vs shutdownTimeoutMs ${config.shutdownTimeoutMs}`);
  // Memory: above the measured peak RSS (255 MiB at maxHeapMb 128, docs/benchmarks.md) with headroom.
  if (config.maxHeapMb === 128) assert.ok(mib(container.resources.limits.memory) >= 320 && mib(container.resources.requests.memory) >= 256, JSON.stringify(container.resources));
  // Hardening: non-root uid 1000 (the image's node user), read-only root, no capabilities.
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, 1000);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);

  // Selectors: the Deployment's own, the PDB's, the spread constraint's and the Service's pick its pods.
  const labels = deployment.spec.template.metadata.labels as Record<string, string>;
  const selects = (selector: Record<string, string>, what: string): void => {
    for (const [k, v] of Object.entries(selector)) assert.equal(labels[k], v, `${label}: ${what} selects the pods (${k})`);
  };
  selects(deployment.spec.selector.matchLabels, 'the Deployment');
  for (const pdb of of('PodDisruptionBudget')) selects(pdb.spec.selector.matchLabels, 'the PodDisruptionBudget');
  for (const spread of pod.topologySpreadConstraints ?? []) selects(spread.labelSelector.matchLabels, 'the spread constraint');
  for (const service of of('Service')) {
    selects(service.spec.selector, 'the Service');
    assert.ok(service.spec.ports.some((p: Manifest) => p.name === 'http' && p.targetPort === 'http'), label);
  }
  if (pod.serviceAccountName) {
    const account = of('ServiceAccount').find((a) => a.metadata.name === pod.serviceAccountName);
    if (account) assert.equal(account.automountServiceAccountToken, false, label);
  }

  // The ServiceMonitor scrapes this Service's http port at /metrics, with the token when there is one.
  for (const monitor of of('ServiceMonitor')) {
    const service = of('Service').find((s) => Object.entries(monitor.spec.selector.matchLabels as Record<string, string>).every(([k, v]) => s.metadata.labels[k] === v));
    assert.ok(service, `${label}: the ServiceMonitor selects the Service`);
    assert.ok(service.metadata.labels[monitor.spec.jobLabel], `${label}: the Service carries the jobLabel ${monitor.spec.jobLabel}`);
    assert.equal(monitor.spec.endpoints.length, 1);
    assert.deepEqual([monitor.spec.endpoints[0].port, monitor.spec.endpoints[0].path], ['http', '/metrics']);
    const credentials = monitor.spec.endpoints[0].authorization?.credentials;
    assert.equal(credentials !== undefined, config.http.token !== undefined, `${label}: the ServiceMonitor sends a token exactly when /metrics wants one`);
    if (credentials) {
      const tokenFile = named.find(([key]) => key === 'http.tokenFile')![1];
      assert.equal(fileAt(tokenFile)!.source, `secret/${credentials.name}`, label);
      assert.equal(fileAt(tokenFile)!.key, credentials.key, label);
    }
  }

  // KEDA scales this Deployment on this group's lag, at most one replica per partition.
  for (const scaled of of('ScaledObject')) {
    assert.equal(deployment.spec.replicas, undefined, `${label}: replicas are KEDA's`);
    assert.equal(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.equal(scaled.spec.triggers.length, 1);
    const trigger = scaled.spec.triggers[0];
    assert.equal(trigger.type, 'kafka');
    assert.equal(trigger.metadata.consumerGroup, config.kafka.groupId);
    if (config.kafka.topics.length === 1) assert.equal(trigger.metadata.topic, config.kafka.topics[0]);
    else assert.equal(trigger.metadata.topic, undefined, `${label}: several topics: the scaler sums the group's topics`);
    assert.equal(trigger.metadata.bootstrapServers, config.kafka.brokers.join(','));
    assert.equal(trigger.metadata.offsetResetPolicy, config.kafka.autoOffsetReset);
    assert.equal(trigger.metadata.allowIdleConsumers, 'false');
    assert.match(trigger.metadata.lagThreshold, /^\d+$/);
    const known = new Set(['bootstrapServers', 'consumerGroup', 'topic', 'lagThreshold', 'activationLagThreshold', 'offsetResetPolicy', 'allowIdleConsumers', 'scaleToZeroOnInvalidOffset', 'excludePersistentLag', 'limitToPartitionsWithLag', 'partitionLimitation', 'version', 'sasl', 'tls', 'unsafeSsl']);
    for (const key of Object.keys(trigger.metadata)) assert.ok(known.has(key), `unknown kafka scaler parameter ${key}`);
    const partitions = Number(scaled.metadata.annotations['kafka-to-elastic/topic-partitions']);
    assert.ok(Number.isInteger(partitions) && partitions > 0);
    assert.equal(scaled.spec.maxReplicaCount, partitions, 'maxReplicaCount is the partition count');
    assert.ok(scaled.spec.minReplicaCount >= 1 && scaled.spec.minReplicaCount <= scaled.spec.maxReplicaCount);
  }
  return { config, files, named };
}

/** The service parses its file with the yaml package too (YAML 1.2, its default). */
const loadYamlConfig = (text: string): Record<string, unknown> => parseYaml(text) as Record<string, unknown>;

/** A copy of a configuration object with every `*File` path passed through `move`. */
function movePaths(node: unknown, move: (p: string) => string): unknown {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return node;
  return Object.fromEntries(Object.entries(node as Record<string, unknown>).map(([k, v]) => [k, k.endsWith('File') && typeof v === 'string' ? move(v) : movePaths(v, move)]));
}
