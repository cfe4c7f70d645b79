// A minimal CONNECT proxy that sends every tunnel to 127.0.0.1 on the requested port, whatever the
// host: lets a test reach names that do not resolve here (an Elastic Cloud id's <id>.<host>) while
// TLS still verifies the real name. Records the targets it was asked for. With `auth`, a tunnel needs
// Proxy-Authorization: Basic with those credentials (407 otherwise), as a real proxy's users do.
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

export async function startConnectProxy(auth?: { username: string; password: string }): Promise<{ url: string; targets: string[]; refused: number; close(): Promise<void> }> {
  const targets: string[] = [];
  const counts = { refused: 0 };
  const expected = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    if (expected !== undefined && req.headers['proxy-authorization'] !== expected) {
      counts.refused++;
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const target = req.url ?? '';
    targets.push(target);
    const port = Number(target.slice(target.lastIndexOf(':') + 1));
    const upstream = connect({ host: '127.0.0.1', port }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    targets,
    get refused() {
      return counts.refused;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
