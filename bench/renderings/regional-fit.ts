/**
 * Fits the repost rules that the regional evidence changes (reposts.ts: the regional rules
 * `regionNearMinCosine`, `verifiedMinCosine`, `verifiedMinInliers`, `cropMinInliers`, and the two cosine floors of
 * the whole-image rules, `nearMinCosine` and `hashNearMinCosine`, since a query's parts are views
 * too and give look-alikes more chances) on the fit split of the held-out corpus, per decision
 * space, and reports them on the test split. Each query's candidates were weighed once by the real
 * engine (`engine.weighRepost`); every setting is then decided with the engine's own `decide`, so
 * the fit sees exactly the verdicts the product would give. The false-repost budget on the fit
 * split is half the promised rate, so that the promise holds with a margin on renderings the fit
 * never saw.
 */
import {
  CROP_STRAY_COST,
  classify,
  type DecisionSpace,
  decide,
  type RepostThresholds,
  type WeighedCandidate,
} from "../../src/retrieval/reposts.ts";
import { DEFAULT_REPOST_THRESHOLDS } from "../../src/retrieval/thresholds.ts";
import { BUDGET } from "../repost/outcomes.ts";
import type { RowGroup } from "./corpus.ts";
import type { Split } from "./kinds/types.ts";

/** A query's weighed candidates, with what a right answer is. */
export interface WeighedQuery {
  readonly kind: string;
  readonly group: RowGroup;
  readonly split: Split;
  /** The right original (canonical key), null for a negative. */
  readonly expected: string | null;
  readonly space: DecisionSpace;
  readonly weighed: readonly WeighedCandidate[];
  /** Whether a candidate id names the expected original (known duplicates count as it). */
  readonly isExpected: (id: string) => boolean;
}

export type RegionalRules = Partial<
  Pick<
    RepostThresholds,
    | "nearMinCosine"
    | "hashNearMinCosine"
    | "regionNearMinCosine"
    | "verifiedMinCosine"
    | "verifiedMinInliers"
    | "cropMinInliers"
    | "layoutMinCells"
    | "nearMinInliers"
  >
>;

/** The rules that turn a repost on (a floor: higher is stricter; absent, the rule is off). */
const FLOORS = [
  "nearMinCosine",
  "hashNearMinCosine",
  "regionNearMinCosine",
  "verifiedMinCosine",
  "verifiedMinInliers",
  "cropMinInliers",
] as const;

/**
 * Whether `stricter` never flags what `looser` would not: every floor of `stricter` at least as high,
 * a rule only where `looser` has it too, and a guard (`nearMinInliers`, absent: none) at least as high.
 */
export function nests(stricter: RegionalRules, looser: RegionalRules): boolean {
  return guardNests(stricter, looser) && floorsNest(stricter, looser, ["layoutMinCells"]);
}

/** `nests` up to the guard, before the one-layout floor is fitted. */
const guardNests = (stricter: RegionalRules, looser: RegionalRules) =>
  floorsNest(stricter, looser) && (stricter.nearMinInliers ?? 0) >= (looser.nearMinInliers ?? 0);

function floorsNest(stricter: RegionalRules, looser: RegionalRules, keys: readonly (keyof RegionalRules)[] = FLOORS): boolean {
  return keys.every((key) => {
    const [a, b] = [stricter[key], looser[key]];
    return a === undefined || (b !== undefined && a >= b);
  });
}

/** The neighbouring levels' rules a level's fit must stay between (see `nests`). */
export interface Neighbours {
  /** The next looser level's rules: the fitted ones must nest within them. */
  readonly looser?: RegionalRules;
  /** The next stricter level's rules: they must nest within the fitted ones. */
  readonly stricter?: RegionalRules;
}

/** Whether `rules` stay between the neighbours (`nest`: `nests`, or less of it before the guard or the one-layout floor is fitted). */
const between = (rules: RegionalRules, { looser, stricter }: Neighbours, nest = nests) =>
  (!looser || nest(rules, looser)) && (!stricter || nest(stricter, rules));

/** The promised false-repost rate, and the share of it the fit may use. */
export const PROMISED_FALSE_RATE = BUDGET.balanced.target;
const FIT_SHARE = 0.5;

export interface Outcome {
  readonly found: number;
  readonly asked: number;
  readonly falseReposts: number;
  readonly negatives: number;
  readonly byKind: Map<string, { found: number; asked: number }>;
}

const isRepost = (verdict: string) => verdict === "exact" || verdict === "near-duplicate";

export function outcome(queries: readonly WeighedQuery[], rules: RegionalRules, maxFalseReposts = Infinity): Outcome {
  let found = 0;
  let asked = 0;
  let falseReposts = 0;
  let negatives = 0;
  const byKind = new Map<string, { found: number; asked: number }>();
  const thresholds = { whitened: { ...DEFAULT_REPOST_THRESHOLDS.whitened, ...rules }, raw: { ...DEFAULT_REPOST_THRESHOLDS.raw, ...rules } };
  for (const query of queries) {
    const verdict = decide(query.weighed, thresholds[query.space], query.space);
    const flagged = isRepost(verdict.verdict);
    if (query.expected === null) {
      negatives++;
      if (flagged) falseReposts++;
      // Over the budget already: what else this setting finds no longer matters.
      if (falseReposts > maxFalseReposts) break;
      continue;
    }
    const right = flagged && verdict.match !== null && query.isExpected(verdict.match.id);
    const entry = byKind.get(query.kind) ?? { found: 0, asked: 0 };
    entry.asked++;
    asked++;
    if (right) {
      entry.found++;
      found++;
    }
    byKind.set(query.kind, entry);
  }
  return { found, asked, falseReposts, negatives, byKind };
}

/**
 * Floors tried for the verification grids' rule (reposts.ts `cropMinInliers`, on `cropCells`: lined-up
 * cells net of strays, so in half-cell steps); `undefined` leaves it off.
 */
const CROP_MIN_INLIERS = [undefined, 8, 9, 10, 11, 12, 14, 16, 18] as const;

/**
 * The settings tried, per decision space (whitened cosines and plain cosines live on different
 * scales). The whole-image floors start where the repost section calibrated them for queries
 * without parts, and only go up; `undefined` leaves a regional rule off.
 */
const GRID: Record<DecisionSpace, { readonly [K in (typeof FLOORS)[number]]: readonly (number | undefined)[] }> = {
  whitened: {
    nearMinCosine: [0.392, 0.42, 0.45, 0.48, 0.52],
    hashNearMinCosine: [0.26, 0.32, 0.38, 0.42, 0.46],
    regionNearMinCosine: [undefined, 0.5, 0.6, 0.7, 0.8],
    verifiedMinCosine: [0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5],
    verifiedMinInliers: [undefined, 6, 8, 10, 15, 20, 25, 30, 35, 40, 50, 60],
    cropMinInliers: CROP_MIN_INLIERS,
  },
  raw: {
    nearMinCosine: [0.903, 0.91, 0.92, 0.93],
    hashNearMinCosine: [0.86, 0.88, 0.9, 0.92],
    regionNearMinCosine: [undefined, 0.9, 0.93, 0.95, 0.97],
    verifiedMinCosine: [0.7, 0.75, 0.8, 0.85, 0.88, 0.9],
    verifiedMinInliers: [undefined, 6, 8, 10, 15, 20, 25, 30, 35, 40, 50, 60],
    cropMinInliers: CROP_MIN_INLIERS,
  },
};

/** Every combination of the grid's values, without the guard (fitted after the floors, see fitRegionalRules). */
function* settings(space: DecisionSpace): Generator<RegionalRules> {
  const grid = GRID[space];
  for (const nearMinCosine of grid.nearMinCosine)
    for (const hashNearMinCosine of grid.hashNearMinCosine)
      for (const regionNearMinCosine of grid.regionNearMinCosine)
        for (const verifiedMinInliers of grid.verifiedMinInliers)
          for (const cropMinInliers of grid.cropMinInliers)
            for (const verifiedMinCosine of verifiedMinInliers === undefined && cropMinInliers === undefined
              ? [undefined]
              : grid.verifiedMinCosine)
              yield {
                nearMinCosine,
                hashNearMinCosine,
                regionNearMinCosine,
                verifiedMinCosine,
                verifiedMinInliers,
                cropMinInliers,
                layoutMinCells: undefined,
                nearMinInliers: undefined,
              };
}

/**
 * The queries with only the candidates some setting of the grid could call a repost (exact or
 * near-duplicate under the loosest setting: every rule is looser with a lower floor). The others are
 * at most `similar` under any setting, so they never change whether a query is flagged, nor which
 * image a flag names; leaving them out makes the thousands of settings affordable.
 */
function contenders(queries: readonly WeighedQuery[], space: DecisionSpace): WeighedQuery[] {
  const grid = GRID[space];
  const lowest = (values: readonly (number | undefined)[]) => Math.min(...values.filter((v) => v !== undefined));
  const loosest = {
    ...DEFAULT_REPOST_THRESHOLDS[space],
    nearMinCosine: lowest(grid.nearMinCosine),
    hashNearMinCosine: lowest(grid.hashNearMinCosine),
    regionNearMinCosine: lowest(grid.regionNearMinCosine),
    verifiedMinCosine: lowest(grid.verifiedMinCosine),
    verifiedMinInliers: lowest(grid.verifiedMinInliers),
    cropMinInliers: lowest(grid.cropMinInliers),
    layoutMinCells: lowest(LAYOUT_MIN_CELLS),
    nearMinInliers: undefined,
  };
  return queries.map((query) => ({ ...query, weighed: query.weighed.filter(({ evidence }) => isRepost(classify(evidence, loosest))) }));
}

/**
 * Floors tried for the one-layout rule (reposts.ts `layoutMinCells`, on `layoutCells`: cells lined up
 * over all the query's grids less every match left over); `undefined` leaves it off.
 */
const LAYOUT_MIN_CELLS = [undefined, 1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25] as const;

/** Guards tried for the whole-image cosine rule (reposts.ts `nearMinInliers`); `undefined`: none. */
const NEAR_MIN_INLIERS = [undefined, 2, 3, 4, 5, 6, 8, 10] as const;

/**
 * The rules with the most reposts found on the fit split within the fit's false-repost budget, for a
 * promised rate (the balanced level's by default; the stricter and looser levels pass theirs, and
 * their neighbours' rules, so that the levels nest). The queries must all be decided in one space.
 *
 * Three steps. The floors: ties go to the first in grid order, i.e. the lowest floors and the fewest
 * rules. Then, with those floors, the guard on the whole-image cosine rule: ties go to the highest
 * guard, since a guard that costs no repost on the fit split only keeps look-alikes out (the fit
 * split's negatives rarely reach it: its purpose is the negatives it has not seen). Last, the
 * one-layout rule's floor, on top of the others (a grid of its own would multiply the settings
 * tried): ties go to the highest floor, the one with the widest margin over the fit's negatives.
 */
export function fitRegionalRules(
  fit: readonly WeighedQuery[],
  promisedFalseRate = PROMISED_FALSE_RATE,
  neighbours: Neighbours = {},
): { rules: RegionalRules; outcome: Outcome } {
  const space = fit[0]?.space ?? "whitened";
  if (fit.some((query) => query.space !== space)) throw new Error("fitRegionalRules: queries from both decision spaces");
  // Negatives first, so a setting over the budget is dropped as soon as it is. A guard only takes
  // reposts away, so the loosest setting's contenders serve both steps.
  const reduced = contenders(fit, space);
  const negatives = reduced.filter((query) => query.expected === null);
  const ordered = [...negatives, ...reduced.filter((query) => query.expected !== null)];
  const budget = Math.floor(promisedFalseRate * FIT_SHARE * negatives.length);
  const best = (candidates: Iterable<RegionalRules>, queries: readonly WeighedQuery[], step: "floors" | "guard" | "layout") => {
    let chosen: { rules: RegionalRules; outcome: Outcome } | undefined;
    for (const rules of candidates) {
      if (!between(rules, neighbours, { floors: floorsNest, guard: guardNests, layout: nests }[step])) continue;
      const result = outcome(queries, rules, budget);
      if (result.falseReposts > budget) continue;
      if (!chosen || result.found > chosen.outcome.found || (step !== "floors" && result.found === chosen.outcome.found))
        chosen = { rules, outcome: result };
    }
    return chosen;
  };
  const floors = best(settings(space), ordered, "floors");
  if (!floors) return { rules: {}, outcome: outcome(fit, {}) };
  const guarded = best(
    NEAR_MIN_INLIERS.map((nearMinInliers) => ({ ...floors.rules, nearMinInliers })),
    ordered,
    "guard",
  );
  // Only when no guard nests between the neighbours (a stricter neighbour's guard above every one tried).
  if (!guarded) return { rules: {}, outcome: outcome(fit, {}) };
  const laidOut = best(
    LAYOUT_MIN_CELLS.map((layoutMinCells) => ({ ...guarded.rules, layoutMinCells })),
    ordered,
    "layout",
  );
  return laidOut ?? guarded;
}

/** The fitted rules in words, for the report. */
export function describeRules(rules: RegionalRules): string {
  if (Object.keys(rules).length === 0) return "no setting stays within the budget; the shipped thresholds are reported";
  const parts = [
    `whole image: cosine ≥ ${rules.nearMinCosine ?? "as shipped"}, or pHash close and cosine ≥ ${rules.hashNearMinCosine ?? "as shipped"}`,
    rules.regionNearMinCosine === undefined ? "no rule for a part alone" : `a part alone: cosine ≥ ${rules.regionNearMinCosine}`,
    rules.verifiedMinInliers === undefined
      ? "no verified-copy rule"
      : `verified copy: ≥ ${rules.verifiedMinInliers} cells lined up and cosine of the closest parts ≥ ${rules.verifiedMinCosine}`,
    rules.cropMinInliers === undefined
      ? "no crop rule"
      : `verified crop: ≥ ${rules.cropMinInliers} cells of one of the query's verification grids lined up, less ${CROP_STRAY_COST} per stray match, same cosine floor`,
    rules.layoutMinCells === undefined
      ? "no one-layout rule"
      : `one layout: ≥ ${rules.layoutMinCells} more cells of the query's own grids lined up under one layout than left over, same cosine floor`,
    rules.nearMinInliers === undefined
      ? "the whole-image cosine alone suffices"
      : `the whole-image cosine alone not where the cells were compared and fewer than ${rules.nearMinInliers} lined up`,
  ];
  return parts.join("; ");
}
