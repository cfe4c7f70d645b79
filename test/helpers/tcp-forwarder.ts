// Forwards a local TCP port to another address, started on demand: lets a test start the service
// "before the stack" (nothing listens on its ports yet) and bring the stack up later.
import { connect, createServer, type Server, type Socket } from 'node:net';

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function forwardPort(localPort: number, target: string): Promise<{ close(): Promise<void> }> {
  const { hostname, port } = new URL(target.includes('://') ? target : `tcp://${target}`);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: hostname, port: Number(port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(localPort, '127.0.0.1', resolve));
  return {
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
