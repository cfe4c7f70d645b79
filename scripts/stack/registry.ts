// The schema registry of the local stack: Apicurio Registry 3.3.3 (Confluent-compatible API under
// /apis/ccompat/v7) from Maven Central's `all` tar.gz (~160 MB, fetched once), in-memory storage,
// HTTP and management ports on 127.0.0.1 only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findJava } from './java.js';
import type { StackLayout } from './layout.js';
import type { StackService } from './services.js';

export const APICURIO_VERSION = '3.3.3';
export const CCOMPAT_PATH = '/apis/ccompat/v7';

export function registryService(layout: StackLayout): StackService {
  const dir = path.join(layout.home, 'registry');
  const app = path.join(dir, 'app');
  const logFile = path.join(layout.home, 'logs', 'registry.log');
  const pidFile = path.join(layout.home, 'run', 'registry.pid');
  const url = `http://127.0.0.1:${layout.registryPort}${CCOMPAT_PATH}`;
  return {
    name: 'registry',
    address: url,
    logFile,
    pidFile,
    marker: `-Dquarkus.http.port=${layout.registryPort}`,
    dataDirs: [], // in-memory storage: nothing to wipe
    prepare(log) {
      const marker = path.join(app, '.extracted');
      if (!existsSync(marker)) {
        log(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central (~160 MB, once)`);
        const download = path.join(dir, 'download');
        execFileSync('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`, `-DoutputDirectory=${download}`], {
          stdio: ['ignore', 'inherit', 'inherit'],
        });
        rmSync(app, { recursive: true, force: true });
        mkdirSync(app, { recursive: true });
        execFileSync('tar', ['xzf', path.join(download, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`), '-C', app]);
        rmSync(download, { recursive: true, force: true });
        writeFileSync(marker, APICURIO_VERSION);
      }
      return {
        name: 'registry',
        command: findJava(21),
        args: [
          '-Xmx256m',
          `-Dquarkus.http.port=${layout.registryPort}`,
          '-Dquarkus.http.host=127.0.0.1',
          // Its management interface listens on 0.0.0.0:9000 by default and cannot be disabled at
          // run time: keep it on loopback, on a free port.
          '-Dquarkus.management.host=127.0.0.1',
          '-Dquarkus.management.port=0',
          '-jar',
          path.join(app, 'quarkus-run.jar'),
        ],
        cwd: app,
        pidFile,
        logFile,
        marker: `-Dquarkus.http.port=${layout.registryPort}`,
      };
    },
    async healthy() {
      try {
        return (await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) })).ok;
      } catch {
        return false;
      }
    },
  };
}
