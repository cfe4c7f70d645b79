// How many group members `workers` asks for. `auto` counts the cores this process may really use:
// os.availableParallelism() sees the CPU affinity mask (cpusets) but not a container's CPU quota
// (Kubernetes `limits.cpu`), which only cgroups tell, so the smaller of the two wins. The cap of 8
// keeps the per-member cost (connections, buffers, a V8 heap each) bounded on very large hosts;
// members beyond the partition count would only stand by anyway.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export const AUTO_MAX_WORKERS = 8;

/** CPUs allowed by a cgroup v2 `cpu.max` ("<quota> <period>" or "max <period>"); undefined when unlimited or unreadable. */
export function cgroupCpuLimit(cpuMax: string | undefined): number | undefined {
  const [quota, period] = (cpuMax ?? '').trim().split(/\s+/);
  if (quota === undefined || quota === 'max' || period === undefined) return undefined;
  const cpus = Number(quota) / Number(period);
  return Number.isFinite(cpus) && cpus > 0 ? Math.max(1, Math.ceil(cpus)) : undefined;
}

function readCpuMax(): string | undefined {
  try {
    return readFileSync('/sys/fs/cgroup/cpu.max', 'utf8');
  } catch {
    return undefined;
  }
}

export function resolveWorkerCount(workers: number | 'auto', cores = availableParallelism(), cpuMax = readCpuMax()): number {
  if (workers !== 'auto') return workers;
  return Math.max(1, Math.min(cores, cgroupCpuLimit(cpuMax) ?? cores, AUTO_MAX_WORKERS));
}
