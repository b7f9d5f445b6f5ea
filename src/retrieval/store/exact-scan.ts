/**
 * An exact nearest-neighbour scan over a table's rows in this process, for tables too small for an
 * index: LanceDB's own flat search costs a few milliseconds per query vector however few rows
 * there are, and a query brings a dozen vectors (its views and regions). Pure: Arrow batches in,
 * ids out.
 */
import type { RecordBatch } from "apache-arrow";
import { LookalikeError } from "../errors.ts";
import { dot, dotsWith } from "../vectors.ts";

/**
 * For each of `queries` (unit vectors), the ids of the `limit` rows with the largest cosine with
 * it, largest first; rows come as Arrow batches with an `id` column and a fixed-size-list `vector`
 * column (written at unit length, but each is divided by its own length all the same: one more dot
 * product per row, and a table written otherwise still ranks right).
 */
export function nearestIds(queries: readonly Float32Array[], batches: Iterable<RecordBatch>, limit: number): string[][] {
  const best = queries.map(() => new Nearest(limit));
  const dots = new Float64Array(queries.length);
  const dimension = queries[0]?.length ?? 0;
  for (const batch of batches) {
    const ids = batch.getChild("id");
    const vectors = batch.getChild("vector");
    if (!ids || !vectors) throw new LookalikeError("internal", "A scan needs the id and vector columns.");
    // One contiguous array per batch: no per-row conversion (a row's vector is a view into it).
    const values = vectors.getChildAt(0)?.toArray() as Float32Array | undefined;
    if (!(values instanceof Float32Array) || values.length !== batch.numRows * dimension) {
      throw new LookalikeError("internal", `A scan needs ${dimension}-d float32 vectors, one per row.`);
    }
    for (let row = 0; row < batch.numRows; row++) {
      const vector = values.subarray(row * dimension, (row + 1) * dimension);
      const length = Math.sqrt(dot(vector, vector));
      dotsWith(queries, vector, dots);
      const id = String(ids.get(row));
      for (let q = 0; q < queries.length; q++) best[q]!.offer(length === 0 ? 0 : dots[q]! / length, id);
    }
  }
  return best.map((nearest) => nearest.ids());
}

/** The `limit` best (score, id) pairs seen so far, best first; a tie keeps the earlier row. */
class Nearest {
  private readonly scores: number[] = [];
  private readonly found: string[] = [];

  constructor(private readonly limit: number) {}

  offer(score: number, id: string): void {
    const count = this.scores.length;
    if (this.limit <= 0 || (count === this.limit && score <= this.scores[count - 1]!)) return;
    let at = Math.min(count, this.limit - 1);
    while (at > 0 && this.scores[at - 1]! < score) at--;
    this.scores.splice(at, 0, score);
    this.found.splice(at, 0, id);
    if (this.scores.length > this.limit) {
      this.scores.pop();
      this.found.pop();
    }
  }

  ids(): string[] {
    return [...this.found];
  }
}
