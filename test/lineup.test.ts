/**
 * One layout across the query's grids (regions/lineup.ts): the same crop shown at two scales lines up
 * under one layout on both grids, and a grid that lines up somewhere else is left over.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Fingerprint } from "../src/retrieval/fingerprint.ts";
import { layoutGrids } from "../src/retrieval/regions/evidence.ts";
import { lineUp } from "../src/retrieval/regions/lineup.ts";
import { verify } from "../src/retrieval/regions/verify.ts";
import { layoutCells } from "../src/retrieval/reposts.ts";
import { cellSet } from "./support/cells.ts";

const picture = cellSet(14, 14, (x, y) => 1 + y * 14 + x);

/** The picture's cells x0…x0+side, y0…y0+side seen at `zoom` query cells per picture cell. */
const cropAt = (x0: number, y0: number, side: number, zoom: number) =>
  cellSet(side * zoom, side * zoom, (x, y) => 1 + (y0 + Math.floor(y / zoom)) * 14 + (x0 + Math.floor(x / zoom)));

const lined = (grids: ReturnType<typeof cropAt>[]) => lineUp(grids, picture, verify(grids, [picture]).withFirst);

describe("one layout across the query's grids", () => {
  it("counts a crop's cells on every grid it shows them on, at any of their scales", () => {
    const crop = [cropAt(3, 2, 8, 1), cropAt(3, 2, 8, 2)];
    // Each picture cell is matched once per grid (of four equal cells at zoom 2, the first).
    assert.deepEqual(lined(crop), { inliers: 128, strays: 0 });
    assert.deepEqual(lined([crop[0]!]), { inliers: 64, strays: 0 });
  });

  it("leaves over a grid that lines up somewhere else than the others", () => {
    // Both grids line up on their own, but the second shows another part of the picture than the
    // first claims: no layout places both (a look-alike lining up by chance on one grid).
    const { inliers, strays } = lined([cropAt(0, 0, 6, 1), cropAt(8, 8, 6, 2)]);
    assert.deepEqual({ inliers, strays }, { inliers: 36, strays: 36 });
    assert.equal(layoutCells({ layoutInliers: inliers, layoutStrays: strays }), 0);
  });

  it("lines up only a few of unrelated cells by chance, and leaves most over", () => {
    const other = [cellSet(10, 10, (x, y) => 5000 + y * 10 + x), cellSet(20, 20, (x, y) => 9000 + y * 20 + x)];
    const { inliers, strays } = lined(other);
    assert.ok(inliers <= 10 && strays >= 5 * inliers, `${inliers} lined up, ${strays} left over`);
  });
});

describe("the grids one layout is counted over", () => {
  const fine = cellSet(14, 14, (x, y) => 1 + y * 14 + x);
  const coarse = cellSet(7, 7, (x, y) => 300 + y * 7 + x);
  const grid320 = cellSet(10, 10, (x, y) => 400 + y * 10 + x);
  const query = (framed: boolean) =>
    ({
      parts: { regions: [], cells: [fine, coarse] },
      verificationCells: [grid320],
      regionViews: framed ? [{ kind: "content", box: [0.2, 0.1, 0.6, 0.8], vector: new Float32Array(1) }] : [],
    }) as unknown as Fingerprint;

  it("are the query's own grids, the verification grids after its fine and coarse cells", () => {
    assert.deepEqual(layoutGrids(query(false)), [fine, coarse, grid320]);
  });

  it("are none for a framed query: its frame lines up with other pictures posted in the same frame", () => {
    assert.deepEqual(layoutGrids(query(true)), []);
    assert.deepEqual(lineUp([], fine, []), { inliers: 0, strays: 0 });
  });
});
