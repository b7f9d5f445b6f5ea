/**
 * The repost rules (reposts.ts `classify`) as a table: each row is one candidate's evidence and the
 * verdict the thresholds give it. Pure function, no engine.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CandidateEvidence, classify, type RepostThresholds, type Verdict } from "../src/retrieval/reposts.ts";

const thresholds: RepostThresholds = {
  exactMaxPhash: 4,
  exactMaxDhash: 6,
  exactMinCosine: 0.3,
  nearMinCosine: 0.42,
  hashNearMaxPhash: 16,
  hashNearMinCosine: 0.38,
  similarMinCosine: 0.2,
  verifiedMinInliers: 25,
  verifiedMinCosine: 0.1,
  cropMinInliers: 16,
  layoutMinCells: 8,
  nearMinInliers: 4,
};

/** Far from every rule unless a row says otherwise. */
const far: CandidateEvidence = { score: 0.05, cosine: 0.5, hamming: 40, dhashHamming: 40, flipped: false };
const regional = (inliers: number, cropInliers?: number, score = 0.3, cropStrays?: number) => ({
  regional: { score, inliers, cropInliers, cropStrays },
});

/** A candidate whose query grids line up `inliers` cells under one layout and leave `strays` over. */
const laidOut = (inliers: number, strays: number, score = 0.3) => ({
  regional: { score, inliers: 10, layoutInliers: inliers, layoutStrays: strays },
});

const rows: [string, Partial<CandidateEvidence>, Verdict, Partial<RepostThresholds>?][] = [
  ["same pixels re-encoded", { score: 0.9, hamming: 2, dhashHamming: 3 }, "exact"],
  ["same hashes but mirrored: not the same pixels", { score: 0.9, hamming: 2, dhashHamming: 3, flipped: true }, "near-duplicate"],
  ["same hashes, a blurred copy's cosine: not exact", { score: 0.25, hamming: 0, dhashHamming: 1 }, "near-duplicate"],
  ["same hashes, the mirrored view came closest", { score: 0.25, hamming: 0, dhashHamming: 1, flipped: true }, "near-duplicate"],
  ["same hashes under the similar floor (near-blank)", { score: 0.19, hamming: 0, dhashHamming: 0 }, "new"],
  ["pHash alike, dHash not, a blurred copy's cosine", { score: 0.25, hamming: 0, dhashHamming: 7 }, "similar"],
  ["close by cosine", { score: 0.45 }, "near-duplicate"],
  ["close by cosine, and enough cells line up", { score: 0.45, ...regional(4) }, "near-duplicate"],
  ["close by cosine, but its cells do not line up: a look-alike", { score: 0.45, ...regional(3) }, "similar"],
  ["close by cosine, cells not lined up, no guard", { score: 0.45, ...regional(3) }, "near-duplicate", { nearMinInliers: undefined }],
  ["close by cosine, cells never compared (stored before parts)", { score: 0.45, regional: { score: 0.3 } }, "near-duplicate"],
  ["cells do not line up, but the pHashes agree", { score: 0.45, hamming: 12, ...regional(2) }, "near-duplicate"],
  ["close pHash and a fair cosine", { score: 0.39, hamming: 12 }, "near-duplicate"],
  ["a fair cosine alone", { score: 0.39 }, "similar"],
  ["cells lined up, whole grids", { score: 0.1, ...regional(25) }, "near-duplicate"],
  ["cells lined up, one short", { score: 0.1, ...regional(24) }, "new"],
  ["a crop: its crop-sized grid lines up", { score: 0.1, ...regional(18, 16) }, "near-duplicate"],
  ["a crop's grid one cell short", { score: 0.1, ...regional(18, 15) }, "new"],
  ["a crop whose grid lines up most of its matches", { score: 0.1, ...regional(18, 18, 0.3, 4) }, "near-duplicate"],
  ["a look-alike: as many cells line up, among many strays", { score: 0.1, ...regional(18, 18, 0.3, 20) }, "new"],
  ["strays counted half: 17 cells and 2 strays make 16", { score: 0.1, ...regional(18, 17, 0.3, 2) }, "near-duplicate"],
  ["strays counted half: 17 cells and 3 strays make 15.5", { score: 0.1, ...regional(18, 17, 0.3, 3) }, "new"],
  ["a crop under the parts' cosine floor", { score: 0.1, ...regional(18, 30, 0.05) }, "new"],
  ["a crop without a crop rule", { score: 0.1, ...regional(18, 30) }, "new", { cropMinInliers: undefined }],
  ["a query without a crop-sized grid", { score: 0.1, ...regional(18) }, "new"],
  ["a crop rule alone, no verified-copy rule", { score: 0.1, ...regional(18, 20) }, "near-duplicate", { verifiedMinInliers: undefined }],
  ["a crop lined up under one layout on all its grids", { score: 0.1, ...laidOut(40, 32) }, "near-duplicate"],
  ["one layout, one cell short of the floor", { score: 0.1, ...laidOut(40, 33) }, "new"],
  ["one layout, as many lined up as left over: a look-alike", { score: 0.1, ...laidOut(30, 30) }, "new"],
  ["one layout under the parts' cosine floor", { score: 0.1, ...laidOut(40, 20, 0.05) }, "new"],
  ["one layout without its rule", { score: 0.1, ...laidOut(40, 20) }, "new", { layoutMinCells: undefined }],
  ["nothing close", {}, "new"],
];

describe("repost rules", () => {
  for (const [name, evidence, verdict, changed] of rows) {
    it(`${name}: ${verdict}`, () => {
      assert.equal(classify({ ...far, ...evidence }, { ...thresholds, ...changed }), verdict);
    });
  }
});
