// Command line of `npm run bench`: the benchmark's own flags, and everything else of the form
// `--key=value` (e.g. --batch.maxDocs=2000), which is passed to the service under test.
export const PHASES = ['sweep', 'after', 'kcat', 'consume', 'peer', 'steady', 'floor', 'naive'] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchArgs {
  quick: boolean;
  count: number;
  engine: string | undefined;
  /** Config flags for the service in every run, e.g. ["--batch.maxDocs=2000"]. */
  serviceFlags: string[];
  /** Extra service configurations to compare, each a list of flags added to serviceFlags. */
  variants: string[][];
  repeat: number;
  profile: boolean;
  skip: Set<Phase>;
  steadySeconds: number;
  /** Marker rate of the steady-state run; default half the measured catch-up rate. */
  rate: number | undefined;
  naiveCount: number;
  sweepSample: number;
  warmupDocs: number;
  compression: string;
  partitions: number;
}

export const USAGE = `npm run bench -- [--quick] [--count N] [--engine elasticsearch|opensearch] [--<config.key>=<value>...] [--node:<node option>...]
  [--variants "batch.maxDocs=2000 batch.maxInFlight=6; kafka.maxBytes=4194304"] [--repeat R] [--profile]
  [--skip ${PHASES.join(',')}] [--steady-seconds S] [--rate R] [--naive-count N] [--sample N] [--compression lz4|none|gzip|snappy|zstd]`;

const VALUE_FLAGS = new Set(['count', 'engine', 'variants', 'repeat', 'skip', 'steady-seconds', 'rate', 'naive-count', 'sample', 'warmup', 'compression', 'partitions']);
const BOOLEAN_FLAGS = new Set(['quick', 'profile', 'help']);

const toFlag = (spec: string): string => (spec.startsWith('--') ? spec : `--${spec}`);

function positiveInt(name: string, raw: string): number {
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} ${raw}: expected a positive integer`);
  return n;
}

export function parseArgs(argv: string[]): BenchArgs | 'help' {
  const values = new Map<string, string>();
  const serviceFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([^=]+)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new Error(`unexpected argument "${arg}"\n${USAGE}`);
    const [, name, inline] = m as unknown as [string, string, string | undefined];
    if (BOOLEAN_FLAGS.has(name)) values.set(name, 'true');
    else if (VALUE_FLAGS.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      values.set(name, value);
    } else if (inline !== undefined || name.startsWith('node:')) serviceFlags.push(arg);
    else throw new Error(`unknown flag ${arg} (service settings are passed as --key=value)\n${USAGE}`);
  }
  if (values.has('help')) return 'help';
  const quick = values.has('quick');
  const count = values.has('count') ? positiveInt('count', values.get('count')!) : quick ? 100_000 : 1_000_000;
  const skip = new Set<Phase>();
  for (const s of (values.get('skip') ?? '').split(',').filter(Boolean)) {
    if (!(PHASES as readonly string[]).includes(s)) throw new Error(`--skip ${s}: expected some of ${PHASES.join(',')}`);
    skip.add(s as Phase);
  }
  const variants = (values.get('variants') ?? '')
    .split(';')
    .map((v) => v.trim())
    .filter(Boolean)
    .map((v) => v.split(/[\s,]+/).filter(Boolean).map(toFlag));
  return {
    quick,
    count,
    engine: values.get('engine'),
    serviceFlags,
    variants,
    repeat: values.has('repeat') ? positiveInt('repeat', values.get('repeat')!) : 1,
    profile: values.has('profile'),
    skip,
    steadySeconds: values.has('steady-seconds') ? positiveInt('steady-seconds', values.get('steady-seconds')!) : 30,
    rate: values.has('rate') ? positiveInt('rate', values.get('rate')!) : undefined,
    naiveCount: Math.min(count, values.has('naive-count') ? positiveInt('naive-count', values.get('naive-count')!) : quick ? 5_000 : 20_000),
    sweepSample: Math.min(count, values.has('sample') ? positiveInt('sample', values.get('sample')!) : quick ? 100_000 : 200_000),
    warmupDocs: Math.min(count, values.has('warmup') ? positiveInt('warmup', values.get('warmup')!) : quick ? 100_000 : 200_000),
    compression: values.get('compression') ?? 'lz4',
    partitions: values.has('partitions') ? positiveInt('partitions', values.get('partitions')!) : 6,
  };
}
