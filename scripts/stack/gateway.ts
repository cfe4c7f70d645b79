// The local stack's TLS gateway (Debian's nginx, when installed): how many self-hosted clusters are
// exposed. HTTPS with the stack's CA, basic auth, the engines under path prefixes (/elasticsearch/,
// /opensearch/; `/` is the first engine, as on Elastic Cloud), a second port that requires client
// certificates, and simulated least-privilege accounts: what such a user may not call is answered
// 403 security_exception, as Elasticsearch's security answers it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import path from 'node:path';
import { certificatePaths, ensureCertificates } from './certificates.js';
import type { EngineName, StackLayout } from './layout.js';
import type { StackService } from './services.js';

/** Basic-auth users of the gateway; test credentials, not secrets. */
export const GATEWAY_USERS = {
  /** May do everything (the engines themselves run without security). */
  admin: { username: 'k2e-admin', password: 'k2e-local-admin-password' },
  /** Writes and views indices named lp-*: no cluster privileges, may not create indices. */
  writer: { username: 'k2e-writer', password: 'k2e-local-writer-password' },
  /** Only writes to lp-* (no view_index_metadata either). */
  bulkOnly: { username: 'k2e-bulk-only', password: 'k2e-local-bulk-password' },
} as const;
/** Index names the simulated least-privilege users may write to. */
export const LEAST_PRIVILEGE_INDEX_PREFIX = 'lp-';

/** An executable from PATH or the sbin folders Debian installs daemons into. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  return dirs.map((d) => path.join(d, name)).find((p) => p.startsWith('/') && existsSync(p));
}

export const gatewayPorts = (layout: StackLayout) => ({ tls: layout.gatewayPort, mtls: layout.gatewayPort + 1 });
/** One line per request: client, user, request line, status, X-Opaque-Id, client certificate subject. */
export const gatewayAccessLog = (layout: StackLayout): string => path.join(layout.home, 'gateway', 'logs', 'access.log');

export function gatewayService(layout: StackLayout, engines: { name: EngineName; url: string }[]): StackService {
  const dir = path.join(layout.home, 'gateway');
  const configFile = path.join(dir, 'nginx.conf');
  const logFile = path.join(layout.home, 'logs', 'gateway.log');
  const pidFile = path.join(layout.home, 'run', 'gateway.pid');
  const ports = gatewayPorts(layout);
  const address = `https://127.0.0.1:${ports.tls}`;
  return {
    name: 'gateway',
    address,
    logFile,
    pidFile,
    marker: configFile,
    dataDirs: [],
    prepare(log) {
      const nginx = findExecutable('nginx');
      if (!nginx) throw new Error('nginx is not installed (apt-get install nginx)');
      const certs = ensureCertificates(layout.home, log);
      for (const sub of ['tmp', 'logs']) mkdirSync(path.join(dir, sub), { recursive: true });
      // nginx's {PLAIN} scheme: no hashing tool needed for throwaway test users.
      writeFileSync(path.join(dir, 'htpasswd'), Object.values(GATEWAY_USERS).map((u) => `${u.username}:{PLAIN}${u.password}\n`).join(''));
      writeFileSync(configFile, nginxConfig(dir, ports, certs, engines));
      // Fails here, with nginx's own message, rather than as an unhealthy start.
      execFileSync(nginx, ['-t', '-q', '-p', dir, '-c', configFile, '-e', logFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      return { name: 'gateway', command: nginx, args: ['-p', dir, '-c', configFile, '-e', logFile], cwd: dir, pidFile, logFile, marker: configFile };
    },
    healthy: () => answersHttps(address, certificatePaths(layout.home).ca),
  };
}

function nginxConfig(dir: string, ports: { tls: number; mtls: number }, certs: ReturnType<typeof certificatePaths>, engines: { name: EngineName; url: string }[]): string {
  const prefixes = engines.map((e) => e.name).join('|');
  const lp = LEAST_PRIVILEGE_INDEX_PREFIX;
  const { writer, bulkOnly } = GATEWAY_USERS;
  // What each simulated account may call; the first matching regex wins, the catch-all comes last.
  const allowlist = [
    `"~^${writer.username} HEAD (/(${prefixes}))?/${lp}[^/?]+(\\?.*)?$" 0;`,
    `"~^(${writer.username}|${bulkOnly.username}) POST (/(${prefixes}))?/(${lp}[^/?]+/)?_bulk(\\?.*)?$" 0;`,
    `"~^(${writer.username}|${bulkOnly.username}) " 1;`,
  ];
  const denied = JSON.stringify({
    error: {
      root_cause: [{ type: 'security_exception', reason: 'action is unauthorized for user [$remote_user] (simulated least-privilege role)' }],
      type: 'security_exception',
      reason: `action [$request_method $uri] is unauthorized for user [$remote_user] with effective roles [$remote_user] (simulated: writes to ${lp}* only)`,
    },
    status: 403,
  });
  const locations = (auth: boolean): string =>
    [
      ...engines.map((e) => `    location /${e.name}/ {\n${proxied(e.url, auth)}    }\n`),
      `    location / {\n${proxied(engines[0]?.url ?? 'http://127.0.0.1:9200', auth)}    }\n`,
    ].join('');
  const proxied = (url: string, auth: boolean): string =>
    [
      ...(auth ? [`      if ($k2e_forbidden) { return 403 '${denied}'; }\n`] : []),
      `      proxy_pass ${url}/;\n`,
      '      proxy_set_header Authorization "";\n',
      '      proxy_http_version 1.1;\n',
      '      proxy_set_header Connection "";\n',
    ].join('');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return `# Written by \`npm run stack -- up\`: the TLS gateway in front of the stack's search engines.
daemon off;
worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
${root ? 'user root root;\n' : ''}events { worker_connections 512; }
http {
  # X-Opaque-Id is logged so tests can see the headers the service sends (elastic.headers).
  log_format k2e '$remote_addr $remote_user "$request" $status "$http_x_opaque_id" $ssl_client_s_dn';
  access_log ${path.join(dir, 'logs', 'access.log')} k2e;
  client_body_temp_path ${path.join(dir, 'tmp', 'body')};
  proxy_temp_path ${path.join(dir, 'tmp', 'proxy')};
  fastcgi_temp_path ${path.join(dir, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${path.join(dir, 'tmp', 'uwsgi')};
  scgi_temp_path ${path.join(dir, 'tmp', 'scgi')};
  client_max_body_size 200m;
  default_type application/json;
  ssl_certificate ${certs.serverCert};
  ssl_certificate_key ${certs.serverKey};
  map "$remote_user $request_method $request_uri" $k2e_forbidden {
    default 0;
    ${allowlist.join('\n    ')}
  }
  # HTTPS + basic auth (users in htpasswd).
  server {
    listen 127.0.0.1:${ports.tls} ssl;
    auth_basic "k2e gateway";
    auth_basic_user_file ${path.join(dir, 'htpasswd')};
${locations(true)}  }
  # HTTPS + client certificates signed by the stack's CA, no password.
  server {
    listen 127.0.0.1:${ports.mtls} ssl;
    ssl_client_certificate ${certs.ca};
    ssl_verify_client on;
${locations(false)}  }
}
`;
}

/** True when an HTTPS request to the URL gets any HTTP answer (401 included) over a verified TLS connection. */
function answersHttps(url: string, caFile: string): Promise<boolean> {
  if (!existsSync(caFile)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request(url, { ca: readFileSync(caFile), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
