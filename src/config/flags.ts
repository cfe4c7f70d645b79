// Command-line flags as name/value pairs: `--name value`, `--name=value`, and a bare `--name` is "true".
export function parseFlags(argv: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) pairs.push([arg.slice(2, eq), arg.slice(eq + 1)]);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) pairs.push([arg.slice(2), argv[++i]!]);
    else pairs.push([arg.slice(2), 'true']);
  }
  return pairs;
}

/** The flags the config loader reads: everything but a command's own options (and their values). */
export function configFlags(argv: readonly string[], own: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.replace(/^--/, '').split('=')[0]!;
    const takesNext = !argv[i]!.includes('=') && i + 1 < argv.length && !argv[i + 1]!.startsWith('--');
    if (own.includes(name)) {
      if (takesNext) i++;
      continue;
    }
    out.push(argv[i]!);
  }
  return out;
}
