// The service's logger: pino, JSON lines on stdout. Writes are synchronous so that the last lines
// (a fatal error, "stopped cleanly") are never lost when the worker exits right after them.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'kafka-to-elastic' } }, pino.destination({ dest: 1, sync: true }));
}
