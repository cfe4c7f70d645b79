// Starts test/helpers/sigv4_verify_proxy.py: botocore checks every request's SigV4 signature before
// it is forwarded to the search engine (an independent implementation of what the service signs with).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from '../../scripts/stack/layout.js';

export interface SigV4Stats {
  verified: number;
  refused: number;
  last_failure: string | null;
  services: string[];
}

export interface SigV4Proxy {
  url: string;
  stats(): Promise<SigV4Stats>;
  close(): Promise<void>;
}

export const AWS_TEST_CREDENTIALS = {
  accessKeyId: 'AKIDK2ETESTEXAMPLE',
  secretAccessKey: 'k2e/local/test/secret/key/EXAMPLEKEY',
  sessionToken: 'k2e-local-session-token',
} as const;

/** Why botocore cannot be used here, or undefined when it can. */
export function botocoreMissing(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import botocore'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `python3 with botocore is not available (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()})`;
}

export async function startSigV4Proxy(upstream: string, region: string, service: string): Promise<SigV4Proxy> {
  const child: ChildProcess = spawn(
    'python3',
    [
      path.join(repoRoot, 'test', 'helpers', 'sigv4_verify_proxy.py'),
      '--upstream', upstream,
      '--region', region,
      '--service', service,
      '--access-key', AWS_TEST_CREDENTIALS.accessKeyId,
      '--secret-key', AWS_TEST_CREDENTIALS.secretAccessKey,
      '--session-token', AWS_TEST_CREDENTIALS.sessionToken,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  const { port } = JSON.parse(first) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await (await fetch(`${url}/__sigv4_stats`)).json()) as SigV4Stats,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}
