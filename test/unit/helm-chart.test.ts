// The Helm chart (deploy/helm/kafka-to-elastic), with the pinned Helm built from its Go module
// (scripts/deploy/setup-helm.sh; on demand, once, then cached; skipped with a message without Go):
// `helm lint --strict` and `helm template` for each values combination in its ci/ folder (the
// defaults with only the required values; KEDA; a ServiceMonitor with a token; every kind of secret
// file), each rendering valid against the Kubernetes schemas and the KEDA / Prometheus Operator CRD
// models, and consistent with the service (test/helpers/manifest-checks.ts: above all, the pod's user
// can read every mounted secret file, and the configuration loads with the service's loader from the
// pod's view of its files). Wrong values fail at render time with the value's name; the plain
// manifests in deploy/kubernetes are the chart's rendering, byte for byte.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chartDir, ensureHelm, helm, parseManifests, splitRendered, template } from '../../scripts/deploy/helm.js';
import { renderPlainManifests, staleManifests } from '../../scripts/deploy/render-manifests.js';
import { checkInstallation, validateFiles, validationSkip, type Manifest, type Validation } from '../helpers/manifest-checks.js';

const found = ensureHelm();
const skip = 'skip' in found ? found.skip : false;
const binary = 'helm' in found ? found.helm : '';

const ciDir = path.join(chartDir, 'ci');
const combinations = readdirSync(ciDir).filter((f) => f.endsWith('-values.yaml')).sort();
const render = (valuesFile: string, set: string[] = []): Manifest[] => splitRendered(template(binary, { release: 'k2e', valuesFiles: [path.join(ciDir, valuesFile)], set })).map((d) => d.resource);
const renderError = (set: string[], valuesFile = 'minimal-values.yaml'): string => {
  try {
    render(valuesFile, set);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail(`rendered with ${set.join(' ')}`);
};
const kinds = (resources: Manifest[]): string[] => resources.map((r) => r.kind as string).sort();

describe('Helm chart', { skip }, () => {
  const rendered = new Map<string, Manifest[]>();
  let validations: Validation[] = [];
  let tmp = '';
  before(() => {
    for (const file of combinations) rendered.set(file, render(file));
    // One validator run for every combination (the CRD models take seconds to import).
    if (validationSkip) return;
    tmp = mkdtempSync(path.join(tmpdir(), 'k2e-chart-'));
    const paths = combinations.map((file) => {
      const p = path.join(tmp, file);
      writeFileSync(p, rendered.get(file)!.map((r) => JSON.stringify(r)).join('\n---\n'));
      return p;
    });
    validations = validateFiles(paths).results;
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the pinned Helm is v4.3.2', () => {
    assert.equal(helm(binary, ['version', '--template', '{{.Version}}']).stdout, 'v4.3.2');
  });

  it('has a values combination for the defaults, KEDA, the ServiceMonitor and secret files', () => {
    assert.deepEqual(combinations, ['keda-values.yaml', 'minimal-values.yaml', 'secrets-values.yaml', 'servicemonitor-values.yaml']);
  });

  for (const file of combinations) {
    it(`${file}: helm lint --strict passes`, () => {
      const run = helm(binary, ['lint', '--strict', chartDir, '--values', path.join(ciDir, file)]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    it(`${file}: every rendered resource is valid (Kubernetes schemas strict, KEDA and Prometheus Operator CRD models)`, { skip: validationSkip }, () => {
      const results = validations.filter((v) => v.file.endsWith(`/${file}`));
      assert.equal(results.length, rendered.get(file)!.length, JSON.stringify(validations));
      for (const r of results) assert.equal(r.status, 'valid', `${file}: ${r.kind}/${r.name}: ${r.errors.join('; ')}`);
    });

    it(`${file}: consistent with the service; the pod's user reads every mounted file`, () => {
      checkInstallation(rendered.get(file)!, file);
    });
  }

  it('the defaults: Deployment, ConfigMap, Service, ServiceAccount, PDB; no Secret, no KEDA, no ServiceMonitor', () => {
    const resources = rendered.get('minimal-values.yaml')!;
    assert.deepEqual(kinds(resources), ['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);
    const deployment = resources.find((r) => r.kind === 'Deployment')!;
    assert.equal(deployment.spec.replicas, 1);
    assert.deepEqual(deployment.spec.template.spec.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    assert.equal(deployment.spec.template.spec.containers[0].image, 'kafka-to-elastic:0.1.0');
    assert.equal(deployment.spec.template.spec.terminationGracePeriodSeconds, 45);
  });

  it('KEDA: the ScaledObject owns the replica count, up to keda.partitions', () => {
    const resources = rendered.get('keda-values.yaml')!;
    assert.ok(kinds(resources).includes('ScaledObject'));
    const scaled = resources.find((r) => r.kind === 'ScaledObject')!;
    assert.deepEqual([scaled.spec.minReplicaCount, scaled.spec.maxReplicaCount], [2, 12]);
    assert.deepEqual(scaled.spec.triggers[0].authenticationRef, { name: 'kafka-scaler-auth' });
    assert.equal(scaled.spec.triggers[0].metadata.sasl, 'scram_sha512');
    assert.match(renderError(['keda.enabled=true']), /keda\.partitions: required with keda\.enabled/);
  });

  it('the ServiceMonitor: its own job name, the Prometheus selector labels, the bearer token from the Secret', () => {
    const resources = rendered.get('servicemonitor-values.yaml')!;
    const monitor = resources.find((r) => r.kind === 'ServiceMonitor')!;
    const service = resources.find((r) => r.kind === 'Service')!;
    assert.equal(service.metadata.labels['kafka-to-elastic/job'], 'kafka-to-elastic-orders');
    assert.equal(monitor.metadata.labels.release, 'prometheus');
    assert.deepEqual(monitor.spec.endpoints[0].authorization, { type: 'Bearer', credentials: { name: 'k2e-kafka-to-elastic-secrets', key: 'http.token' } });
    assert.equal(service.spec.ports[0].port, 9464);
    const deployment = resources.find((r) => r.kind === 'Deployment')!;
    assert.match(deployment.spec.template.spec.containers[0].image, /^registry\.example\/kafka-to-elastic@sha256:/);
  });

  it('secret files: one read-only volume per Secret with only the keys named, mode 0440; inline ones in the chart\'s Secret', () => {
    const resources = rendered.get('secrets-values.yaml')!;
    const { config, files, named } = checkInstallation(resources, 'secrets-values.yaml');
    const secrets = files.filter((f) => f.source.startsWith('secret/'));
    assert.deepEqual(
      secrets.map((f) => `${f.source}:${f.key}`),
      [
        'secret/k2e-kafka-to-elastic-secrets:elastic.password',
        'secret/k2e-kafka-to-elastic-secrets:kafka.tls.passphrase',
        'secret/kafka-client-tls:ca.crt',
        'secret/kafka-client-tls:tls.crt',
        'secret/kafka-client-tls:tls.key',
        'secret/kafka-credentials:password',
        'secret/registry-credentials:password',
        'secret/search-ca:ca.crt',
      ],
    );
    for (const f of secrets) assert.deepEqual([f.mode, f.uid, f.gid, f.readable], [0o440, 0, 1000, true], f.path);
    assert.equal(named.length, 8);
    // Read from the pod's files: inline values as given, existing Secrets' placeholders.
    assert.equal(config.elastic.password, 'search-password');
    assert.equal((config.kafka.tls as { passphrase?: string }).passphrase, 'key-passphrase');
    assert.equal((config.kafka.sasl as { password?: string }).password, 'placeholder-of-secret-kafka-credentials-password');
    const secret = resources.find((r) => r.kind === 'Secret')!;
    assert.deepEqual(secret.stringData, { 'elastic.password': 'search-password', 'kafka.tls.passphrase': 'key-passphrase' });
    // A changed inline secret rolls the pods.
    const checksum = (rs: Manifest[]): string => rs.find((r) => r.kind === 'Deployment')!.spec.template.metadata.annotations['checksum/secret'];
    assert.notEqual(checksum(render('secrets-values.yaml', ['secretFiles.elastic\\.passwordFile.value=other'])), checksum(resources));
  });

  it('without fsGroup the check fails: the mounted secret files are root:root 0440', () => {
    const resources = render('secrets-values.yaml', ['podSecurityContext.fsGroup=null']);
    assert.equal(resources.find((r) => r.kind === 'Deployment')!.spec.template.spec.securityContext.fsGroup, undefined);
    assert.throws(() => checkInstallation(resources, 'no fsGroup'), /the pod's user cannot read \/var\/run\/secrets\/kafka-to-elastic\/k2e-kafka-to-elastic-secrets\/elastic\.password \(secret\/k2e-kafka-to-elastic-secrets, 0440 0:0\): other bits of 0440/);
  });

  it('refuses wrong values at render time, naming the value', () => {
    assert.match(renderError(['kafka.brokers=null']), /kafka\.brokers: required/);
    assert.match(renderError(['kafka.groupId=']), /kafka\.groupId: required/);
    assert.match(renderError(['kafka.topics=null']), /kafka\.topics: required \(or config\.kafka\.topicPattern\)/);
    assert.match(renderError(['elastic.url=']), /elastic\.url: required/);
    // Secrets never go into the ConfigMap.
    assert.match(renderError(['config.elastic.password=hunter2']), /config\.elastic\.password: secrets do not go into the configuration file .*secretFiles\."elastic\.passwordFile"/);
    assert.match(renderError(['config.http.token=0123456789abcdef0']), /config\.http\.token: secrets do not go/);
    // values.schema.json: typos and wrong shapes.
    assert.match(renderError(['kafka.topic=orders']), /additional properties 'topic' not allowed/);
    assert.match(renderError(['secretFiles.elastic\\.password.value=x']), /'elastic\.password' does not match pattern/);
    assert.match(renderError(['secretFiles.elastic\\.passwordFile.secretName=s']), /at '\/secretFiles\/elastic\.passwordFile': missing property 'key'/);
    assert.match(renderError(['config.kafka.tls=true', 'secretFiles.kafka\\.tls\\.caFile.secretName=ca', 'secretFiles.kafka\\.tls\\.caFile.key=ca.crt']), /secretFiles\.kafka\.tls\.caFile: config sets tls to true/);
  });

  it('config.kafka.topicPattern instead of topics', () => {
    const resources = render('minimal-values.yaml', ['kafka.topics=null', 'config.kafka.topicPattern=orders-.*']);
    const { config } = checkInstallation(resources, 'topicPattern');
    assert.deepEqual([config.kafka.topics, config.kafka.topicPattern], [[], 'orders-.*']);
  });

  it('deploy/kubernetes is the rendering of the chart with deploy/helm/plain-manifests.values.yaml', () => {
    const plain = renderPlainManifests(binary);
    assert.deepEqual(staleManifests(plain), [], 'run node dist/scripts/deploy/render-manifests.js');
    // Applied without Helm: no Helm labels.
    for (const [name, text] of plain) {
      if (name === 'kustomization.yaml') continue;
      for (const r of parseManifests(text)) assert.equal(r.metadata.labels['app.kubernetes.io/managed-by'], undefined, name);
    }
  });
});
