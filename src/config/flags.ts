// Configuration flags as name/value pairs (the CLI's strict parser hands them over as --key=value;
// the loader's own callers and tests may use the other forms): `--name value`, `--name=value`, and a bare `--name` is "true".
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
