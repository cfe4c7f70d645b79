// Resolves a pom's dependencies into a folder once; a marker file holding the pom's content makes
// later calls free (no network) until the pom changes.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function resolveJars(pomFile: string, libDir: string, log: (line: string) => void): void {
  const marker = path.join(libDir, '.resolved-from-pom');
  const pom = readFileSync(pomFile, 'utf8');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === pom) return;
  log(`resolving ${path.relative(process.cwd(), pomFile)} from Maven Central into ${libDir}`);
  rmSync(libDir, { recursive: true, force: true });
  mkdirSync(libDir, { recursive: true });
  execFileSync('mvn', ['-q', '-B', '-f', pomFile, 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  writeFileSync(marker, pom);
}
