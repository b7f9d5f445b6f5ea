/**
 * Regional evidence for one candidate: the closest pair of (query view or query region, stored
 * image or stored region) by cosine, and how many cells a spatial verification lines up. A crop
 * finds the region of the original it shows; a collage quadrant finds the whole original; and a
 * copy lines up cell by cell where another photo of the same subject does not.
 */
import type { Fingerprint } from "../fingerprint.ts";
import type { MatchedRegion, QueryView } from "../reposts.ts";
import { dot, dotsWith, type Projection } from "../vectors.ts";
import { type CellSet, cellsWithin, type Fractions, type ImageParts, regionVector } from "./parts.ts";
import { verify } from "./verify.ts";

export interface RegionalEvidence {
  /** Plain cosine of the closest (query part, stored part) pair, whole images included. */
  readonly score: number;
  /** Where that pair is (absent when it is the whole query against the whole stored image). */
  readonly region?: MatchedRegion;
  /**
   * Cells consistent with one scale + translation. Absent when the cells could not be compared (the
   * stored image has none: indexed before it had parts).
   */
  readonly inliers?: number;
  /**
   * The same for the query's verification grids alone (verificationGridsOf), the one that counts most
   * net of its strays (reposts.ts `cropCells`): the
   * cells of a crop or a collage tile line up with the stored image's cells at a scale near 1 on one
   * of them. Absent when the query has no such grids, or the cells could not be compared.
   */
  readonly cropInliers?: number;
  /**
   * That grid's other mutual matches, which its best model does not explain: a crop's matches mostly
   * line up, a look-alike's are mostly strays among which a dozen line up by chance. Present with
   * `cropInliers`.
   */
  readonly cropStrays?: number;
}

/** The closest pair of parts alone, before any verification. */
export type ClosestPair = Omit<RegionalEvidence, "inliers" | "cropInliers" | "cropStrays">;

const WHOLE: Fractions = [0, 0, 1, 1];

export interface Part {
  readonly vector: Float32Array;
  readonly box: Fractions;
  readonly kind?: MatchedRegion["kind"];
}

/** Regions of the query searched against stored images: the half-size corners and centre (parts.ts order). */
export const QUERY_REGION_INDEXES = [0, 2, 4, 6, 8] as const;

/** The query's views as parts (whole, mirrored, content box, tiles), without its own regions. */
export function viewParts(views: readonly QueryView[]): Part[] {
  return views.map((view) => ({ vector: view.vector, box: view.region?.query ?? WHOLE, kind: view.region?.kind }));
}

/** The query's parts: its views (whole, mirrored, content box, tiles) and its own regions. */
export function queryParts(query: Fingerprint, views: readonly QueryView[]): Part[] {
  const parts = viewParts(views);
  for (const region of query.parts?.regions ?? []) parts.push({ vector: regionVector(region), box: region.box, kind: "part" });
  return parts;
}

/** The stored image's parts: the whole image and its regions. */
export function storedParts(vector: Float32Array, parts: ImageParts | undefined): Part[] {
  return [{ vector, box: WHOLE }, ...(parts?.regions ?? []).map((region) => ({ vector: regionVector(region), box: region.box }))];
}

/** Lists of parts mapped into another metric space (e.g. the collection's whitening), all in one projection. */
export async function projectParts(lists: readonly (readonly Part[])[], project: Projection): Promise<Part[][]> {
  const vectors = await project(lists.flatMap((parts) => parts.map((part) => part.vector)));
  let next = 0;
  return lists.map((parts) => parts.map((part) => ({ ...part, vector: vectors[next++]! })));
}

/** The closest (query part, stored part) pair by cosine. */
export function closestParts(query: readonly Part[], storedList: readonly Part[]): ClosestPair {
  // Each norm once, not once per pair, and the query's parts four at a time against each stored
  // one: this runs for every candidate of every query (a query's ~20 parts against ~14 per candidate).
  const vectors = query.map((part) => part.vector);
  const queryNorms = vectors.map(norm);
  const dots = new Float64Array(query.length);
  let best: ClosestPair = { score: -Infinity };
  for (const stored of storedList) {
    const storedNorm = norm(stored.vector);
    dotsWith(vectors, stored.vector, dots);
    for (let i = 0; i < query.length; i++) {
      const part = query[i]!;
      const norms = queryNorms[i]! * storedNorm;
      const score = norms === 0 ? 0 : dots[i]! / norms;
      if (score <= best.score) continue;
      const whole = !part.kind && stored.box === WHOLE;
      best = whole ? { score } : { score, region: { kind: part.kind ?? "part", query: part.box, match: stored.box } };
    }
  }
  return best;
}

const norm = (vector: Float32Array) => Math.sqrt(dot(vector, vector));

/**
 * The query's cell sets: its own (fine, coarse and, for repost checks, the verification grids)
 * and those of its content box and tiles. When a
 * frame was trimmed (a screenshot's app, a border), its own cells are kept inside the content box
 * only: the frame lines up with any other picture posted in the same frame. Measured on the bench's
 * screenshot layouts (photo-pool pictures, one screenshot of another picture as the stored
 * look-alike): 9–53 cells lined up with the frame, 1–6 without, and the copies' counts unchanged.
 */
export function queryCells(query: Fingerprint): CellSet[] {
  const content = query.regionViews?.find((view) => view.kind === "content");
  const sets = [...(query.parts?.cells ?? []), ...(query.verificationCells ?? [])];
  const own = sets.map((set) => (content ? cellsWithin(set, content.box) : set));
  const views = (query.regionViews ?? []).flatMap((view) => view.cells ?? []);
  return [...own, ...views];
}

/**
 * Where the query's verification grids (QUERY_CELLS_INPUT_SIZES) sit among queryCells(query): right
 * after its own parts' cells; none when it has no such grids. The query's own 448-px cells are not
 * one: counted as a crop grid too, other pictures lined up so many at that scale that the crop floor
 * fitted on the renderings' fit split rose from 10 to 18 and strong reposts found fell 391 → 362 of 424.
 */
export function verificationGridsOf(query: Fingerprint): number[] {
  const first = query.parts?.cells.length ?? 0;
  return (query.verificationCells ?? []).map((_, k) => first + k);
}

/** Inliers of a spatial verification between the query's cells and a stored image's parts. */
export function verifiedCells(cells: readonly CellSet[], parts: ImageParts | undefined): number {
  return parts && cells.length > 0 ? verify(cells, parts.cells).inliers : 0;
}
