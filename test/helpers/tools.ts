// External tools some tests drive (promtool, prometheus, a Python venv): found on PATH or at a path,
// so a test can skip with a message naming what to install instead of failing.
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
