// Finds a Java runtime of at least a given major version: JAVA_HOME first, then `java` on PATH,
// then every JDK under /usr/lib/jvm. Kafka runs on 17; the search engines need 21+.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

function majorVersionOf(javaBin: string): number | undefined {
  // `java -version` prints to stderr; its first line holds the quoted version.
  const result = spawnSync(javaBin, ['-version'], { encoding: 'utf8' });
  return result.status === 0 ? parseJavaMajor(result.stderr) : undefined;
}

export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(versionOutput);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first; // "1.8.0" means Java 8
}

function candidates(): string[] {
  const list: string[] = [];
  if (process.env.JAVA_HOME) list.push(path.join(process.env.JAVA_HOME, 'bin', 'java'));
  list.push('java');
  const jvmDir = '/usr/lib/jvm';
  if (existsSync(jvmDir)) {
    for (const entry of readdirSync(jvmDir).sort().reverse()) list.push(path.join(jvmDir, entry, 'bin', 'java'));
  }
  return list;
}

export function findJava(minMajor: number): string {
  const seen: string[] = [];
  for (const bin of candidates()) {
    if (bin !== 'java' && !existsSync(bin)) continue;
    const major = majorVersionOf(bin);
    seen.push(`${bin} (${major ?? 'unknown'})`);
    if (major !== undefined && major >= minMajor) return bin;
  }
  throw new Error(`No Java >= ${minMajor} found. Set JAVA_HOME to a JDK ${minMajor}+. Tried: ${seen.join(', ')}`);
}
