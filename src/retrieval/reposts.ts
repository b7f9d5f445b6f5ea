/**
 * Repost verdicts: fuse the CNN's cosine (robust to crops, captions, screenshots, colour changes)
 * with perceptual-hash distance (precise for re-encodes and resizes of the very same pixels).
 * Pure functions over candidates already retrieved by vector search.
 */
import type { Fingerprint, RegionView } from "./fingerprint.ts";
import { hamming } from "./hashes.ts";
import {
  closestParts,
  layoutGrids,
  projectParts,
  queryCells,
  queryParts,
  type RegionalEvidence,
  storedParts,
  verificationGridsOf,
} from "./regions/evidence.ts";
import { lineUp } from "./regions/lineup.ts";
import type { ImageParts } from "./regions/parts.ts";
import { type CellScorer, type SetVerification, scoreCells as scoreCellsHere, totalCells, verify } from "./regions/verify.ts";
import type { Match } from "./store/schema.ts";
import { cosine, type Projection } from "./vectors.ts";

export type Verdict = "exact" | "near-duplicate" | "similar" | "new";

export interface RepostThresholds {
  /** `exact`: pHash and dHash within these Hamming distances and cosine at least `exactMinCosine`. */
  readonly exactMaxPhash: number;
  readonly exactMaxDhash: number;
  readonly exactMinCosine: number;
  /** `near-duplicate`: cosine at least this (calibrated at a false-repost rate, see bench/RESULTS.md). */
  readonly nearMinCosine: number;
  /** `near-duplicate` too when the pHashes agree this closely and the cosine is at least `hashNearMinCosine`. */
  readonly hashNearMaxPhash: number;
  readonly hashNearMinCosine: number;
  /** `similar`: cosine at least this. */
  readonly similarMinCosine: number;
  /**
   * `near-duplicate` too when a spatial verification lines up at least `verifiedMinInliers` cells
   * and the closest pair of parts (regions.ts) has a plain cosine of at least `verifiedMinCosine`.
   * Absent: no such rule (queries or collections without parts).
   */
  readonly verifiedMinInliers?: number;
  readonly verifiedMinCosine?: number;
  /**
   * `near-duplicate` too when one of the query's verification grids alone lines up at least this many cells
   * net of its strays (`cropCells`), with the same `verifiedMinCosine`: a crop of the stored picture
   * lines up fewer cells than a whole copy, but unrelated whole pictures rarely line up many at
   * that scale, and those that do have many more matches that do not. Absent: no such rule.
   */
  readonly cropMinInliers?: number;
  /**
   * `near-duplicate` too when the query's own grids line up at least this many more cells than they
   * leave over under one layout (`layoutCells`), with the same `verifiedMinCosine`. Absent: no such rule.
   */
  readonly layoutMinCells?: number;
  /** `near-duplicate` too when the closest pair of parts alone has at least this cosine (a crop of a region). */
  readonly regionNearMinCosine?: number;
  /**
   * A whole-image cosine of at least `nearMinCosine` alone does not make a near-duplicate of a
   * candidate whose cells were compared with the query's and fewer than this many lined up: a copy
   * keeps its layout, another picture in the same frame (two screenshots of one chat app showing
   * different pictures) only resembles it. Absent: no such guard.
   */
  readonly nearMinInliers?: number;
}

export interface RepostVerdict {
  readonly verdict: Verdict;
  /**
   * The stored image the verdict is about (the best candidate), or null when there is none.
   * `score` is the plain cosine (as search reports it); `decisionScore` is the cosine the
   * thresholds were applied to (in the collection's whitened space once it has one).
   */
  readonly match:
    | (Omit<Match, "vector"> & {
        readonly hamming: number;
        readonly flipped: boolean;
        readonly decisionScore: number;
        /** Where in the query the stored picture was found, when a part of it matched best. */
        readonly region?: MatchedRegion;
        /** Regional evidence: the closest pair of parts' plain cosine and the verified cells. */
        readonly regionScore?: number;
        readonly inliers?: number;
        readonly cropInliers?: number;
        readonly cropStrays?: number;
        readonly layoutInliers?: number;
        readonly layoutStrays?: number;
      })
    | null;
  /** The metric the verdict was decided in: plain cosine, or cosine after the collection's whitening. */
  readonly space: DecisionSpace;
}

export type DecisionSpace = "raw" | "whitened";

const RANK: Record<Verdict, number> = { exact: 3, "near-duplicate": 2, similar: 1, new: 0 };

export interface CandidateEvidence {
  /** The cosine the thresholds apply to, plain or whitened, of the query view closest to the candidate. */
  readonly score: number;
  /** The plain cosine of the query view closest to the candidate. */
  readonly cosine: number;
  /** pHash Hamming distance (0–64). */
  readonly hamming: number;
  readonly dhashHamming: number;
  /** A mirrored view of the query matched best (in the decision space). */
  readonly flipped: boolean;
  /** A part of the query (content box, collage tile) matched best. */
  readonly region?: MatchedRegion;
  /** Regions and verified cells, when the query and the candidate have parts. */
  readonly regional?: RegionalEvidence;
}

/** The part of the query that matched ([x, y, width, height], fractions 0–1) and of the stored image. */
export interface MatchedRegion {
  /** A content box or collage tile of the query, or one of its regions ("part"). */
  readonly kind: RegionView["kind"] | "part";
  readonly query: readonly [number, number, number, number];
  readonly match: readonly [number, number, number, number];
}

const WHOLE = [0, 0, 1, 1] as const;

/**
 * One way of looking at the query: as given, mirrored, its centre square (and that mirrored), or
 * one of its parts (content box, collage tile), which carries where it is.
 */
export interface QueryView {
  readonly vector: Float32Array;
  readonly mirrored: boolean;
  readonly region?: MatchedRegion;
}

/** The query's views in a fixed order (as given, mirrored, centre, centre mirrored, parts), those it has. */
export function queryViews(query: Fingerprint): QueryView[] {
  const views: QueryView[] = [{ vector: query.vector, mirrored: false }];
  if (query.flippedVector) views.push({ vector: query.flippedVector, mirrored: true });
  if (query.centreVector) views.push({ vector: query.centreVector, mirrored: false });
  if (query.centreFlippedVector) views.push({ vector: query.centreFlippedVector, mirrored: true });
  for (const part of query.regionViews ?? []) {
    views.push({ vector: part.vector, mirrored: false, region: { kind: part.kind, query: part.box, match: WHOLE } });
  }
  return views;
}

/** The query views and the candidate in another metric space (e.g. whitened), same order as queryViews. */
export interface DecisionVectors {
  readonly views: readonly QueryView[];
  readonly candidate: Float32Array;
}

interface ViewScore {
  readonly score: number;
  readonly flipped: boolean;
  readonly region?: MatchedRegion;
}

/** The closest view's cosine with the candidate, whether that view is mirrored, and which part it is. */
export function bestView(views: readonly QueryView[], candidate: Float32Array): ViewScore {
  let best: ViewScore = { score: -Infinity, flipped: false };
  for (const view of views) {
    const score = cosine(view.vector, candidate);
    if (score > best.score) best = { score, flipped: view.mirrored, region: view.region };
  }
  return best;
}

/**
 * The closest of the query's views (as given, mirrored, centre square), by plain cosine and, when
 * `decision` vectors are given, in that space too; and both hash distances.
 */
export function evidence(query: Fingerprint, candidate: Match, decision?: DecisionVectors): CandidateEvidence {
  const plain = candidate.vector ? bestView(queryViews(query), candidate.vector) : { score: candidate.score, flipped: false };
  const decided = decision ? bestView(decision.views, decision.candidate) : plain;
  return {
    score: decided.score,
    cosine: plain.score,
    hamming: hamming(query.phash, candidate.phash),
    dhashHamming: hamming(query.dhash, candidate.dhash),
    flipped: decided.flipped,
    region: decided.region,
  };
}

export function classify(e: CandidateEvidence, t: RepostThresholds): Verdict {
  const sameHashes = e.hamming <= t.exactMaxPhash && e.dhashHamming <= t.exactMaxDhash;
  if (!e.flipped && sameHashes && e.score >= t.exactMinCosine) return "exact";
  if (nearByCosine(e, t)) return "near-duplicate";
  if (!e.flipped && e.hamming <= t.hashNearMaxPhash && e.score >= t.hashNearMinCosine) return "near-duplicate";
  // Both hashes of the unmirrored query agree, which vouches for the orientation whichever view's
  // vector came closest: a blurred or recoloured copy keeps its hashes but loses cosine. The
  // "similar" floor keeps out near-blank images, whose hashes say little. On the held-out
  // renderings no negative came within the hash bounds at any cosine; the rule has no threshold
  // of its own (bench/RESULTS.md, renderings).
  if (sameHashes && e.score >= t.similarMinCosine) return "near-duplicate";
  if (verifiedCopy(e, t)) return "near-duplicate";
  if (e.score >= t.similarMinCosine) return "similar";
  return "new";
}

/**
 * The whole-image cosine rule: close enough, unless the candidate's cells were compared with the
 * query's and too few lined up for a copy (`nearMinInliers`).
 */
function nearByCosine(e: CandidateEvidence, t: RepostThresholds): boolean {
  const laidOutOtherwise = t.nearMinInliers !== undefined && e.regional?.inliers !== undefined && e.regional.inliers < t.nearMinInliers;
  return e.score >= t.nearMinCosine && !laidOutOtherwise;
}

/**
 * What a stray match costs a verification grid's count (`cropCells`). Chosen offline on the
 * renderings' fit split from the cached analyses (balanced level, whitened, the crop floor fitted
 * again for each weight; strays then counted over the grid's best-matched stored grid, an
 * approximation): strong reposts found 377 of 424 with no cost, 388 at ¼, 391 at ½, 392 at ¾, 388 at
 * 1, all with 1 false repost of 563. ½ was kept, one repost from ¾. The renderings section reports
 * it on the test split.
 */
export const CROP_STRAY_COST = 0.5;

type GridCounts = Pick<RegionalEvidence, "cropInliers" | "cropStrays">;

/**
 * A verification grid's lined-up cells net of its strays. A 30–70 % crop lines up 13–15 cells out of
 * 16–21 mutual matches; another photo of the subject lines up as many by chance out of 25–40.
 */
export function cropCells(regional: GridCounts): number | undefined {
  return regional.cropInliers === undefined ? undefined : regional.cropInliers - CROP_STRAY_COST * (regional.cropStrays ?? 0);
}

/** The regional rules: a region of the original found (alone, or with enough cells lined up). */
function verifiedCopy(e: CandidateEvidence, t: RepostThresholds): boolean {
  if (!e.regional) return false;
  if (t.regionNearMinCosine !== undefined && e.regional.score >= t.regionNearMinCosine) return true;
  if (t.verifiedMinCosine === undefined || e.regional.score < t.verifiedMinCosine) return false;
  const lined = (count: number | undefined, floor: number | undefined) => floor !== undefined && (count ?? 0) >= floor;
  return (
    lined(e.regional.inliers, t.verifiedMinInliers) ||
    lined(cropCells(e.regional), t.cropMinInliers) ||
    lined(layoutCells(e.regional), t.layoutMinCells)
  );
}

/**
 * The cells the query's own grids line up under one layout, less every match it leaves over: a crop's
 * grids agree on where it sits, so most of their matches line up; a look-alike lines up a few on one
 * grid and leaves the other grids' matches over. A left-over match costs a whole cell: in an offline
 * probe before the rule was built (not committed; the renderings' cached analyses, 2026-12-04, every
 * pair of matches proposing a layout, framed queries left out), at the floor that added no false
 * repost on the fit split a cost of 1 added none on the test split either (crops 30 → 35 of 45), while
 * ½ and ¼ added four and five there for one more crop. The floor is fitted (thresholds.ts).
 */
export function layoutCells(regional: Pick<RegionalEvidence, "layoutInliers" | "layoutStrays">): number | undefined {
  return regional.layoutInliers === undefined ? undefined : regional.layoutInliers - (regional.layoutStrays ?? 0);
}

/**
 * Candidates whose cells are verified against the query's: the closest few by regional cosine. A
 * verification costs a few milliseconds per candidate (4–6 ms of this thread's time, measured on the
 * renderings' cached analyses). Screenshots of an app rank other pictures posted in the same app
 * first, and their original 4th to 8th: with 6 instead of 3, the renderings' screenshots found
 * 29 → 33 of 45 on the test split, false reposts unchanged (an estimate from the cached analyses,
 * then run in full by `npm run bench -- --only renderings`).
 */
export const VERIFIED_CANDIDATES = 6;

/**
 * Regional evidence for the VERIFIED_CANDIDATES candidates whose parts are closest to the query's
 * by plain cosine: the closest pair of parts in the decision space (`project`: the collection's
 * whitening, truncated, since every part must be projected) and a spatial verification, whose
 * cell scores for all of them come from `scoreCells` in one go (default: computed here). Empty
 * when the query has no parts.
 */
export async function regionalEvidence(
  query: Fingerprint,
  candidates: readonly Match[],
  partsOf: (id: string) => ImageParts | undefined,
  project?: Projection,
  scoreCells: CellScorer = async (cells, stored) => scoreCellsHere(cells, stored),
): Promise<Map<string, RegionalEvidence>> {
  const result = new Map<string, RegionalEvidence>();
  if (!query.parts) return result;
  const parts = queryParts(query, queryViews(query));
  const closest = candidates
    .filter((c) => c.vector)
    .map((candidate) => {
      const stored = partsOf(candidate.id);
      const theirs = storedParts(candidate.vector!, stored);
      return { candidate, stored, theirs, pair: closestParts(parts, theirs) };
    })
    .sort((a, b) => b.pair.score - a.pair.score)
    .slice(0, VERIFIED_CANDIDATES);
  const cells = queryCells(query);
  const grids = verificationGridsOf(query);
  const layout = layoutGrids(query);
  const storedCells = closest.map(({ stored }) => stored?.cells ?? []);
  // The query's and every candidate's parts projected in one go, while the cells are scored.
  const [projected, scores] = await Promise.all([
    project && projectParts([parts, ...closest.map(({ theirs }) => theirs)], project),
    cells.length > 0 ? scoreCells(cells, storedCells.flat()) : undefined,
  ]);
  let column = 0;
  closest.forEach(({ candidate, pair }, k) => {
    // Without a projection the closest pair is the one just ranked by.
    const decided = projected ? closestParts(projected[0]!, projected[k + 1]!) : pair;
    const sets = storedCells[k]!;
    const verified = scores && sets.length > 0 ? verify(cells, sets, scores, column) : undefined;
    column += totalCells(sets);
    // The counts absent when the cells could not be compared (the stored image has none).
    if (!verified) {
      result.set(candidate.id, decided);
      return;
    }
    // The layout grids are the first of the query's cells (queryCells), paired with the stored fine cells.
    const laidOut = lineUp(layout, sets[0]!, verified.withFirst.slice(0, layout.length));
    result.set(candidate.id, {
      ...decided,
      inliers: verified.inliers,
      ...bestGrid(grids.map((k) => verified.bySet[k]!)),
      layoutInliers: laidOut.inliers,
      layoutStrays: laidOut.strays,
    });
  });
  return result;
}

/**
 * The verification grid whose cells count most net of strays (none when the query has no grids).
 * Each grid comes with its pairing that lines up most cells (verify), not the one best net of
 * strays: re-verified from the renderings' cached analyses, choosing by net found the same 391 of
 * 424 strong reposts and 1 false repost of 563 on the fit split (an offline probe, not committed, 2026-12-04).
 */
function bestGrid(grids: readonly SetVerification[]): GridCounts {
  let best: GridCounts = {};
  for (const { inliers, strays } of grids) {
    const grid = { cropInliers: inliers, cropStrays: strays };
    if (best.cropInliers === undefined || cropCells(grid)! > cropCells(best)!) best = grid;
  }
  return best;
}

/**
 * Candidates weighed in the decision space: projecting one costs a matrix product, and a query's
 * views and regions bring dozens; beyond the closest few by plain cosine none wins a verdict.
 */
export const WEIGHED_CANDIDATES = 12;

/** The WEIGHED_CANDIDATES closest candidates by plain cosine of the closest view, and those with regional evidence. */
function shortlist(query: Fingerprint, candidates: readonly Match[], regional: ReadonlyMap<string, RegionalEvidence>): Match[] {
  if (candidates.length <= WEIGHED_CANDIDATES) return [...candidates];
  const views = queryViews(query);
  const closest = candidates
    .map((candidate) => ({ candidate, score: candidate.vector ? bestView(views, candidate.vector).score : candidate.score }))
    .sort((a, b) => b.score - a.score);
  return closest.filter(({ candidate }, rank) => rank < WEIGHED_CANDIDATES || regional.has(candidate.id)).map(({ candidate }) => candidate);
}

/**
 * The strongest verdict over the candidates; ties go to the higher decision score. With a
 * projection the cosines the thresholds see are taken after it (the candidates need vectors).
 */
export interface JudgeContext {
  /** The decision space (the collection's whitening), when it has one. */
  readonly projection?: Projection;
  /** The same, cheaper, for the many parts of the regional evidence. */
  readonly regionalProjection?: Projection;
  /** Stored parts of a candidate, when it has them. */
  readonly partsOf?: (id: string) => ImageParts | undefined;
  /** Where the spatial verification's cell scores are computed (default: in this thread). */
  readonly scoreCells?: CellScorer;
}

/** A candidate with everything known about it: what `decide` turns into a verdict. */
export interface WeighedCandidate {
  readonly candidate: Match;
  readonly evidence: CandidateEvidence;
}

/** The evidence for every candidate (the regional part for the closest few, see regionalEvidence). */
export async function weigh(
  query: Fingerprint,
  candidates: readonly Match[],
  { projection, regionalProjection, partsOf = () => undefined, scoreCells }: JudgeContext = {},
): Promise<WeighedCandidate[]> {
  const regional = await regionalEvidence(query, candidates, partsOf, projection && regionalProjection, scoreCells);
  const shortlisted = shortlist(query, candidates, regional);
  const views = queryViews(query);
  const withVectors = shortlisted.flatMap((candidate) => (candidate.vector ? [candidate.vector] : []));
  // The views and the shortlisted candidates projected in one go.
  const projected = projection && (await projection([...views.map((view) => view.vector), ...withVectors]));
  const projectedViews = projected && views.map((view, i) => ({ ...view, vector: projected[i]! }));
  let next = views.length;
  return shortlisted.map((candidate) => {
    const decision = projectedViews && candidate.vector ? { views: projectedViews, candidate: projected[next++]! } : undefined;
    return { candidate, evidence: { ...evidence(query, candidate, decision), regional: regional.get(candidate.id) } };
  });
}

/**
 * The strongest verdict over weighed candidates; ties go to the higher decision score, the regional
 * one for a verdict only the regional rules gave.
 */
export function decide(weighed: readonly WeighedCandidate[], thresholds: RepostThresholds, space: DecisionSpace): RepostVerdict {
  let best: RepostVerdict = { verdict: "new", match: null, space };
  let bestScore = -Infinity;
  for (const { candidate, evidence: e } of weighed) {
    const verdict = classify(e, thresholds);
    // A verdict only the regional rules gave is about a part: it is told where, and ranked by that part.
    const byRegion = verdict === "near-duplicate" && !nearByCosine(e, thresholds) && verifiedCopy(e, thresholds);
    const score = byRegion ? e.regional!.score : e.score;
    if (!(RANK[verdict] > RANK[best.verdict] || (RANK[verdict] === RANK[best.verdict] && score > bestScore))) continue;
    const { vector: _vector, ...stored } = candidate;
    const found = { ...stored, score: e.cosine, decisionScore: e.score, hamming: e.hamming, flipped: e.flipped };
    // The regional counts (inliers, and cropInliers when the query has verification grids) as they are.
    const { score: regionScore, region: _where, ...counts } = e.regional ?? { score: undefined };
    const withRegional = e.regional ? { ...found, regionScore, ...counts } : found;
    const region = byRegion ? e.regional?.region : e.region;
    best = { verdict, space, match: region ? { ...withRegional, region } : withRegional };
    bestScore = score;
  }
  return best;
}

/** The verdict for the query against candidates already retrieved: `weigh`, then `decide`. */
export async function judge(
  query: Fingerprint,
  candidates: readonly Match[],
  thresholds: RepostThresholds,
  context: JudgeContext = {},
): Promise<RepostVerdict> {
  return decide(await weigh(query, candidates, context), thresholds, context.projection ? "whitened" : "raw");
}
