// The service's logger: pino, JSON lines on stdout. Writes are synchronous so that the last lines
// (a fatal error, "stopped cleanly") are never lost when the worker exits right after them.
// Secrets never reach a line: fields named like credentials are censored by pino's redaction, and
// every finished line passes the configuration's redactor (known secret values, URL user information),
// whatever field or message they hide in (an error from a client library quoting a URL, say).
import { pino, type Logger, type LoggerOptions } from 'pino';
import prettyStream from 'pino-pretty';
import { MASK, type Redactor } from './redact.js';

export type { Logger };

/** Fields censored wherever a log call passes them (one level deep, and in errors' own fields). */
const REDACT_PATHS = ['password', 'token', 'apiKey', 'passphrase', 'authorization', 'headers.authorization', 'headers.cookie', '*.password', '*.token', '*.apiKey', '*.passphrase', '*.authorization'];

/**
 * Whether colour may be written to this stream: a terminal, and NO_COLOR (no-color.org) not set.
 * Decided in the main thread: a worker thread's stdout is never a TTY.
 */
export function colorOutput(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

/** @param color ANSI colours in the pretty format (see colorOutput); JSON lines never carry any. */
export function createLogger(level: string, pretty = false, redactor?: Redactor, color = false): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'kafka-to-elastic' },
    redact: { paths: REDACT_PATHS, censor: MASK },
    // The line as written (JSON, before pino-pretty formats it): one pass over the finished text.
    ...(redactor ? { hooks: { streamWrite: (line: string) => redactor.redact(line) } } : {}),
  };
  // pino-pretty only when asked for (a terminal): JSON stays the tiny hot path.
  if (pretty) return pino(options, prettyStream({ sync: true, colorize: color, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  return pino(options, pino.destination({ dest: 1, sync: true }));
}
