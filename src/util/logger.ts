// The service's logger: pino, JSON lines on stdout. Writes are synchronous so that the last lines
// (a fatal error, "stopped cleanly") are never lost when the worker exits right after them.
import { pino, type Logger } from 'pino';
import prettyStream from 'pino-pretty';

export type { Logger };

export function createLogger(level: string, pretty = false): Logger {
  const options = { level, base: { service: 'kafka-to-elastic' } };
  // pino-pretty only when asked for (a terminal): JSON stays the tiny hot path.
  if (pretty) return pino(options, prettyStream({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  return pino(options, pino.destination({ dest: 1, sync: true }));
}
