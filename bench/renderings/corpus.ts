/**
 * The held-out benchmark's corpus: what is stored (a server's history), and what is asked.
 *
 * Stored: the originals (photo-pool-cc photos and a sample of museum paintings), distractors
 * (the other stored paintings, flowers, CIFAR, the peer fixtures) and a few framed distractors
 * (screenshots, memes, collages of stored distractors: a history is full of them).
 *
 * Asked:
 * - reposts: each original through renderings of every kind, only renderings of its own split;
 *   right = a repost verdict naming that original;
 * - real re-photos: the museum queries of stored paintings;
 * - negatives, which must not be called reposts: pictures that are never stored, many of them the
 *   same subjects as stored ones (held-out flowers of the stored species, CIFAR's animals and
 *   vehicles, paintings not stored and phone photos of them, photos not stored), and framed
 *   renderings of never-stored pictures (a screenshot of a new picture is not a repost).
 *
 * Every picture has a split (split.ts); a query inherits its picture's split, and a rendered
 * query uses only renderings of that split, so a test row shares neither its original nor its
 * rendering style with any fit row.
 */
import { augly, blockhashImages, cifar, flowers, type ImageItem, imagededup, itemKey, museum, photoPool, sample } from "../lib/datasets.ts";
import { pick, seededRandom, seedOf } from "../lib/random.ts";
import type { Params } from "../repost/edits.ts";
import { generate, type Job } from "./generate.ts";
import { KINDS, kindNamed, RENDERINGS, renderingsOf } from "./kinds/catalogue.ts";
import type { Group, Rendering, Split } from "./kinds/types.ts";
import { canonical, type RoleShares, roleOf, SALT, splitOf } from "./split.ts";

export type RowGroup = Group | "re-photo" | "negative";

export interface Query {
  /** Unique: the rendered file's id, or the dataset item's key. */
  readonly id: string;
  readonly file: string;
  /** The kind of repost, "re-photo", or for negatives what they are (see NEGATIVE_CATEGORIES). */
  readonly kind: string;
  readonly group: RowGroup;
  readonly rendering: string | null;
  readonly split: Split;
  /** Canonical key of the stored original a right verdict names; null for negatives. */
  readonly expected: string | null;
  /** The picture shown (rendered or asked as it is). */
  readonly source: string;
  readonly fillers: readonly string[];
  /** A rendered query's parameters (with the source's size), as in the manifest. */
  readonly params?: Params;
}

export interface RenderingsCorpus {
  readonly stored: ImageItem[];
  readonly queries: Query[];
  readonly originals: { readonly key: string; readonly split: Split }[];
  readonly counts: Record<string, number>;
}

interface Sizes {
  /** Photo-pool originals (all stored photos when Infinity); museum originals drawn from the stored paintings. */
  readonly photoOriginals: number;
  readonly museumOriginals: number;
  /** Stored paintings (re-photo targets first in the quick slice, so it has re-photos). */
  readonly museumStored: number;
  readonly museumHeldOut: number;
  readonly rePhotos: number;
  readonly flowersStored: number;
  readonly flowersHeldOut: number;
  readonly cifarStored: number;
  readonly cifarHeldOut: number;
  readonly framedStored: number;
  readonly framedNegatives: number;
  /** Renderings of each kind per original (from its split's pool). */
  readonly renderingsPerOriginal: number;
  /** Only the first rendering of each kind per split (the quick slice). */
  readonly firstRenderingOnly: boolean;
}

const FULL: Sizes = {
  photoOriginals: Number.POSITIVE_INFINITY,
  museumOriginals: 68,
  museumStored: Number.POSITIVE_INFINITY,
  museumHeldOut: Number.POSITIVE_INFINITY,
  rePhotos: Number.POSITIVE_INFINITY,
  flowersStored: Number.POSITIVE_INFINITY,
  flowersHeldOut: Number.POSITIVE_INFINITY,
  cifarStored: Number.POSITIVE_INFINITY,
  cifarHeldOut: Number.POSITIVE_INFINITY,
  framedStored: 120,
  framedNegatives: 200,
  renderingsPerOriginal: 1,
  firstRenderingOnly: false,
};

/**
 * ~100 stored, 32 reposts (one original per split, one rendering per kind and split), ~50
 * negatives: every kind in both splits. Its time is mostly the engine's own per-query work
 * (checkRepost, findSimilar), so fewer queries is the only lever.
 */
const QUICK: Sizes = {
  // Paintings (≤ 512 px) rather than the 1024-px photos: rendering and analysing them is 3× faster.
  photoOriginals: 0,
  museumOriginals: 2,
  museumStored: 10,
  museumHeldOut: 8,
  rePhotos: 8,
  flowersStored: 36,
  flowersHeldOut: 12,
  cifarStored: 24,
  cifarHeldOut: 10,
  framedStored: 6,
  framedNegatives: 10,
  renderingsPerOriginal: 1,
  firstRenderingOnly: true,
};

/** Shares of each set by role (split.ts): the same in both modes, so the quick slice is a subset. */
const SHARES: Record<string, RoleShares> = {
  "photo-pool": { stored: 0.82, heldOut: 0.18 },
  museum: { stored: 0.75, heldOut: 0.25 },
  flowers: { stored: 0.62, heldOut: 0.38 },
  cifar: { stored: 0.18, heldOut: 0.05 },
};

/** What the negatives are, for the per-category false-repost table. */
export const NEGATIVE_CATEGORIES = {
  flower: "flower photo not stored (same five species as the stored ones)",
  cifar: "CIFAR image not stored (same ten classes as the stored ones)",
  painting: "museum painting not stored",
  "painting re-photo": "phone photo of a painting that is not stored",
  photo: "photo-pool photo not stored",
  framed: "screenshot, collage, meme, stickers or border of a picture that is not stored",
} as const;

/** Kinds whose renderings put a never-stored picture in a frame of its own (framed negatives, framed distractors). */
const FRAMING_KINDS = ["screenshot", "collage", "caption", "stickers", "border"] as const;

const byRole = (items: readonly ImageItem[], dataset: string, role: "stored" | "held-out") =>
  items.filter((item) => roleOf(itemKey(item), dataset, SHARES[dataset]!) === role);

/** `count` items, half from each split when the count is small (so the quick slice has both). */
function balanced(items: readonly ImageItem[], count: number, salt: string): ImageItem[] {
  if (!Number.isFinite(count)) return items.slice();
  return (["fit", "test"] as const).flatMap((split, i) =>
    sample(
      items.filter((item) => splitOf(itemKey(item)) === split),
      i === 0 ? Math.ceil(count / 2) : Math.floor(count / 2),
      `${SALT}/${salt}`,
    ),
  );
}

const take = (items: readonly ImageItem[], count: number, salt: string) =>
  Number.isFinite(count) ? sample(items, count, `${SALT}/${salt}`) : items.slice();

export async function buildCorpus(quick: boolean, log: (line: string) => void): Promise<RenderingsCorpus> {
  const sizes = quick ? QUICK : FULL;
  const paintings = await museum();
  const targets = new Set(paintings.queries.map((q) => canonical(`museum:${q.label!}`)));
  const isTarget = (item: ImageItem) => targets.has(canonical(itemKey(item)));
  const storedPaintingsPool = byRole(paintings.db, "museum", "stored");
  // The quick slice stores re-photo targets first, so its few stored paintings have re-photos.
  const storedPaintings = take(
    [...storedPaintingsPool.filter(isTarget), ...storedPaintingsPool.filter((p) => !isTarget(p))],
    sizes.museumStored,
    "museum-stored",
  );
  const heldOutPaintings = take(byRole(paintings.db, "museum", "held-out"), sizes.museumHeldOut, "museum-held-out");

  const photos = await photoPool();
  const photoOriginals = balanced(byRole(photos, "photo-pool", "stored"), sizes.photoOriginals, "photos");
  const museumOriginals = balanced(storedPaintings, sizes.museumOriginals, "museum-originals");
  const originals = [...photoOriginals, ...museumOriginals];
  const originalKeys = new Set(originals.map(itemKey));

  const allFlowers = await flowers();
  const allCifar = await cifar();
  const storedFlowers = take(byRole(allFlowers, "flowers", "stored"), sizes.flowersStored, "flowers-stored");
  const storedCifar = take(byRole(allCifar, "cifar", "stored"), sizes.cifarStored, "cifar-stored");
  const peers = [...(await blockhashImages()), ...(await imagededup()).base, ...(await augly()).others, (await augly()).original];
  const heldOut = {
    flower: take(byRole(allFlowers, "flowers", "held-out"), sizes.flowersHeldOut, "flowers-held-out"),
    cifar: take(byRole(allCifar, "cifar", "held-out"), sizes.cifarHeldOut, "cifar-held-out"),
    painting: heldOutPaintings,
    photo: byRole(photos, "photo-pool", "held-out"),
  };

  // Collage tiles of reposts and of framed negatives: never-stored pictures of the query's split
  // (CIFAR's 32 px would not pass for a photo in a collage).
  const fillerPool = [...heldOut.flower, ...heldOut.painting, ...heldOut.photo];
  const fillersFor = (rendering: Rendering, source: ImageItem, pool: readonly ImageItem[]): ImageItem[] => {
    const count = rendering.fillers ?? 0;
    const candidates = pool.filter((f) => itemKey(f) !== itemKey(source));
    if (count > candidates.length) throw new Error(`${rendering.id} needs ${count} fillers, only ${candidates.length} available`);
    const random = seededRandom(seedOf(SALT, "fillers", rendering.id, itemKey(source)));
    const chosen = new Set<ImageItem>();
    while (chosen.size < count) chosen.add(pick(candidates, random));
    return [...chosen];
  };
  const splitFillers = (split: Split) => fillerPool.filter((f) => splitOf(itemKey(f)) === split);

  const pool = (kind: string, split: Split) => {
    const all = renderingsOf(kind, split);
    return sizes.firstRenderingOnly ? all.slice(0, 1) : all;
  };
  /** The renderings of `kind` an original gets: `count` of its split's, starting at a hashed offset (even use). */
  const renderingsFor = (key: string, kind: string, split: Split, count: number) => {
    const p = pool(kind, split);
    const start = seedOf(SALT, "rendering", key, kind) % p.length;
    return Array.from({ length: Math.min(count, p.length) }, (_, j) => p[(start + j) % p.length]!);
  };

  const repostJobs: { job: Job; split: Split; kind: string }[] = [];
  for (const original of originals) {
    const split = splitOf(itemKey(original));
    for (const kind of KINDS) {
      for (const rendering of renderingsFor(itemKey(original), kind.name, split, sizes.renderingsPerOriginal)) {
        repostJobs.push({
          job: { rendering, source: original, fillers: fillersFor(rendering, original, splitFillers(split)) },
          split,
          kind: kind.name,
        });
      }
    }
  }

  // Framed negatives: a framing rendering of the picture's own split, kind by hash.
  const framable = take([...heldOut.flower, ...heldOut.painting, ...heldOut.photo], sizes.framedNegatives, "framed-negatives");
  const framedNegativeJobs = framable.map((source) => {
    const split = splitOf(itemKey(source));
    const kind = FRAMING_KINDS[seedOf(SALT, "framing", itemKey(source)) % FRAMING_KINDS.length]!;
    const [rendering] = renderingsFor(itemKey(source), kind, split, 1);
    return { job: { rendering: rendering!, source, fillers: fillersFor(rendering!, source, splitFillers(split)) }, split };
  });

  // Framed distractors (stored): renderings of stored distractors, collage tiles also stored
  // distractors, so nothing never-stored is ever part of a stored picture. Any rendering: they
  // are the history every query is asked against, not queries.
  const distractorPool = [...storedFlowers, ...storedPaintings.filter((p) => !originalKeys.has(itemKey(p)) && !isTarget(p))];
  const framings = RENDERINGS.filter((r) => (FRAMING_KINDS as readonly string[]).includes(r.kind));
  const framedStoredJobs: Job[] = take(distractorPool, sizes.framedStored, "framed-stored").map((source) => {
    const rendering = framings[seedOf(SALT, "framed-stored", itemKey(source)) % framings.length]!;
    return { rendering, source, fillers: fillersFor(rendering, source, storedFlowers) };
  });

  log(
    `  rendering ${repostJobs.length} reposts, ${framedNegativeJobs.length} framed negatives, ${framedStoredJobs.length} framed distractors`,
  );
  const made = await generate([...repostJobs.map((r) => r.job), ...framedNegativeJobs.map((f) => f.job), ...framedStoredJobs], log);
  const madeReposts = made.slice(0, repostJobs.length);
  const madeFramedNegatives = made.slice(repostJobs.length, repostJobs.length + framedNegativeJobs.length);
  const madeFramedStored = made.slice(repostJobs.length + framedNegativeJobs.length);

  const renderedId = (job: Job) => `${job.rendering.id}/${itemKey(job.source)}`;
  const stored: ImageItem[] = [
    ...originals,
    ...storedPaintings.filter((p) => !originalKeys.has(itemKey(p))),
    ...storedFlowers,
    ...storedCifar,
    ...peers,
    ...framedStoredJobs.map((job, i) => ({ dataset: "renderings", id: renderedId(job), file: madeFramedStored[i]!.file })),
  ];

  const queries: Query[] = [];
  repostJobs.forEach(({ job, split, kind }, i) => {
    queries.push({
      id: renderedId(job),
      file: madeReposts[i]!.file,
      kind,
      group: kindNamed(kind).group,
      rendering: job.rendering.id,
      split,
      expected: canonical(itemKey(job.source)),
      source: itemKey(job.source),
      fillers: job.fillers.map(itemKey),
      params: madeReposts[i]!.params,
    });
  });
  const storedKeys = new Set(stored.map((s) => canonical(itemKey(s))));
  const rePhotos = paintings.queries.filter((q) => storedKeys.has(canonical(`museum:${q.label!}`)));
  for (const q of take(rePhotos, sizes.rePhotos, "re-photos")) {
    const target = canonical(`museum:${q.label!}`);
    queries.push({
      id: itemKey(q),
      file: q.file,
      kind: "re-photo",
      group: "re-photo",
      rendering: null,
      split: splitOf(target),
      expected: target,
      source: target,
      fillers: [],
    });
  }
  const negative = (item: ImageItem, kind: keyof typeof NEGATIVE_CATEGORIES, source = itemKey(item)): Query => ({
    id: itemKey(item),
    file: item.file,
    kind,
    group: "negative",
    rendering: null,
    split: splitOf(source),
    expected: null,
    source,
    fillers: [],
  });
  for (const category of ["flower", "cifar", "painting", "photo"] as const)
    for (const item of heldOut[category]) queries.push(negative(item, category));
  const heldOutKeys = new Set(heldOut.painting.map((p) => canonical(itemKey(p))));
  const unstoredRePhotos = paintings.queries.filter((q) => heldOutKeys.has(canonical(`museum:${q.label!}`)));
  for (const q of take(unstoredRePhotos, Math.ceil(sizes.rePhotos / 2), "unstored-re-photos"))
    queries.push(negative(q, "painting re-photo", canonical(`museum:${q.label!}`)));
  framedNegativeJobs.forEach(({ job, split }, i) => {
    queries.push({
      id: renderedId(job),
      file: madeFramedNegatives[i]!.file,
      kind: "framed",
      group: "negative",
      rendering: job.rendering.id,
      split,
      expected: null,
      source: itemKey(job.source),
      fillers: job.fillers.map(itemKey),
      params: madeFramedNegatives[i]!.params,
    });
  });

  assertNothingNegativeIsStored(queries, storedKeys);
  const negatives = queries.filter((q) => q.expected === null).length;
  const counts = {
    stored: stored.length,
    originals: originals.length,
    "framed distractors (stored)": framedStoredJobs.length,
    "repost queries": repostJobs.length,
    "re-photo queries": queries.filter((q) => q.group === "re-photo").length,
    negatives,
  };
  return { stored, queries, originals: originals.map((o) => ({ key: canonical(itemKey(o)), split: splitOf(itemKey(o)) })), counts };
}

/** A negative that shows a stored picture (or a collage tile that is stored) would be a mislabelled repost. */
function assertNothingNegativeIsStored(queries: readonly Query[], storedKeys: ReadonlySet<string>): void {
  for (const q of queries) {
    const shown = q.expected === null ? [q.source, ...q.fillers] : q.fillers;
    for (const key of shown) if (storedKeys.has(canonical(key))) throw new Error(`${q.id} shows the stored picture ${key}`);
  }
}
