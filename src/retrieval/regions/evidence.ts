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
  /**
   * The query's own grids' cells lined up with the stored image's fine cells under one layout
   * (lineup.ts), and the matches that layout leaves over. Absent when the cells could not be compared.
   */
  readonly layoutInliers?: number;
  readonly layoutStrays?: number;
}

/** The closest pair of parts alone, before any verification. */
export type ClosestPair = Pick<RegionalEvidence, "score" | "region">;

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

/** The query's own regions as parts. */
export function regionParts(query: Fingerprint): Part[] {
  return (query.parts?.regions ?? []).map((region) => ({ vector: regionVector(region), box: region.box, kind: "part" }));
}

/** The query's parts: its views (whole, mirrored, content box, tiles) and its own regions. */
export function queryParts(query: Fingerprint, views: readonly QueryView[]): Part[] {
  return [...viewParts(views), ...regionParts(query)];
}

/** The picture inside the query's frame (a screenshot's app, a border), when one was trimmed. */
export const contentView = (query: Fingerprint) => query.regionViews?.find((view) => view.kind === "content");

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
 * The lowest cosine at which a query region and the stored region at the same place rank a candidate
 * in /similar: near-identical pieces only. A sticker or a watermark moves the whole picture's vector
 * but leaves most of its pieces as they were; a piece of an ordinary photo is merely close to pieces
 * of many pictures of its kind. Chosen by an offline probe (2026-12-04: `engine.findSimilar`'s
 * candidates ranked every way; the renderings' fit split, flowers and CIFAR): the lowest floor
 * tried (0.85, 0.88, 0.9, 0.93) that kept flowers P@10 at the 0.59.
 */
export const SAME_PLACE_MIN_COSINE = 0.9;

/** Whether two boxes overlap by at least half their union: the same place in both pictures. */
function samePlace(a: Fractions, b: Fractions): boolean {
  const width = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const height = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (width <= 0 || height <= 0) return false;
  const overlap = width * height;
  return overlap >= 0.5 * (a[2] * a[3] + b[2] * b[3] - overlap);
}

/**
 * The query regions /similar ranks by (rankingPair): none for a framed query, whose regions are mostly
 * the frame, the same in every screenshot of one app (as its cells, queryCells).
 */
export function rankingRegions(query: Fingerprint): Part[] {
  return contentView(query) ? [] : regionParts(query);
}

/**
 * The pair /similar ranks a candidate by: the closest of the query's views against the stored image
 * and its regions (a crop finds the region of the original it shows), or of a query region
 * (rankingRegions) against the stored region at the same place when that pair is near-identical
 * (SAME_PLACE_MIN_COSINE).
 */
export function rankingPair(views: readonly Part[], regions: readonly Part[], stored: readonly Part[]): ClosestPair {
  let best = closestParts(views, stored);
  for (const region of regions) {
    const there = stored.filter((part) => samePlace(region.box, part.box));
    if (there.length === 0) continue;
    const pair = closestParts([region], there);
    if (pair.score >= SAME_PLACE_MIN_COSINE && pair.score > best.score) best = pair;
  }
  return best;
}

/**
 * The query's own grids (fine, coarse and, for repost checks, the verification grids). When a
 * frame was trimmed (a screenshot's app, a border), they are kept inside the content box only: the
 * frame lines up with any other picture posted in the same frame. Measured on the bench's
 * screenshot layouts (photo-pool pictures, one screenshot of another picture as the stored
 * look-alike): 9–53 cells lined up with the frame, 1–6 without, and the copies' counts unchanged.
 */
export function ownGrids(query: Fingerprint): CellSet[] {
  const content = contentView(query);
  const sets = [...(query.parts?.cells ?? []), ...(query.verificationCells ?? [])];
  return content ? sets.map((set) => cellsWithin(set, content.box)) : sets;
}

/**
 * The grids the one-layout count runs on (lineup.ts): the query's own, none for a framed query. Cut
 * to its content box, a screenshot's grids still line up with a stored screenshot of another picture
 * in the same app: on the renderings run of 2026-12-04, framed negatives lined up to 22 (fit split) and
 * 29 (test split) more cells than they left over, unframed ones up to 7. A framed query's picture
 * is verified by its content view's own cells instead.
 */
export function layoutGrids(query: Fingerprint): CellSet[] {
  return contentView(query) ? [] : ownGrids(query);
}

/** The query's cell sets: its own grids (ownGrids, first) and those of its content box and tiles. */
export function queryCells(query: Fingerprint): CellSet[] {
  const views = (query.regionViews ?? []).flatMap((view) => view.cells ?? []);
  return [...ownGrids(query), ...views];
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
