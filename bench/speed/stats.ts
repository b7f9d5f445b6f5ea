/** Small numeric and formatting helpers for the speed section. */
import os from "node:os";

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: p95 of 20 samples is the 19th, never an interpolation between samples.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

export function ms(value: number): string {
  if (!Number.isFinite(value)) return "–";
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function seconds(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** 1-minute load average: other work on the machine shows up here (2 cores: > 2 means contention). */
export function load(): number {
  return round(os.loadavg()[0]!, 2);
}

/** Wall time and the process's CPU time (all threads, incl. native) of `work`. */
export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; cpuSeconds: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const used = process.cpuUsage(cpu);
  return { result, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}
