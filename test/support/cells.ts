import { CELL_DIMENSION, type CellSet } from "../../src/retrieval/regions/parts.ts";

/** A cell set whose cell (x, y) is a pseudo-random code seeded by `seed(x, y)`. */
export function cellSet(width: number, height: number, seed: (x: number, y: number) => number): CellSet {
  const codes = new Int8Array(width * height * CELL_DIMENSION);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let state = seed(x, y) * 2654435761;
      for (let p = 0; p < CELL_DIMENSION; p++) {
        state = (state * 1103515245 + 12345) >>> 0;
        codes[(y * width + x) * CELL_DIMENSION + p] = ((state >>> 16) % 255) - 127;
      }
    }
  }
  return { width, height, codes };
}
