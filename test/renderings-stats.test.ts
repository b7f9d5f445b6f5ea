/**
 * The renderings benchmark's arithmetic: the Wilson interval on published and independently
 * computed values, and the summaries and evidence fields the report and threshold fits read.
 * Pure functions, no model or data.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type EvidenceRow, evidenceRow, numericFields, shippedVerdict, summarise } from "../bench/renderings/evidence.ts";
import { wilson } from "../bench/renderings/stats.ts";
import type { RepostVerdict } from "../src/retrieval/reposts.ts";

describe("Wilson score interval (95 %)", () => {
  // Reference: scipy 1.17 `binomtest(k, n).proportion_ci(0.95, method="wilson")`; the rows marked N are
  // also Newcombe (1998), Statistics in Medicine 17:857, table I, method 3, to 4 decimals.
  const table: [k: number, n: number, low: number, high: number][] = [
    [0, 10, 0, 0.277533],
    [1, 10, 0.017876, 0.40415],
    [5, 10, 0.236593, 0.763407],
    [10, 10, 0.722467, 1],
    [0, 20, 0, 0.161125], // N: 0.0000–0.1611
    [1, 29, 0.006113, 0.171755], // N: 0.0061–0.1718
    [15, 148, 0.062386, 0.160487], // N: 0.0624–0.1605
    [81, 263, 0.255289, 0.36621], // N: 0.2553–0.3662
    [0, 100, 0, 0.036993],
    [0, 1000, 0, 0.003827],
    [3, 1000, 0.001021, 0.008783],
    [5, 1000, 0.002138, 0.011651],
  ];
  for (const [k, n, low, high] of table) {
    it(`${k}/${n} → [${low}, ${high}]`, () => {
      const ci = wilson(k, n);
      assert.ok(Math.abs(ci.low - low) < 1e-6, `low ${ci.low}`);
      assert.ok(Math.abs(ci.high - high) < 1e-6, `high ${ci.high}`);
    });
  }

  it("refuses what is not a count", () => {
    assert.throws(() => wilson(1, 0));
    assert.throws(() => wilson(3, 2));
    assert.throws(() => wilson(-1, 10));
    assert.throws(() => wilson(0.5, 10));
  });
});

const row = (over: Partial<EvidenceRow>): EvidenceRow => ({
  query: "q",
  kind: "jpeg",
  group: "mild",
  rendering: "jpeg-a-q30-45",
  split: "fit",
  expected: "photo-pool:a.jpg",
  negative: false,
  verdict: "near-duplicate",
  space: "whitened",
  match: "photo-pool:a.jpg",
  matchIsExpected: true,
  evidence: {},
  flags: {},
  region: null,
  top5: [],
  top1IsExpected: true,
  top5HasExpected: true,
  ...over,
});

describe("summaries of evidence rows", () => {
  it("counts found only when the verdict is a repost and names the original", () => {
    const rows = [
      row({}),
      row({ verdict: "exact" }),
      row({ verdict: "similar" }), // right candidate, but not flagged
      row({ matchIsExpected: false, match: "photo-pool:b.jpg", top1IsExpected: false }), // flagged, wrong picture
      row({
        split: "test",
        kind: "screenshot",
        group: "strong",
        rendering: "screenshot-d-chat-light",
        verdict: "new",
        top1IsExpected: false,
      }),
    ];
    const s = summarise(rows);
    assert.equal(s.reposts.jpeg!.fit!.n, 4);
    assert.equal(s.reposts.jpeg!.fit!.found, 0.5);
    assert.equal(s.reposts.jpeg!.fit!.top1, 0.75);
    assert.equal(s.reposts.mild!.fit!.n, 4);
    assert.equal(s.reposts.screenshot!.test!.found, 0);
    assert.equal(s.reposts.strong!.fit, undefined);
    assert.equal(s.renderings["screenshot-d-chat-light"]!.n, 1);
  });

  it("gives false reposts per category and split with their interval, and takes another rule", () => {
    const negative = (split: "fit" | "test", verdict: EvidenceRow["verdict"], score: number) =>
      row({
        negative: true,
        expected: null,
        kind: "flower",
        group: "negative",
        rendering: null,
        split,
        verdict,
        matchIsExpected: false,
        evidence: { decisionScore: score },
      });
    const rows = [
      negative("fit", "near-duplicate", 0.5),
      ...Array.from({ length: 9 }, () => negative("fit", "new", 0.1)),
      negative("test", "new", 0.45),
    ];
    const s = summarise(rows);
    assert.deepEqual(s.negatives.flower!.fit, { n: 10, flagged: 1, rate: 0.1, ci: wilson(1, 10) });
    assert.equal(s.negatives.flower!.test!.flagged, 0);
    assert.equal(s.negatives.all!.both!.n, 11);
    const looser = summarise(rows, (r) => (r.evidence.decisionScore ?? -1) >= 0.4);
    assert.equal(looser.negatives.flower!.test!.flagged, 1);
    assert.equal(rows.filter(shippedVerdict).length, 1);
  });
});

describe("evidence fields", () => {
  it("copies every numeric field of the match, nested ones too, so new evidence needs no code change", () => {
    const { numbers, flags } = numericFields({
      id: "x",
      score: 0.9,
      hamming: 3,
      flipped: true,
      verification: { inliers: 12, ratio: 0.4 },
      region: { query: [0, 0, 1, 1] },
    });
    assert.deepEqual(numbers, { score: 0.9, hamming: 3, "verification.inliers": 12, "verification.ratio": 0.4 });
    assert.deepEqual(flags, { flipped: true });
  });

  it("names the expected original through a known duplicate, and keeps the region", () => {
    const verdict = {
      verdict: "near-duplicate",
      space: "whitened",
      match: {
        id: "museum:bbdd_00249.jpg",
        score: 0.8,
        decisionScore: 0.5,
        hamming: 20,
        flipped: false,
        region: { query: [0.1, 0.1, 0.5, 0.5] },
      },
    } as unknown as RepostVerdict;
    const query = {
      id: "q",
      file: "q.jpg",
      kind: "collage",
      group: "strong" as const,
      rendering: "collage-a-2x2",
      split: "fit" as const,
      expected: "museum:bbdd_00043.jpg", // the canonical member of {00043, 00249}
      source: "museum:bbdd_00043.jpg",
      fillers: [],
    };
    const r = evidenceRow(query, { verdict, similar: [] });
    assert.equal(r.matchIsExpected, true);
    assert.deepEqual(r.region, { query: [0.1, 0.1, 0.5, 0.5] });
    assert.equal(r.evidence.decisionScore, 0.5);
    assert.equal(r.top1IsExpected, false);
  });
});
