// deploy/kubernetes (rendered from the Helm chart, test/unit/helm-chart.test.ts checks they still
// are): valid against the Kubernetes API schemas and KEDA's CRD models (offline, through
// scripts/deploy/validate_manifests.py; skipped with a message when its venv is missing), and
// consistent with each other and with the service (test/helpers/manifest-checks.ts): the pod's user
// can read every mounted file (the Secret: fsGroup), the mounted config loads with the service's own
// loader, probes hit /ready and /health on its port, the grace period outlasts shutdownTimeoutMs,
// secrets come from files of the mounted Secret, KEDA scales the service's group up to one replica
// per partition.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseManifests, plainDir } from '../../scripts/deploy/helm.js';
import { checkInstallation, validateFiles, validationSkip as skip, type Manifest } from '../helpers/manifest-checks.js';

const files = (parse(readFileSync(path.join(plainDir, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources;
const resources: Manifest[] = files.flatMap((f) => parseManifests(readFileSync(path.join(plainDir, f), 'utf8')));
const byKind = (kind: string): Manifest => {
  const found = resources.filter((r) => r.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!;
};

describe('Kubernetes manifests', () => {
  it('kustomization.yaml lists every manifest in the folder', () => {
    assert.deepEqual(readdirSync(plainDir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort(), files.slice().sort());
    assert.deepEqual(
      files.slice().sort(),
      ['configmap.yaml', 'deployment.yaml', 'pdb.yaml', 'scaledobject.yaml', 'secret.yaml', 'service.yaml', 'serviceaccount.yaml'],
    );
  });

  it('validate against the Kubernetes schemas (strict) and the KEDA CRD models', { skip }, () => {
    const { code, results, stderr } = validateFiles(files.map((f) => path.join(plainDir, f)));
    assert.equal(code, 0, JSON.stringify(results, null, 2) + stderr);
    assert.deepEqual(results.map((r) => `${r.kind}/${r.status}`).sort(), [
      'ConfigMap/valid',
      'Deployment/valid',
      'PodDisruptionBudget/valid',
      'ScaledObject/valid',
      'Secret/valid',
      'Service/valid',
      'ServiceAccount/valid',
    ]);
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
      const monitor = {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'm' },
        spec: { selector: {}, endpoints: [{ port: 'http', intervall: '30s' }] },
      };
      const file = path.join(tmp, 'broken.yaml');
      writeFileSync(file, [deployment, scaled, pdb, monitor].map((r) => JSON.stringify(r)).join('\n---\n'));
      const { code, results } = validateFiles([file]);
      assert.equal(code, 1);
      assert.deepEqual(results.map((r) => `${r.kind}/${r.status}`), ['Deployment/invalid', 'ScaledObject/invalid', 'PodDisruptionBudget/invalid', 'ServiceMonitor/invalid']);
      assert.match(results[0]!.errors.join('\n'), /periodSecond/);
      assert.match(results[1]!.errors.join('\n'), /spec\.maxReplicaCont: unknown field/);
      assert.match(results[1]!.errors.join('\n'), /lagThreshold: Input should be a valid string/);
      assert.match(results[3]!.errors.join('\n'), /spec\.endpoints\[0\]\.intervall: unknown field/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("are consistent with each other and with the service; the pod's user reads every mounted file", () => {
    const { config, files: podFiles, named } = checkInstallation(resources, 'deploy/kubernetes');
    assert.equal(config.maxHeapMb, 128);
    assert.equal(config.elastic.password, 'change-me', "the Secret's password, read from its file");
    assert.deepEqual(named, [['elastic.passwordFile', '/var/run/secrets/kafka-to-elastic/kafka-to-elastic-secrets/elastic.password']]);
    const secret = podFiles.find((f) => f.source === 'secret/kafka-to-elastic-secrets')!;
    assert.deepEqual([secret.mode, secret.uid, secret.gid, secret.readable], [0o440, 0, 1000, true]);
  });

  it('the same checks fail on the deployment.yaml of before issue 25 (its Secret unreadable for uid 1000)', () => {
    const before = parseManifests(readFileSync(path.join(plainDir, '..', '..', 'test', 'unit', 'fixtures', 'deployment-before-issue-25.yaml'), 'utf8'));
    const others = resources.filter((r) => r.kind !== 'Deployment');
    assert.throws(() => checkInstallation([...others, ...before], 'before issue 25'), /the pod's user cannot read \/var\/run\/secrets\/kafka-to-elastic\/elastic\.password \(secret\/kafka-to-elastic-secrets, 0400 0:0\): other bits of 0400/);
  });
});
