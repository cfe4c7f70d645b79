// deploy/kubernetes: valid against the Kubernetes API schemas and KEDA's CRD models (offline, through
// scripts/deploy/validate_manifests.py; skipped with a message when its venv is missing), and
// consistent with each other and with the service: the mounted config loads with the service's own
// loader, probes hit /ready and /health on its port, the grace period outlasts shutdownTimeoutMs,
// secrets come from files of the mounted Secret, KEDA scales the service's group up to one replica
// per partition.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { repoRoot } from '../../scripts/stack/layout.js';

const dir = path.join(repoRoot, 'deploy', 'kubernetes');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are free-form YAML
type Manifest = Record<string, any>;
const resources: Manifest[] = files.flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS() as Manifest));
const byKind = (kind: string): Manifest => {
  const found = resources.filter((r) => r.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!;
};

const venvPython = path.join(process.env.K2E_TEST_DEPLOY_VENV ?? path.join(process.env.STACK_HOME ?? path.join(repoRoot, '.stack'), 'venv-deploy'), 'bin', 'python');
const validator = path.join(repoRoot, 'scripts', 'deploy', 'validate_manifests.py');
const skip = existsSync(venvPython) ? false : `the validators' venv is missing: bash scripts/deploy/setup-venv.sh (looked for ${venvPython})`;

interface Validation {
  kind: string;
  name: string;
  status: 'valid' | 'invalid' | 'unchecked';
  errors: string[];
  validator?: string;
}
const validate = (paths: string[]): { code: number | null; results: Validation[]; stderr: string } => {
  const run = spawnSync(venvPython, [validator, ...paths], { encoding: 'utf8' });
  return { code: run.status, results: run.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Validation), stderr: run.stderr };
};

const mib = (quantity: string): number => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  assert.ok(match, `memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
};

describe('Kubernetes manifests', () => {
  it('validate against the Kubernetes schemas (strict) and the KEDA CRD models', { skip }, () => {
    const { code, results, stderr } = validate(files.map((f) => path.join(dir, f)));
    assert.equal(code, 0, JSON.stringify(results, null, 2) + stderr);
    assert.deepEqual(results.map((r) => `${r.kind}/${r.status}`).sort(), ['ConfigMap/valid', 'Deployment/valid', 'PodDisruptionBudget/valid', 'ScaledObject/valid', 'Secret/valid']);
    assert.match(results.find((r) => r.kind === 'Deployment')!.validator!, /kubernetes-validate .* strict/);
    assert.equal(results.find((r) => r.kind === 'ScaledObject')!.validator, 'cloudcoil.models.keda');
  });

  it('the validators reject broken manifests (wrong types, unknown fields)', { skip }, () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'k2e-manifests-'));
    try {
      const deployment = structuredClone(byKind('Deployment'));
      deployment.spec.template.spec.containers[0].readinessProbe.periodSecond = 10;
      const scaled = structuredClone(byKind('ScaledObject'));
      scaled.spec.maxReplicaCont = scaled.spec.maxReplicaCount;
      scaled.spec.triggers[0].metadata.lagThreshold = 5000;
      const pdb = structuredClone(byKind('PodDisruptionBudget'));
      pdb.spec.maxUnavailable = [1];
      const file = path.join(tmp, 'broken.yaml');
      writeFileSync(file, [deployment, scaled, pdb].map((r) => JSON.stringify(r)).join('\n---\n'));
      const { code, results } = validate([file]);
      assert.equal(code, 1);
      assert.deepEqual(results.map((r) => `${r.kind}/${r.status}`), ['Deployment/invalid', 'ScaledObject/invalid', 'PodDisruptionBudget/invalid']);
      assert.match(results[0]!.errors.join('\n'), /periodSecond/);
      assert.match(results[1]!.errors.join('\n'), /spec\.maxReplicaCont: unknown field/);
      assert.match(results[1]!.errors.join('\n'), /lagThreshold: Input should be a valid string/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('are consistent with each other and with the service', () => {
    const configMap = byKind('ConfigMap');
    const secret = byKind('Secret');
    const deployment = byKind('Deployment');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    const env = new Map<string, string>(container.env.filter((e: Manifest) => e.value !== undefined).map((e: Manifest) => [e.name, e.value]));
    const mounts = new Map<string, Manifest>(container.volumeMounts.map((m: Manifest) => [m.name, m]));
    const volumes = new Map<string, Manifest>(pod.volumes.map((v: Manifest) => [v.name, v]));

    // The config file the pod reads is the ConfigMap's, and the service's loader accepts it.
    const configPath = env.get('K2E_CONFIG')!;
    const configVolume = [...mounts.values()].find((m) => configPath.startsWith(`${m.mountPath}/`))!;
    assert.equal(volumes.get(configVolume.name)!.configMap.name, configMap.metadata.name);
    const text = configMap.data[path.basename(configPath)] as string;
    const tmp = mkdtempSync(path.join(tmpdir(), 'k2e-configmap-'));
    let config: Config;
    try {
      writeFileSync(path.join(tmp, 'config.yaml'), text);
      config = loadConfig({ file: path.join(tmp, 'config.yaml'), env: {} });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }

    // Probes and the scrape annotation use the service's port and endpoints.
    assert.equal(container.ports[0].containerPort, config.http.port);
    assert.equal(container.readinessProbe.httpGet.path, '/ready');
    assert.equal(container.livenessProbe.httpGet.path, '/health');
    assert.equal(deployment.spec.template.metadata.annotations['prometheus.io/port'], String(config.http.port));
    // SIGTERM gets shutdownTimeoutMs plus a margin before the kubelet's SIGKILL.
    assert.ok(pod.terminationGracePeriodSeconds * 1000 >= config.shutdownTimeoutMs + 10_000, `grace ${pod.terminationGracePeriodSeconds} s vs shutdownTimeoutMs ${config.shutdownTimeoutMs}`);
    // Memory: above the measured peak RSS (255 MiB at maxHeapMb 128, docs/benchmarks.md) with headroom.
    assert.equal(config.maxHeapMb, 128);
    assert.ok(mib(container.resources.limits.memory) >= 320 && mib(container.resources.requests.memory) >= 256, JSON.stringify(container.resources));

    // Secrets: every *_FILE points into the mounted Secret, at a key it has; no secret in the env.
    const fileVars = [...env].filter(([name]) => name.endsWith('_FILE'));
    assert.ok(fileVars.length > 0);
    for (const [name, file] of fileVars) {
      const mount = [...mounts.values()].find((m) => file.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `${name}: ${file} is not under a mounted volume`);
      assert.equal(volumes.get(mount.name)!.secret.secretName, secret.metadata.name, name);
      assert.ok(path.basename(file) in secret.stringData, `${name}: the Secret has no key ${path.basename(file)}`);
    }
    assert.ok(!/password|apiKey/i.test(text.replace(/username/g, '')), 'no secret in the ConfigMap');

    // The PDB and the spread constraint select the pods.
    const labels = deployment.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(byKind('PodDisruptionBudget').spec.selector.matchLabels as Record<string, string>)) assert.equal(labels[k], v);
    assert.deepEqual(deployment.spec.selector.matchLabels, byKind('PodDisruptionBudget').spec.selector.matchLabels);

    // KEDA scales this Deployment on this group's lag, at most one replica per partition.
    const scaled = byKind('ScaledObject');
    assert.equal(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.equal(scaled.spec.triggers.length, 1);
    const trigger = scaled.spec.triggers[0];
    assert.equal(trigger.type, 'kafka');
    assert.equal(trigger.metadata.consumerGroup, config.kafka.groupId);
    assert.ok(config.kafka.topics.includes(trigger.metadata.topic));
    assert.equal(trigger.metadata.bootstrapServers, config.kafka.brokers.join(','));
    assert.equal(trigger.metadata.offsetResetPolicy, config.kafka.autoOffsetReset);
    assert.equal(trigger.metadata.allowIdleConsumers, 'false');
    assert.match(trigger.metadata.lagThreshold, /^\d+$/);
    const known = new Set(['bootstrapServers', 'consumerGroup', 'topic', 'lagThreshold', 'activationLagThreshold', 'offsetResetPolicy', 'allowIdleConsumers', 'scaleToZeroOnInvalidOffset', 'excludePersistentLag', 'limitToPartitionsWithLag', 'partitionLimitation', 'version', 'sasl', 'tls']);
    for (const key of Object.keys(trigger.metadata)) assert.ok(known.has(key), `unknown kafka scaler parameter ${key}`);
    const partitions = Number(scaled.metadata.annotations['kafka-to-elastic/topic-partitions']);
    assert.ok(Number.isInteger(partitions) && partitions > 0);
    assert.equal(scaled.spec.maxReplicaCount, partitions, 'maxReplicaCount is the partition count');
    assert.ok(scaled.spec.minReplicaCount >= 1 && scaled.spec.minReplicaCount <= scaled.spec.maxReplicaCount);

    // kustomization.yaml lists every manifest.
    assert.deepEqual((parse(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources.sort(), files);
  });
});
