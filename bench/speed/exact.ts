/**
 * Exact top-k by cosine for a set of queries, computed in JS while the rows stream past (so 1M rows
 * never have to be held at once). The ground truth for recall@k; rows are unit vectors, queries too.
 */
export class ExactTopK {
  private readonly ids: Int32Array;
  private readonly scores: Float32Array;

  constructor(
    private readonly queries: readonly Float32Array[],
    private readonly k: number,
    /** Rows a filtered search may return (default: all). */
    private readonly keeps: (row: number) => boolean = () => true,
  ) {
    this.ids = new Int32Array(queries.length * k).fill(-1);
    this.scores = new Float32Array(queries.length * k).fill(-Infinity);
  }

  /** Rows `first`… in row-major `vectors` (`count` rows). */
  add(first: number, vectors: Float32Array, count: number): void {
    const d = vectors.length / count;
    // Blocks of rows small enough to stay in cache while every query passes over them.
    const BLOCK = 64;
    for (let start = 0; start < count; start += BLOCK) {
      const end = Math.min(count, start + BLOCK);
      for (let q = 0; q < this.queries.length; q++) this.scan(q, first, vectors, start, end, d);
    }
  }

  private scan(q: number, first: number, vectors: Float32Array, start: number, end: number, d: number): void {
    const { k, ids, scores } = this;
    const query = this.queries[q]!;
    const base = q * k;
    let worst = scores[base + k - 1]!;
    for (let row = start; row < end; row++) {
      if (!this.keeps(first + row)) continue;
      const score = dot(query, vectors, row * d, d);
      if (score <= worst) continue;
      // Insertion into the sorted (descending) list of k.
      let at = k - 1;
      while (at > 0 && scores[base + at - 1]! < score) {
        scores[base + at] = scores[base + at - 1]!;
        ids[base + at] = ids[base + at - 1]!;
        at--;
      }
      scores[base + at] = score;
      ids[base + at] = first + row;
      worst = scores[base + k - 1]!;
    }
  }

  /** Cosine of each query's `rank`-th nearest row (1-based). */
  scoresAt(rank: number): number[] {
    return this.queries.map((_, q) => this.scores[q * this.k + rank - 1]!);
  }

  /** Row numbers of the k nearest rows of each query, best first. */
  results(): number[][] {
    return this.queries.map((_, q) => Array.from(this.ids.subarray(q * this.k, (q + 1) * this.k)));
  }
}

export function dot(a: Float32Array, b: Float32Array, offset: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < d; i += 4) {
    s0 += a[i]! * b[offset + i]!;
    s1 += a[i + 1]! * b[offset + i + 1]!;
    s2 += a[i + 2]! * b[offset + i + 2]!;
    s3 += a[i + 3]! * b[offset + i + 3]!;
  }
  for (; i < d; i++) s0 += a[i]! * b[offset + i]!;
  return s0 + s1 + s2 + s3;
}

/** |found ∩ truth| / |truth| over all queries (truth lists of length k). */
export function recallAtK(found: readonly (readonly number[])[], truth: readonly (readonly number[])[]): number {
  let hit = 0;
  let total = 0;
  found.forEach((ids, q) => {
    const wanted = new Set(truth[q]!.filter((id) => id >= 0));
    total += wanted.size;
    for (const id of ids) if (wanted.has(id)) hit++;
  });
  return total === 0 ? 1 : hit / total;
}
