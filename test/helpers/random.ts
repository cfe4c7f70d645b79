// Seeded choices for tests. Every choice a test makes at random (which member to kill, when, in which
// order) comes from one of these generators, so a failing run can be replayed: the seed is printed,
// and K2E_TEST_SEED=<seed> (CHURN_SEED for the churn test, FC_SEED for fast-check) makes the same
// choices again. Only the choices: timing on a shared machine still differs between runs.

/** A small deterministic generator (mulberry32: 32 bits of state, good enough to pick test cases). */
export interface SeededRandom {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** One of `items` (not empty). */
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy of `items` (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)]!;
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

/** Drawn once per process, so every generator of one test file shares it and one variable replays all. */
const processSeed = Math.floor(Math.random() * 2 ** 31);
const printed = new Set<string>();

/**
 * The seed for `label`: the first of `envNames` that is set, else this process's random one. It is
 * printed (once per label) with the variable that replays it.
 */
export function testSeed(label: string, envNames: readonly string[] = ['K2E_TEST_SEED']): number {
  const name = envNames.find((n) => (process.env[n] ?? '') !== '');
  const seed = name === undefined ? processSeed : Number(process.env[name]);
  if (!Number.isSafeInteger(seed)) throw new Error(`${name}=${process.env[name!]} is not a seed: give an integer`);
  const line = `${label}: seed ${seed} (replay with ${name ?? envNames[0]}=${seed})`;
  if (!printed.has(line)) {
    printed.add(line);
    console.log(line);
  }
  return seed;
}

/** A generator seeded by testSeed(label, envNames). */
export function testRandom(label: string, envNames?: readonly string[]): SeededRandom {
  return seededRandom(testSeed(label, envNames));
}
