/**
 * The fit of the repost rules on the held-out benchmark's weighings (bench/renderings/regional-fit.ts):
 * the most reposts found on the fit split within half the promised false-repost rate, decided by
 * the engine's own `decide`. Synthetic weighings with known answers.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fitRegionalRules, nests, outcome, type RegionalRules, type WeighedQuery } from "../bench/renderings/regional-fit.ts";
import type { CandidateEvidence, WeighedCandidate } from "../src/retrieval/reposts.ts";
import type { Match } from "../src/retrieval/store/schema.ts";

/** One candidate, far from every hash rule, with a whitened cosine and optional regional evidence. */
function candidate(
  id: string,
  score: number,
  regional?: { score: number; inliers: number; layoutInliers?: number; layoutStrays?: number },
): WeighedCandidate {
  const evidence: CandidateEvidence = { score, cosine: 0.8, hamming: 40, dhashHamming: 40, flipped: false, regional };
  return { candidate: { id, score: 0.8 } as Match, evidence };
}

function query(expected: string | null, weighed: WeighedCandidate[], kind = expected ? "crop" : "negative"): WeighedQuery {
  return {
    kind,
    group: expected ? "strong" : "negative",
    split: "fit",
    expected,
    space: "whitened",
    weighed,
    isExpected: (id) => id === expected,
  } as WeighedQuery;
}

/**
 * Negatives: among 400, half a false repost per 100 is 2, and half of that (the fit's budget) is 1;
 * among fewer than 400 the budget is 0.
 */
const negatives = (make: (i: number) => WeighedCandidate[], count = 400) => Array.from({ length: count }, (_, i) => query(null, make(i)));

describe("fitting the repost rules on weighings", () => {
  it("turns on the verified-copy rule at the fewest lined-up cells the negatives never reach", () => {
    const fit = [
      ...negatives(() => [candidate("other", 0.1, { score: 0.45, inliers: 7 })], 100),
      ...["a", "b", "c"].map((id) => query(id, [candidate(id, 0.1, { score: 0.45, inliers: 10 })])),
    ];
    const { rules, outcome: result } = fitRegionalRules(fit);
    assert.equal(rules.verifiedMinInliers, 8);
    assert.equal(result.found, 3);
    assert.equal(result.falseReposts, 0);
    // Without the rule none of the three is found.
    assert.equal(outcome(fit, {}).found, 0);
  });

  it("turns on the one-layout rule last, at the highest floor that finds what it finds within the budget", () => {
    // Crops that line up 6 more cells than they leave over, and nothing else; look-alikes 3 more. A
    // copy with 10 cells lined up turns the verified rules on (and their cosine floor, which the
    // one-layout rule shares).
    const layout = (id: string, layoutInliers: number, layoutStrays: number) =>
      candidate(id, 0.1, { score: 0.45, inliers: 3, layoutInliers, layoutStrays });
    const fit = [
      ...negatives(() => [layout("other", 10, 7)], 10),
      ...["a", "b"].map((id) => query(id, [layout(id, 20, 14)])),
      query("c", [candidate("c", 0.1, { score: 0.45, inliers: 10 })]),
    ];
    const { rules, outcome: result } = fitRegionalRules(fit);
    // Floors 4, 5 and 6 find both; the highest keeps the widest margin over the look-alikes.
    assert.equal(rules.layoutMinCells, 6);
    assert.deepEqual([result.found, result.falseReposts], [3, 0]);
    assert.equal(outcome(fit, { ...rules, layoutMinCells: undefined }).found, 1);
    // A looser level fitted around it keeps the rule, at most as high (the levels nest).
    const looser = fitRegionalRules(fit, 0.02, { stricter: rules }).rules;
    assert.ok(looser.layoutMinCells !== undefined && nests(rules, looser), JSON.stringify(looser));
  });

  it("raises the whole-image floor above look-alikes that would exceed the budget, keeping the copies above them", () => {
    const fit = [
      ...negatives((i) => [candidate("other", i < 2 ? 0.44 : 0.1)]),
      query("a", [candidate("a", 0.5)]),
      query("b", [candidate("b", 0.43)]),
    ];
    const { rules, outcome: result } = fitRegionalRules(fit);
    assert.equal(rules.nearMinCosine, 0.45);
    assert.equal(result.found, 1);
    assert.equal(result.falseReposts, 0);
  });

  it("allows one false repost in 400 (the budget) when it finds more", () => {
    const fit = [...negatives((i) => [candidate("other", i === 0 ? 0.44 : 0.1)]), query("b", [candidate("b", 0.43)])];
    const { rules, outcome: result } = fitRegionalRules(fit);
    assert.equal(rules.nearMinCosine, 0.392);
    assert.deepEqual([result.found, result.falseReposts], [1, 1]);
  });

  it("guards the whole-image cosine rule at the most lined-up cells that cost no repost on the fit split", () => {
    // Copies close by cosine with 5, 6 and 9 cells lined up: a guard of 5 keeps all three, 6 loses one.
    const fit = [
      ...negatives(() => [candidate("other", 0.1)], 100),
      ...(
        [
          ["a", 5],
          ["b", 6],
          ["c", 9],
        ] as const
      ).map(([id, inliers]) => query(id, [candidate(id, 0.5, { score: 0.45, inliers })])),
    ];
    const { rules, outcome: result } = fitRegionalRules(fit);
    assert.equal(rules.nearMinInliers, 5);
    assert.equal(result.found, 3);
  });

  it("keeps a stricter level within the looser level's rules", () => {
    const fit = [
      ...negatives(() => [candidate("other", 0.1, { score: 0.45, inliers: 7 })], 100),
      ...["a", "b", "c"].map((id) => query(id, [candidate(id, 0.1, { score: 0.45, inliers: 10 })])),
    ];
    // Alone the fit turns the verified-copy rule on at 8 cells (the first test); the looser level asks 10.
    const looser: RegionalRules = {
      nearMinCosine: 0.392,
      hashNearMinCosine: 0.26,
      verifiedMinCosine: 0.1,
      verifiedMinInliers: 10,
      nearMinInliers: 2,
    };
    const { rules, outcome: result } = fitRegionalRules(fit, 0.002, { looser });
    assert.equal(rules.verifiedMinInliers, 10);
    assert.equal(result.found, 3);
    assert.ok(nests(rules, looser));
    assert.ok((rules.nearMinInliers ?? 0) >= 2);
    // And a looser level within a stricter one: every rule the stricter has, at a floor no higher.
    const { rules: loose } = fitRegionalRules(fit, 0.02, { stricter: rules });
    assert.ok(nests(rules, loose));
  });

  it("orders rules as levels: a stricter one never flags what a looser one would not", () => {
    const balanced: RegionalRules = { nearMinCosine: 0.4, verifiedMinCosine: 0.1, verifiedMinInliers: 30, nearMinInliers: 4 };
    const rows: [string, RegionalRules, boolean][] = [
      ["the same rules", balanced, true],
      ["a higher floor", { ...balanced, nearMinCosine: 0.42 }, true],
      ["a rule turned off", { ...balanced, verifiedMinInliers: undefined }, true],
      ["a lower floor", { ...balanced, verifiedMinInliers: 25 }, false],
      ["a rule the looser level has not", { ...balanced, cropMinInliers: 16 }, false],
      ["a higher guard", { ...balanced, nearMinInliers: 5 }, true],
      ["a lower guard", { ...balanced, nearMinInliers: 3 }, false],
      ["no guard", { ...balanced, nearMinInliers: undefined }, false],
    ];
    for (const [name, stricter, expected] of rows) assert.equal(nests(stricter, balanced), expected, name);
  });

  it("counts a repost verdict naming another image as not found", () => {
    const fit = [query("a", [candidate("a", 0.2), candidate("wrong", 0.6)])];
    assert.equal(outcome(fit, {}).found, 0);
    assert.equal(outcome(fit, {}).asked, 1);
  });
});
