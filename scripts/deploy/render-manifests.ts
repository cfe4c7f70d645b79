// Renders deploy/kubernetes (plain manifests for `kubectl apply -k`) from the Helm chart with
// deploy/helm/plain-manifests.values.yaml, one file per template, and their kustomization.yaml. The
// chart is the one source: a test fails when the committed files differ from a fresh rendering.
//   usage: node dist/scripts/deploy/render-manifests.js [--check]
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureHelm, plainDir, plainValuesFile, splitRendered, template } from './helm.js';
import { repoRoot } from '../stack/layout.js';

const relative = (p: string): string => path.relative(repoRoot, p);

/** File name -> content of every plain manifest, kustomization.yaml included. */
export function renderPlainManifests(helm: string): Map<string, string> {
  const documents = splitRendered(template(helm, { release: 'kafka-to-elastic', valuesFiles: [plainValuesFile] }));
  const files = new Map<string, string>();
  for (const doc of documents) {
    const name = path.basename(doc.source);
    const header = `# Rendered from the Helm chart ${relative(path.dirname(plainValuesFile))}/kafka-to-elastic (${doc.source}) with\n# ${relative(plainValuesFile)}: change those, then node dist/scripts/deploy/render-manifests.js\n`;
    files.set(name, (files.get(name) ?? '') + (files.has(name) ? '---\n' : header) + doc.text);
  }
  const names = [...files.keys()].sort();
  files.set(
    'kustomization.yaml',
    `# kubectl apply -k ${relative(plainDir)} (the ScaledObject needs KEDA installed in the cluster). Rendered with the\n# manifests by node dist/scripts/deploy/render-manifests.js.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${names.map((n) => `  - ${n}\n`).join('')}`,
  );
  return files;
}

/** Committed files that differ from the rendering, are missing or are left over. */
export function staleManifests(rendered: Map<string, string>): string[] {
  const committed = readdirSync(plainDir).filter((f) => f.endsWith('.yaml'));
  const stale = [...rendered].filter(([name, text]) => !committed.includes(name) || readFileSync(path.join(plainDir, name), 'utf8') !== text).map(([name]) => name);
  return [...stale, ...committed.filter((name) => !rendered.has(name))].sort();
}

function main(): void {
  const found = ensureHelm();
  if ('skip' in found) {
    console.error(found.skip);
    process.exit(2);
  }
  const rendered = renderPlainManifests(found.helm);
  const stale = staleManifests(rendered);
  if (process.argv.includes('--check')) {
    if (stale.length > 0) {
      console.error(`${relative(plainDir)} differs from the chart's rendering: ${stale.join(', ')} (run node dist/scripts/deploy/render-manifests.js)`);
      process.exit(1);
    }
    return;
  }
  for (const name of readdirSync(plainDir).filter((f) => f.endsWith('.yaml') && !rendered.has(f))) rmSync(path.join(plainDir, name));
  for (const [name, text] of rendered) writeFileSync(path.join(plainDir, name), text);
  console.log(stale.length > 0 ? `rendered ${stale.join(', ')} in ${relative(plainDir)}` : `${relative(plainDir)} is up to date`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
