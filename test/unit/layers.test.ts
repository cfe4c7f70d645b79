// The folders of src/ import only downward: a folder may import a folder of a lower floor, never one of
// its own floor or above. So there is no circle between folders and no pair importing each other,
// and a new import that breaks the order fails here, naming the file. The floors follow the data:
// the ground (util, config), the source and the sink, the stages between them, the pipeline that
// wires them, and what runs around it (http, the service, the commands).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../scripts/stack/layout.js';

const FLOORS: readonly (readonly string[])[] = [
  ['util'],
  ['config'],
  ['metrics', 'source', 'sink'],
  ['decode', 'admin', 'dead-letter'],
  ['transform', 'offsets', 'health'],
  ['setup'],
  ['pipeline'],
  ['http'],
  ['service'],
  ['dead-letter-admin', 'workers'],
  ['cli'],
];
const floorOf = new Map(FLOORS.flatMap((folders, floor) => folders.map((f) => [f, floor] as const)));
const src = path.join(repoRoot, 'src');

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'node_modules') yield* sourceFiles(full);
    } else if (/\.(ts|mjs)$/.test(entry.name)) yield full;
  }
}

/** Relative imports (static, type-only, re-exports and import()) of a file. */
function importSpecs(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/gm)].map((m) => m[1] ?? m[2]!);
}

/** The folders of src/ a file's imports reach. */
function importedFolders(file: string): { folder: string; spec: string }[] {
  return importSpecs(file).flatMap((spec) => {
    const target = path.relative(src, path.resolve(path.dirname(file), spec));
    const folder = target.split(path.sep)[0]!;
    return target.startsWith('..') || !target.includes(path.sep) ? [] : [{ folder, spec }];
  });
}

describe('the layout of src/', () => {
  it('every folder has a floor', () => {
    const folders = readdirSync(src, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    assert.deepEqual(folders.filter((f) => !floorOf.has(f)), [], 'a new folder: give it a floor in FLOORS');
  });

  it('folders import only from lower floors', () => {
    const wrong: string[] = [];
    for (const file of sourceFiles(src)) {
      const from = path.relative(src, file).split(path.sep)[0]!;
      const floor = floorOf.get(from);
      if (floor === undefined) continue;
      for (const { folder, spec } of importedFolders(file)) {
        if (folder === from) continue;
        const target = floorOf.get(folder);
        if (target === undefined || target >= floor) wrong.push(`${path.relative(repoRoot, file)} imports ${spec} (${from}, floor ${floor} → ${folder}, floor ${target})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('no file imports itself through others (no circle, type-only imports included)', () => {
    const graph = new Map<string, string[]>();
    for (const file of sourceFiles(src)) graph.set(file, importSpecs(file).map((spec) => path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts')));
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, trail: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(src, f)).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    assert.deepEqual(circles, []);
  });

  it('src/, bench/ and scripts/ import nothing from test/ (tests depend on them, not the other way)', () => {
    const wrong: string[] = [];
    for (const top of ['src', 'bench', 'scripts']) {
      for (const file of sourceFiles(path.join(repoRoot, top))) {
        for (const spec of importSpecs(file)) {
          if (path.relative(repoRoot, path.resolve(path.dirname(file), spec)).split(path.sep)[0] === 'test') wrong.push(`${path.relative(repoRoot, file)} imports ${spec}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});
