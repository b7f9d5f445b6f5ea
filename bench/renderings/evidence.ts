/**
 * One row per query with everything a threshold fit needs, and the summaries the report prints.
 *
 * The rows are written to <cache>/renderings/evidence.json. To fit thresholds on the fit split and
 * report them on the test split:
 *
 *   const rows = await readEvidence();
 *   const rule: Flag = (row) => (row.evidence.decisionScore ?? -1) >= t; // fitted on rows with split "fit"
 *   summarise(rows.filter((r) => r.split === "test"), rule);
 *
 * `evidence` holds every numeric field of the engine's `verdict.match` (score, decisionScore,
 * hamming, and whatever the engine adds, e.g. inlier counts; nested objects as "a.b"), so new
 * evidence shows up without changes here. It describes the best candidate only.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { RepostVerdict } from "../../src/retrieval/reposts.ts";
import type { Match } from "../../src/retrieval/store/schema.ts";
import { cacheDir } from "../lib/paths.ts";
import type { Query, RowGroup } from "./corpus.ts";
import type { Split } from "./kinds/types.ts";
import { canonical } from "./split.ts";
import { type Interval, wilson } from "./stats.ts";

export interface EvidenceRow {
  readonly query: string;
  readonly kind: string;
  readonly group: RowGroup;
  readonly rendering: string | null;
  readonly split: Split;
  readonly expected: string | null;
  readonly negative: boolean;
  /** "error" when the engine could not analyse the query (counts as not found / not flagged). */
  readonly verdict: RepostVerdict["verdict"] | "error";
  readonly space: RepostVerdict["space"] | null;
  /** The verdict's best candidate, and whether it is the expected original (known duplicates count as it). */
  readonly match: string | null;
  readonly matchIsExpected: boolean;
  readonly evidence: Record<string, number>;
  readonly flags: Record<string, boolean>;
  /** `verdict.match.region` when the engine gives one. */
  readonly region: unknown;
  /** findSimilar(k = 5). */
  readonly top5: { readonly id: string; readonly score: number }[];
  readonly top1IsExpected: boolean;
  readonly top5HasExpected: boolean;
  readonly error?: string;
}

/** Numbers (and booleans, apart) of an object, nested objects flattened as "a.b"; arrays are left out. */
export function numericFields(value: object, prefix = ""): { numbers: Record<string, number>; flags: Record<string, boolean> } {
  const numbers: Record<string, number> = {};
  const flags: Record<string, boolean> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = `${prefix}${key}`;
    if (typeof v === "number" && Number.isFinite(v)) numbers[name] = v;
    else if (typeof v === "boolean") flags[name] = v;
    else if (v && typeof v === "object" && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Date)) {
      const inner = numericFields(v, `${name}.`);
      Object.assign(numbers, inner.numbers);
      Object.assign(flags, inner.flags);
    }
  }
  return { numbers, flags };
}

export interface QueryOutcome {
  readonly verdict?: RepostVerdict;
  readonly similar?: readonly Match[];
  readonly error?: string;
}

export function evidenceRow(query: Query, outcome: QueryOutcome): EvidenceRow {
  const match = outcome.verdict?.match ?? null;
  const { numbers, flags } = match ? numericFields(match) : { numbers: {}, flags: {} };
  const isExpected = (id: string) => query.expected !== null && canonical(id) === query.expected;
  const top5 = (outcome.similar ?? []).slice(0, 5).map((m) => ({ id: m.id, score: m.score }));
  return {
    query: query.id,
    kind: query.kind,
    group: query.group,
    rendering: query.rendering,
    split: query.split,
    expected: query.expected,
    negative: query.expected === null,
    verdict: outcome.verdict?.verdict ?? "error",
    space: outcome.verdict?.space ?? null,
    match: match?.id ?? null,
    matchIsExpected: match ? isExpected(match.id) : false,
    evidence: numbers,
    flags,
    region: (match as { region?: unknown } | null)?.region ?? null,
    top5,
    top1IsExpected: top5.length > 0 && isExpected(top5[0]!.id),
    top5HasExpected: top5.some((m) => isExpected(m.id)),
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

export const evidenceFile = (quick: boolean): string =>
  path.join(cacheDir(), "renderings", quick ? "evidence-quick.json" : "evidence.json");

/** The weighed candidates of every query (regional-report.ts `savedWeighings`), beside the evidence. */
export const weighingsFile = (quick: boolean): string =>
  path.join(cacheDir(), "renderings", quick ? "weighings-quick.json" : "weighings.json");

export async function readEvidence(file = evidenceFile(false)): Promise<EvidenceRow[]> {
  return (JSON.parse(await readFile(file, "utf8")) as { rows: EvidenceRow[] }).rows;
}

/** Whether a row is flagged as a repost. */
export type Flag = (row: EvidenceRow) => boolean;

/** The engine's own verdict: exact or near-duplicate. */
export const shippedVerdict: Flag = (row) => row.verdict === "exact" || row.verdict === "near-duplicate";

export interface Rate {
  readonly n: number;
  readonly found: number;
  readonly top1: number;
  readonly top5: number;
}

export interface FalseRate {
  readonly n: number;
  readonly flagged: number;
  readonly rate: number;
  readonly ci: Interval;
}

export interface Summary {
  /** By kind (and "mild", "strong", "re-photo" overall), then split. */
  readonly reposts: Record<string, Partial<Record<Split, Rate>>>;
  readonly renderings: Record<string, Rate>;
  /** By negative category (and "all"), then split and "both". */
  readonly negatives: Record<string, Partial<Record<Split | "both", FalseRate>>>;
}

function rate(rows: readonly EvidenceRow[], flag: Flag): Rate {
  return {
    n: rows.length,
    found: rows.filter((r) => flag(r) && r.matchIsExpected).length / rows.length,
    top1: rows.filter((r) => r.top1IsExpected).length / rows.length,
    top5: rows.filter((r) => r.top5HasExpected).length / rows.length,
  };
}

function falseRate(rows: readonly EvidenceRow[], flag: Flag): FalseRate {
  return falseRateOf(rows.filter(flag).length, rows.length);
}

/** `flagged` false reposts among `n` negatives, with the 95 % Wilson interval. */
export function falseRateOf(flagged: number, n: number): FalseRate {
  return { n, flagged, rate: flagged / n, ci: wilson(flagged, n) };
}

const groupBy = <T>(rows: readonly T[], key: (row: T) => string[]) => {
  const out = new Map<string, T[]>();
  for (const row of rows) for (const k of key(row)) out.set(k, [...(out.get(k) ?? []), row]);
  return out;
};

/** Found, top-1 and top-5 per kind and split, and false reposts per negative category with 95 % intervals. */
export function summarise(rows: readonly EvidenceRow[], flag: Flag = shippedVerdict): Summary {
  const reposts: Summary["reposts"] = {};
  for (const [name, group] of groupBy(
    rows.filter((r) => !r.negative),
    (r) => [r.kind, ...(r.kind === r.group ? [] : [r.group])],
  )) {
    reposts[name] = Object.fromEntries([...groupBy(group, (r) => [r.split])].map(([split, g]) => [split, rate(g, flag)]));
  }
  const renderings: Summary["renderings"] = {};
  for (const [id, group] of groupBy(
    rows.filter((r) => !r.negative && r.rendering),
    (r) => [r.rendering!],
  ))
    renderings[id] = rate(group, flag);
  const negatives: Summary["negatives"] = {};
  for (const [category, group] of groupBy(
    rows.filter((r) => r.negative),
    (r) => [r.kind, "all"],
  )) {
    negatives[category] = {
      ...Object.fromEntries([...groupBy(group, (r) => [r.split])].map(([split, g]) => [split, falseRate(g, flag)])),
      both: falseRate(group, flag),
    };
  }
  return { reposts, renderings, negatives };
}
