// The operator documentation links into itself, the manifests and the rules: every relative link of
// README.md and docs/*.md points at a file that exists, and every #anchor at a heading that exists.
// And no command in it fetches the package by name from the npm registry, where it is not published.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';
import { markdownAnchors } from '../helpers/promql.js';

const documents = ['README.md', ...readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => path.join('docs', f))];

describe('documentation links', () => {
  it('every relative link and anchor resolves', () => {
    const broken: string[] = [];
    for (const doc of documents) {
      const text = readFileSync(path.join(repoRoot, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // http:, mailto:
        const [file, anchor] = target!.split('#') as [string, string | undefined];
        const resolved = file === '' ? path.join(repoRoot, doc) : path.resolve(path.dirname(path.join(repoRoot, doc)), file);
        if (!existsSync(resolved)) broken.push(`${doc}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith('.md') && !markdownAnchors(readFileSync(resolved, 'utf8').replace(/```[\s\S]*?```/g, '')).has(anchor)) broken.push(`${doc}: ${target} (no such heading)`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('no command resolves the unpublished package name from the npm registry', () => {
    const files = [...documents, 'DEVELOPERS.md', ...readdirSync(path.join(repoRoot, 'examples'), { recursive: true, encoding: 'utf8' }).map((f) => path.join('examples', f))];
    const byName = [/\bnpx\s+(?:-\S+\s+)*kafka-to-elastic\b/, /\bnpm\s+(?:i|install|add|exec|x)\s+(?:-\S+\s+)*kafka-to-elastic(?:@\S*)?(?=[\s`'"]|$)/];
    const found: string[] = [];
    for (const file of files) {
      const full = path.join(repoRoot, file);
      if (!file.match(/\.(md|ya?ml|json|txt)$/) || !existsSync(full)) continue;
      readFileSync(full, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (byName.some((re) => re.test(line))) found.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    assert.deepEqual(found, [], 'install from the tarball or git (README, "Installing it"), never by the bare name');
  });
});
