/**
 * One layout across all of the query's own grids. A crop shows its cells at another scale on each
 * grid the query has (448, 224, 320 and 640 px), and on each grid alone only a few line up with the
 * stored image's fine cells: a strip's are 1.3 times too large at 320 px, a re-shared corner's
 * blurred. They are the same picture under one placement on every grid, though. So the best model
 * of each grid is put in the picture's own units and counted over the matches of all the grids: a
 * crop lines up on every grid at once, while a look-alike's chance alignment on one grid does not
 * carry over to the others, whose matches it turns into strays. Pure arithmetic over `CellSet`s.
 */
import type { CellSet } from "./parts.ts";
import { type Pairing, TIE_EPSILON } from "./verify.ts";

/** How many lined up under the best layout, and how many of the other matches it leaves over. */
export interface Lineup {
  readonly inliers: number;
  readonly strays: number;
}

/**
 * A grid's cells in the picture's own units: the centre of the grid at 0, its long side 1 (a
 * letterboxed map's long side spans the picture, so a cell's side is 1 / the longer side in cells).
 * Every grid of a query is cut by the same box (its content box when a frame was trimmed, ownGrids),
 * so they share that centre and long side.
 */
function frame({ width, height }: CellSet) {
  const cell = 1 / Math.max(width, height);
  return {
    cell,
    x: (i: number) => ((i % width) + 0.5 - width / 2) * cell,
    y: (i: number) => (Math.floor(i / width) + 0.5 - height / 2) * cell,
  };
}

/**
 * The matches of every query grid with the stored grid, counted under each grid's own best model,
 * the best count kept. `pairings` are the grids' pairings with the stored grid, in the same order, as
 * verify.ts found them (`Verification.withFirst`): nothing is matched or fitted again here.
 */
export function lineUp(query: readonly CellSet[], stored: CellSet, pairings: readonly Pairing[]): Lineup {
  const target = frame(stored);
  // Every match in the picture's units (query xy → stored xy), with its query grid's cell side.
  const qx: number[] = [];
  const qy: number[] = [];
  const sx: number[] = [];
  const sy: number[] = [];
  const qCell: number[] = [];
  // Each grid's best model as a map of the picture's units: stored = m · query + t.
  const models: { a: number; b: number; tx: number; ty: number; scale: number }[] = [];
  for (const [g, grid] of query.entries()) {
    const source = frame(grid);
    const { matches, model } = pairings[g]!;
    for (const [i, j] of matches) {
      qx.push(source.x(i));
      qy.push(source.y(i));
      sx.push(target.x(j));
      sy.push(target.y(j));
      qCell.push(source.cell);
    }
    if (!model) continue;
    // bestModel works in each set's cell coordinates (index + 0.5). A query point X in the picture's
    // units is at X / cell + width / 2 there, and a stored coordinate v at (v − width' / 2) · cell':
    // so stored = ratio · M · X + cell' · (M · p + t − size' / 2), p the query grid's half size.
    const ratio = target.cell / source.cell;
    const [a, b] = [ratio * model.c, ratio * model.s];
    const [px, py] = [grid.width / 2, grid.height / 2];
    const tx = (model.c * px - model.s * py + model.tx - stored.width / 2) * target.cell;
    const ty = (model.s * px + model.c * py + model.ty - stored.height / 2) * target.cell;
    models.push({ a, b, tx, ty, scale: Math.hypot(a, b) });
  }
  let inliers = 0;
  for (const { a, b, tx, ty, scale } of models) {
    let count = 0;
    for (let k = 0; k < qx.length; k++) {
      const tolerance = Math.max(target.cell, scale * qCell[k]!) + TIE_EPSILON;
      if (Math.hypot(a * qx[k]! - b * qy[k]! + tx - sx[k]!, b * qx[k]! + a * qy[k]! + ty - sy[k]!) <= tolerance) count++;
    }
    inliers = Math.max(inliers, count);
  }
  return { inliers, strays: qx.length - inliers };
}
