// Helm for the chart in deploy/helm/kafka-to-elastic: the pinned binary (scripts/deploy/setup-helm.sh
// builds it from the Go module once and caches it), `helm template` and `helm lint`, and the rendered
// output split into its documents.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../stack/layout.js';

export const chartDir = path.join(repoRoot, 'deploy', 'helm', 'kafka-to-elastic');
/** The values the plain manifests in deploy/kubernetes are rendered with. */
export const plainValuesFile = path.join(repoRoot, 'deploy', 'helm', 'plain-manifests.values.yaml');
export const plainDir = path.join(repoRoot, 'deploy', 'kubernetes');

/**
 * The Helm binary, built on demand (minutes on a cold Go cache, then cached). `{ skip }` says why
 * there is none: Go is missing. A failed build throws (CI must not pass on a Helm it could not build).
 */
export function ensureHelm(): { helm: string } | { skip: string } {
  if (process.env.K2E_TEST_HELM) return { helm: process.env.K2E_TEST_HELM };
  const run = spawnSync('bash', [path.join(repoRoot, 'scripts', 'deploy', 'setup-helm.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status === 3) return { skip: 'Helm is not built and Go is missing (install Go, then bash scripts/deploy/setup-helm.sh)' };
  if (run.status !== 0) throw new Error(`scripts/deploy/setup-helm.sh failed (exit ${run.status ?? run.signal})`);
  return { helm: run.stdout.trim().split('\n').pop()! };
}

export interface HelmRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function helm(binary: string, args: string[]): HelmRun {
  // No user's Helm configuration or plugins: the chart alone decides the output.
  const home = path.join(repoRoot, '.stack', 'helm-home');
  const env = { ...process.env, HELM_CONFIG_HOME: path.join(home, 'config'), HELM_CACHE_HOME: path.join(home, 'cache'), HELM_DATA_HOME: path.join(home, 'data') };
  const run = spawnSync(binary, args, { encoding: 'utf8', env });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `helm template <release> <chart> -f ... --set ...`; throws with Helm's message on failure. */
export function template(binary: string, options: { release?: string; valuesFiles?: string[]; set?: string[] } = {}): string {
  const args = ['template', options.release ?? 'kafka-to-elastic', chartDir];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const s of options.set ?? []) args.push('--set', s);
  const run = helm(binary, args);
  if (run.code !== 0) throw new Error(`helm ${args.join(' ')}: exit ${run.code}\n${run.stderr}`);
  return run.stdout;
}

export interface RenderedDocument {
  /** The template it came from, e.g. `templates/deployment.yaml`. */
  source: string;
  /** The document's text as Helm wrote it, comments included. */
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are free-form YAML
  resource: Record<string, any>;
}

/** Kubernetes reads YAML 1.1 (`defaultMode: 0440` is octal there, decimal 440 in YAML 1.2). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are free-form YAML
export const parseManifests = (text: string): Record<string, any>[] =>
  parseAllDocuments(text, { version: '1.1' })
    .map((d) => d.toJS() as Record<string, unknown>)
    .filter((r) => r !== null && typeof r === 'object');

/** Helm's output split at its `# Source: <chart>/<template>` lines; empty documents dropped. */
export function splitRendered(output: string): RenderedDocument[] {
  return output
    .split(/^---\s*$/m)
    .map((chunk) => chunk.replace(/^\n+/, ''))
    .flatMap((chunk) => {
      const source = /^# Source: [^/]+\/(.+)$/m.exec(chunk)?.[1];
      const resources = parseManifests(chunk);
      if (!source || resources.length === 0) return [];
      return [{ source, text: chunk.replace(/^# Source: .*\n/m, '').replace(/\s*$/, '\n'), resource: resources[0]! }];
    });
}
