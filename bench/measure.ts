// Process measurements from /proc: CPU seconds (utime + stime, all threads) and peak RSS (VmHWM).
import { readFileSync } from 'node:fs';

export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function peakRssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line?.split(/\s+/)[1] ?? 0) * 1024;
}

export const seconds = (ms: number): number => ms / 1000;
export const rate = (count: number, ms: number): number => (ms > 0 ? (count * 1000) / ms : 0);
