/**
 * The seed demo's search, as the baseline: every stored vector held in JS, and a linear scan that
 * computes the Pearson correlation of the query with each one (the seed compared 768-bin colour
 * histograms this way). Run in a child process (`node --import tsx bench/speed/seed-scan.ts ROWS DIM
 * QUERIES`) so its memory is measured on its own; prints one JSON line.
 *
 * Kept generous to the baseline: Float32Array rows (not JSON number arrays) and a top-k insertion
 * instead of sorting every score.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { seededRandom } from "../lib/random.ts";
import { percentile } from "./stats.ts";

export interface SeedScanResult {
  readonly rows: number;
  readonly dimension: number;
  readonly queries: number;
  readonly p50: number;
  readonly p95: number;
  readonly loadSeconds: number;
  readonly maxRssMiB: number;
}

/** Pearson's r, written the straightforward way (two passes: means, then co-variance). */
export function pearson(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let sumA = 0;
  let sumB = 0;
  for (let i = 0; i < n; i++) {
    sumA += a[i]!;
    sumB += b[i]!;
  }
  const meanA = sumA / n;
  const meanB = sumB / n;
  let cov = 0;
  let varA = 0;
  let varB = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - meanA;
    const db = b[i]! - meanB;
    cov += da * db;
    varA += da * da;
    varB += db * db;
  }
  return varA === 0 || varB === 0 ? 0 : cov / Math.sqrt(varA * varB);
}

export function seedSearch(rows: readonly Float32Array[], query: Float32Array, k: number): number[] {
  const best: { row: number; score: number }[] = [];
  for (let row = 0; row < rows.length; row++) {
    const score = pearson(query, rows[row]!);
    if (best.length === k && score <= best[k - 1]!.score) continue;
    best.push({ row, score });
    best.sort((x, y) => y.score - x.score);
    if (best.length > k) best.pop();
  }
  return best.map((hit) => hit.row);
}

/** Normalised random histograms (non-negative, summing to 1), like the seed's colour histograms. */
function histogram(dimension: number, random: () => number): Float32Array {
  const h = new Float32Array(dimension);
  let sum = 0;
  for (let i = 0; i < dimension; i++) sum += h[i] = random() ** 3;
  for (let i = 0; i < dimension; i++) h[i]! /= sum;
  return h;
}

/** VmHWM (see rss.ts for why not resourceUsage().maxRSS). */
function peakRssMiB(): number {
  const match = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

export function runSeedScan(rowCount: number, dimension: number, queryCount: number): SeedScanResult {
  const random = seededRandom(42);
  const started = performance.now();
  const rows = Array.from({ length: rowCount }, () => histogram(dimension, random));
  const loadSeconds = (performance.now() - started) / 1000;
  const latencies: number[] = [];
  seedSearch(rows, histogram(dimension, random), 10); // warm-up (JIT)
  for (let q = 0; q < queryCount; q++) {
    const query = histogram(dimension, random);
    const t = performance.now();
    seedSearch(rows, query, 10);
    latencies.push(performance.now() - t);
  }
  return {
    rows: rowCount,
    dimension,
    queries: queryCount,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    loadSeconds,
    maxRssMiB: peakRssMiB(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [rows, dimension, queries] = process.argv.slice(2).map(Number);
  process.stdout.write(`${JSON.stringify(runSeedScan(rows!, dimension!, queries!))}\n`);
}
