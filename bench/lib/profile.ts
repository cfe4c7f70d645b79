// Summarizes V8 .cpuprofile files (node --cpu-prof): where the time went, by owner (the package or
// service folder whose code is on the stack: builtins and node internals count for their caller) and
// by function (self time).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  file: string;
  sampledSeconds: number;
  /** Share of the sampled time, by owner (idle, gc and program included). */
  owners: { owner: string; share: number; seconds: number }[];
  /** Functions with the most self time. */
  functions: { name: string; owner: string; share: number; seconds: number }[];
}

/** Who a frame belongs to, or undefined for builtins and node internals (they count for their caller). */
function ownerOf(url: string, functionName: string): string | undefined {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'program (VM, native)';
    return undefined;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  const service = /\/dist\/src\/([^/]+)\//.exec(url);
  if (service) return `service ${service[1]}/`;
  const other = /\/dist\/([^/]+)\//.exec(url);
  if (other) return `dist ${other[1]}/`;
  return undefined; // node:internal/..., builtins
}

function shortName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, '').replace(/^file:\/\//, '');
  return `${functionName || '(anonymous)'} ${file}${file ? `:${lineNumber + 1}` : ''}`;
}

/**
 * @param window only samples within [from, to] (CLOCK_MONOTONIC µs, the clock of V8 profiles on Linux),
 *   e.g. the catch-up without start-up and shutdown
 */
export function summarizeProfile(file: string, top = 20, window?: [number, number]): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owners = new Map<number, string>();
  const resolveOwner = (id: number): string => {
    const known = owners.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const own = ownerOf(node.callFrame.url, node.callFrame.functionName);
    const up = parent.get(id);
    const owner = own ?? (up === undefined ? 'node internals' : resolveOwner(up));
    owners.set(id, owner === '(root)' ? 'node internals' : owner);
    return owners.get(id)!;
  };
  const selfByNode = new Map<number, number>();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (window && (at < window[0] || at > window[1])) continue;
    total += dt;
    selfByNode.set(profile.samples[i]!, (selfByNode.get(profile.samples[i]!) ?? 0) + dt);
  }
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, { owner: string; us: number }>();
  for (const [id, us] of selfByNode) {
    const owner = resolveOwner(id);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
    const name = shortName(byId.get(id)!);
    const f = byFunction.get(name) ?? { owner, us: 0 };
    f.us += us;
    byFunction.set(name, f);
  }
  return {
    file,
    sampledSeconds: total / 1e6,
    owners: [...byOwner].sort((a, b) => b[1] - a[1]).map(([owner, us]) => ({ owner, share: us / total, seconds: us / 1e6 })),
    functions: [...byFunction]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([name, f]) => ({ name, owner: f.owner, share: f.us / total, seconds: f.us / 1e6 })),
  };
}

export function formatSummary(s: ProfileSummary): string {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`.padStart(6);
  const lines = [`${s.file}: ${s.sampledSeconds.toFixed(1)} s sampled`, '  by owner (builtins and node internals count for their caller):'];
  for (const o of s.owners) if (o.share >= 0.005) lines.push(`    ${pct(o.share)}  ${o.owner}`);
  lines.push('  top functions (self time):');
  for (const f of s.functions) lines.push(`    ${pct(f.share)}  ${f.name}  [${f.owner}]`);
  return lines.join('\n');
}
