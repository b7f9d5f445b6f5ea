import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_INDEX_POLICY, MAX_ROWS_PROBED_AT_ONCE, vectorIndexName, vectorsPerQuery } from "../src/retrieval/store/index-policy.ts";

describe("vectorsPerQuery: query vectors per LanceDB query on an indexed table", () => {
  // Shipped policy: √rows partitions, a fifth of them probed (at least 40).
  const cases: [string, string, number][] = [
    // 1M rows: 1,000 partitions of 1,000 rows, 200 probed: 200k rows per vector, as measured.
    ["the 1M-row scale database keeps the four measured there", vectorIndexName(1_000_000), 4],
    // 100k rows: 316 partitions, 64 probed, ~20k rows per vector: a check's 9–16 vectors in one query.
    ["a 100k-row server searches a check's vectors together", vectorIndexName(100_000), 39],
    // 5,000 rows: 71 partitions, 40 probed (the floor), ~2,800 rows per vector.
    ["the smallest indexed table, where the probe floor decides", vectorIndexName(5_000), 284],
    // 4M rows: 2,000 partitions, 400 probed, 800k rows per vector.
    ["four million rows: one vector at a time", vectorIndexName(4_000_000), 1],
    ["an index whose size its name does not tell: the count measured at 1M rows", "vector_idx", 4],
  ];
  for (const [what, indexName, expected] of cases) {
    it(what, () => assert.equal(vectorsPerQuery(DEFAULT_INDEX_POLICY, indexName), expected));
  }

  it("never puts more rows under probe at once than allowed, and always searches at least one vector", () => {
    // From 40k rows on, a fifth of the partitions is more than the floor of 40: a fifth of the rows per vector.
    for (const rows of [40_000, 100_000, 250_000, 1_000_000, 3_000_000, 50_000_000]) {
      const perQuery = vectorsPerQuery(DEFAULT_INDEX_POLICY, vectorIndexName(rows));
      const rowsPerVector = rows * DEFAULT_INDEX_POLICY.probeFraction!;
      assert.ok(perQuery >= 1, `${rows} rows: ${perQuery}`);
      if (perQuery > 1) assert.ok(perQuery * rowsPerVector <= MAX_ROWS_PROBED_AT_ONCE * 1.01, `${rows} rows: ${perQuery} vectors`);
    }
  });

  it("probes every partition of a tiny index at most once", () => {
    const policy = { ...DEFAULT_INDEX_POLICY, nprobes: 10_000 };
    // 100 partitions of 100 rows, all probed: 10,000 rows per vector.
    assert.equal(vectorsPerQuery(policy, vectorIndexName(10_000)), 80);
  });
});
