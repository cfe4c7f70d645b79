// `node dist/bench/profile-summary.js FILE.cpuprofile...`: where a profiled service spent its time
// (see bench/lib/profile.ts). `npm run bench -- --profile` writes such files and prints this summary.
import { formatSummary, summarizeProfile } from './lib/profile.js';

for (const file of process.argv.slice(2)) console.log(formatSummary(summarizeProfile(file, Number(process.env.TOP ?? 25))));
