// CPU and memory of processes from /proc (Linux), and a meter that splits the machine's CPU during a
// phase into the processes we know (engine, broker, service, loaders) and everything else.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stateFile } from '../../scripts/stack/state.js';

const TICKS = 100; // CLK_TCK on Linux x86-64

/** utime + stime of a process (all its threads) in seconds; undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/** A field of /proc/<pid>/status in bytes (VmHWM = peak RSS, VmRSS = RSS now). */
export function memoryField(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Busy seconds of all CPUs together (everything but idle and iowait), and the number of CPUs. */
function systemBusy(): { busy: number; cpus: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const total = lines[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (total[3] ?? 0) + (total[4] ?? 0);
  const all = total.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (all - idle) / TICKS, cpus: lines.filter((l) => /^cpu\d/.test(l)).length };
}

/** pid of a stack service (elasticsearch, opensearch, kafka) from the stack's run/<name>.pid. */
export function stackPid(name: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(path.dirname(stateFile()), 'run', `${name}.pid`), 'utf8').trim());
    return cpuSeconds(pid) === undefined ? undefined : pid;
  } catch {
    return undefined;
  }
}

export interface CpuReport {
  wallSeconds: number;
  /** Cores busy on average over the phase, per named process, plus `machine` and `others`. */
  cores: Record<string, number>;
  /** CPU-seconds per named process over the phase. */
  seconds: Record<string, number>;
}

/** Measures CPU over a phase: `named` processes, this process, the machine, and the rest ("others"). */
export class CpuMeter {
  readonly #start: { at: number; machine: number; self: number; pids: Map<string, number> };

  constructor(private readonly named: Record<string, number | undefined>) {
    this.#start = { at: performance.now(), machine: systemBusy().busy, self: selfCpu(), pids: this.#sample() };
  }

  #sample(): Map<string, number> {
    const result = new Map<string, number>();
    for (const [name, pid] of Object.entries(this.named)) {
      const s = pid === undefined ? undefined : cpuSeconds(pid);
      if (s !== undefined) result.set(name, s);
    }
    return result;
  }

  /** CPU so far; `exited`: total CPU-seconds of processes started during the phase that have exited (gone from /proc). */
  report(exited: Record<string, number> = {}): CpuReport {
    const wall = (performance.now() - this.#start.at) / 1000;
    const now = this.#sample();
    const seconds: Record<string, number> = {};
    for (const [name, before] of this.#start.pids) {
      const after = now.get(name);
      if (after !== undefined) seconds[name] = after - before;
    }
    // Processes that started after the meter and have exited: their own total.
    for (const [name, total] of Object.entries(exited)) seconds[name] = total;
    seconds.bench = selfCpu() - this.#start.self;
    const machine = systemBusy().busy - this.#start.machine;
    const known = Object.values(seconds).reduce((a, b) => a + b, 0);
    seconds.others = Math.max(0, machine - known);
    seconds.machine = machine;
    const cores: Record<string, number> = {};
    for (const [name, s] of Object.entries(seconds)) cores[name] = wall > 0 ? s / wall : 0;
    return { wallSeconds: wall, cores, seconds };
  }
}

function selfCpu(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export const cpuCount = (): number => systemBusy().cpus;
