// The local stack's HTTP forward proxy (Debian's tinyproxy, when installed), with basic proxy
// authentication, so `elastic.proxy` is tested through a real proxy (CONNECT for HTTPS engines).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { findExecutable } from './gateway.js';
import type { StackLayout } from './layout.js';
import type { StackService } from './services.js';

/** The proxy's user; a test credential, not a secret. */
export const PROXY_TEST_USER = { username: 'k2e-proxy', password: 'k2e-local-proxy-password' } as const;

export function forwardProxyService(layout: StackLayout): StackService {
  const dir = path.join(layout.home, 'proxy');
  const configFile = path.join(dir, 'tinyproxy.conf');
  const logFile = path.join(layout.home, 'logs', 'proxy.log');
  const pidFile = path.join(layout.home, 'run', 'proxy.pid');
  const address = `http://127.0.0.1:${layout.proxyPort}`;
  return {
    name: 'proxy',
    address,
    logFile,
    pidFile,
    marker: configFile,
    dataDirs: [],
    prepare() {
      const tinyproxy = findExecutable('tinyproxy');
      if (!tinyproxy) throw new Error('tinyproxy is not installed (apt-get install tinyproxy)');
      mkdirSync(dir, { recursive: true });
      mkdirSync(path.dirname(logFile), { recursive: true });
      writeFileSync(
        configFile,
        [
          '# Written by `npm run stack -- up`: a forward proxy on loopback for elastic.proxy tests.',
          `Port ${layout.proxyPort}`,
          'Listen 127.0.0.1',
          'Allow 127.0.0.1',
          'Timeout 600',
          'MaxClients 64',
          // Each request is logged ("Connect (file descriptor N): ..."), so tests can see it passed here.
          'LogLevel Connect',
          `LogFile "${logFile}"`,
          'DisableViaHeader Yes',
          `BasicAuth ${PROXY_TEST_USER.username} ${PROXY_TEST_USER.password}`,
          '',
        ].join('\n'),
      );
      // -d: stay in the foreground, so the stack's process group is the proxy.
      return { name: 'proxy', command: tinyproxy, args: ['-d', '-c', configFile], cwd: dir, pidFile, logFile, marker: configFile };
    },
    healthy: () =>
      new Promise<boolean>((resolve) => {
        if (!existsSync(configFile)) return resolve(false);
        const socket = connect({ host: '127.0.0.1', port: layout.proxyPort });
        socket.setTimeout(2000, () => socket.destroy());
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
  };
}
