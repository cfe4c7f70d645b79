// "did you mean …?" for a mistyped command, option, configuration key or environment variable: the
// closest known name by edit distance (fastest-levenshtein), when it is close enough to be a typo.
import { distance } from 'fastest-levenshtein';

/** The known name closest to `given`, or undefined when none is within a typo's reach. */
function closestName(given: string, known: Iterable<string>): string | undefined {
  const lower = given.toLowerCase();
  // A third of the length, at least 2 edits (short names: K2E_BROKER → K2E_BROKERS, grupId → groupId).
  const reach = Math.max(2, Math.floor(given.length / 3));
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = distance(lower, name.toLowerCase());
    if (d <= reach && (best === undefined || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** " (did you mean X?)", or "" when nothing is close. */
export function didYouMean(given: string, known: Iterable<string>, shown: (name: string) => string = (n) => n): string {
  const name = closestName(given, known);
  return name === undefined ? '' : ` (did you mean ${shown(name)}?)`;
}
