// External tools some tests drive (promtool, prometheus, a Python venv, kcat, Java): found on PATH or
// at a path, so a test can skip with a message naming what to install instead of failing; and run.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The executable's path on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** `skip` option for node:test: false when the tool exists, else the reason and how to get it. */
export const skipUnless = (tool: string | undefined, install: string): false | string => (tool ? false : `${install} (not installed here)`);

export interface RunningTool<T = string> {
  /** Resolves with stdout (or what is made of it) once the process exits 0; rejects with its output otherwise. */
  done: Promise<T>;
  /** SIGTERM: the tool shuts down as it would on Ctrl-C. */
  stop(): void;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Exit codes that count as success besides 0 (a JVM stopped by SIGTERM exits 143). */
  okExitCodes?: readonly number[];
}

/** Runs a tool with optional stdin, collecting its output; SIGKILLed after the timeout. */
export function runTool(command: string, args: readonly string[], options: RunOptions = {}): RunningTool {
  const child = spawn(command, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin!.end(options.input);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const done = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || (code !== null && options.okExitCodes?.includes(code))) resolve(stdout);
      else reject(new Error(`${path.basename(command)} ${args.join(' ').slice(0, 500)} exited ${code ?? signal}:\n${stdout.slice(-2000)}${stderr.slice(-4000)}`));
    });
  });
  return { done, stop: () => child.kill('SIGTERM') };
}
