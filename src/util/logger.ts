// The service's logger: pino, JSON lines on stdout.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'kafka-to-elastic' } });
}
