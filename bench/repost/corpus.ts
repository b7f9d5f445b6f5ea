/**
 * The repost benchmark's corpus: what is indexed (the "server history") and what is asked.
 *
 * Indexed: the originals (photo-pool-cc's 39 photos plus a seeded sample of museum paintings), all
 * distractors (CIFAR-10, flowers, the other museum paintings, the peer fixtures) and a few hundred
 * *framed distractors* (other people's memes, screenshots, collages…), because a server history is
 * full of those and a meme must not match another meme just for its white bars.
 *
 * Asked, each with the ids its result may not be (the engine's `excludeIds`):
 * - reposts: every transform of every original; correct = a repost verdict naming that original;
 * - real re-photos: the museum queries (a phone photo of an indexed painting);
 * - non-reposts: every indexed image except itself (leave-one-out: other paintings, same-class
 *   flowers, other photos) and framed copies of distractors with their source excluded (a meme of
 *   a picture never posted before). Any repost verdict on these is a false repost.
 *
 * Everything is split in two halves by a hash of the original's / the query's id: thresholds are
 * chosen on the calibration half and reported on the test half.
 */
import {
  augly,
  blockhashImages,
  cifar,
  flowers,
  type ImageItem,
  imagededup,
  itemKey,
  museum,
  photoPool,
  QUICK_SALT,
  sample,
} from "../lib/datasets.ts";
import { halfOf, pick, seededRandom, seedOf } from "../lib/random.ts";
import { canonicalPicture } from "./known-duplicates.ts";
import { FRAMING_TRANSFORMS, type Generated, generate, type Job, TRANSFORMS, transformNamed } from "./transforms.ts";

export type QueryKind = "repost" | "re-photo" | "non-repost" | "framed non-repost";
export type Half = "calibration" | "test";

export interface RepostQuery {
  readonly item: ImageItem;
  readonly kind: QueryKind;
  /** Transform name ("re-photo" / "leave-one-out" / framing name for the others). */
  readonly transform: string;
  readonly group: "mild" | "strong" | "re-photo" | "none";
  /** itemKey of the indexed original a correct verdict names; null for non-reposts. */
  readonly expected: string | null;
  /** itemKeys the result may not be (the query itself, its source, collage fillers). */
  readonly excluded: readonly string[];
  readonly half: Half;
}

export interface RepostCorpus {
  readonly indexed: ImageItem[];
  readonly queries: RepostQuery[];
  readonly originals: ImageItem[];
  readonly generated: Generated[];
  readonly counts: Record<string, number>;
}

interface Sizes {
  readonly museumOriginals: number;
  readonly photoOriginals: number;
  readonly cifar: number;
  readonly flowers: number;
  readonly museumDistractors: number;
  /** Framed distractors indexed, and framed non-repost queries. */
  readonly framedIndexed: number;
  readonly framedQueries: number;
}

const FULL: Sizes = {
  museumOriginals: 40,
  photoOriginals: 39,
  cifar: 5000,
  flowers: 1500,
  museumDistractors: 247,
  framedIndexed: 200,
  framedQueries: 200,
};
/**
 * The quick slice (the test suite's smoke run): one photo original per half (so both halves have a
 * repost of every transform; the paintings are in it as distractors and re-photos), and a small
 * index (~115 images), so every step runs in seconds and the fused verdict is still calibrated
 * on, and judged over, real negatives.
 */
const QUICK: Sizes = {
  museumOriginals: 0,
  photoOriginals: 2,
  cifar: 40,
  flowers: 24,
  museumDistractors: 12,
  framedIndexed: 6,
  framedQueries: 8,
};

const SALT = "repost-v1";
const originalsHalf = (item: ImageItem): Half => halfOf(itemKey(item), `${SALT}/originals`);

/** `count` originals; the quick slice draws half of them from each half of the corpus. */
function originalsFrom(items: readonly ImageItem[], count: number, salt: string, quick: boolean): ImageItem[] {
  if (!quick) return sample(items, count, salt);
  return (["calibration", "test"] as const).flatMap((h, i) =>
    sample(
      items.filter((item) => originalsHalf(item) === h),
      i === 0 ? Math.ceil(count / 2) : Math.floor(count / 2),
      salt,
    ),
  );
}

export async function buildCorpus(quick: boolean, log: (line: string) => void): Promise<RepostCorpus> {
  const sizes = quick ? QUICK : FULL;
  const paintings = await museum();
  // Paintings that serve as originals are drawn first; the rest of the museum db are distractors.
  const museumOriginals = originalsFrom(paintings.db, sizes.museumOriginals, `${SALT}/museum-originals`, quick);
  const originalKeys = new Set(museumOriginals.map(itemKey));
  // The quick slice's distractors are the quality slice's (QUICK_SALT): their maps are computed once.
  const salt = (name: string) => (quick ? QUICK_SALT : `${SALT}/${name}`);
  const museumRest = sample(
    paintings.db.filter((d) => !originalKeys.has(itemKey(d))),
    sizes.museumDistractors,
    salt("museum"),
  );
  const originals = [...originalsFrom(await photoPool(), sizes.photoOriginals, `${SALT}/photos`, quick), ...museumOriginals];
  const peers = [...(await blockhashImages()), ...(await imagededup()).base, ...(await augly()).others, (await augly()).original];
  const distractors = [
    ...sample(await cifar(), sizes.cifar, salt("cifar")),
    ...sample(await flowers(), sizes.flowers, salt("flowers")),
    ...museumRest,
    ...peers,
  ];

  // Framed copies are made of flowers, paintings and peer photos (CIFAR's 32 px would not make a
  // believable meme). Sources of indexed and asked framed copies are disjoint.
  const framable = sample(
    distractors.filter((d) => d.dataset !== "cifar"),
    sizes.framedIndexed + sizes.framedQueries,
    `${SALT}/framed`,
  );
  // Collage fillers come from the whole flowers set, so the quick slice and the full run make the
  // same collage of an image (fillers that are indexed are excluded from that query's results).
  const fillerPool = await flowers();
  const fillersFor = (label: string) => {
    const random = seededRandom(seedOf(SALT, "fillers", label));
    const chosen = new Set<ImageItem>();
    while (chosen.size < 3) chosen.add(pick(fillerPool, random));
    return [...chosen];
  };
  const jobOf = (transformName: string, source: ImageItem): Job => {
    const transform = transformNamed(transformName);
    return { transform, source, fillers: transform.fillers ? fillersFor(`${transformName}/${itemKey(source)}`) : [] };
  };
  const framingOf = (source: ImageItem) => FRAMING_TRANSFORMS[seedOf(SALT, "framing", itemKey(source)) % FRAMING_TRANSFORMS.length]!;

  const repostJobs = originals.flatMap((source) => TRANSFORMS.map((t) => jobOf(t.name, source)));
  const framedIndexedJobs = framable.slice(0, sizes.framedIndexed).map((s) => jobOf(framingOf(s), s));
  const framedQueryJobs = framable.slice(sizes.framedIndexed).map((s) => jobOf(framingOf(s), s));
  const [reposts, framedIndexed, framedQueries] = [
    await generate(repostJobs, log),
    await generate(framedIndexedJobs, log),
    await generate(framedQueryJobs, log),
  ];

  const indexed = [...originals, ...distractors, ...framedIndexed.map((g) => g.item)];
  // What each indexed image shows: itself, or (framed copies) its source and collage fillers. A
  // query may never be counted against an indexed image that shows the same picture as it does.
  // Known duplicates inside the shared sets count as one picture (see known-duplicates.ts).
  const picture = canonicalPicture();
  const showing = new Map<string, string[]>();
  const shows = (indexedKey: string, content: readonly string[]) => {
    for (const c of content.map(picture)) showing.set(c, [...(showing.get(c) ?? []), indexedKey]);
  };
  for (const item of indexed) shows(itemKey(item), [itemKey(item)]);
  for (const g of framedIndexed) shows(itemKey(g.item), [g.source, ...g.fillers]);
  const sharingContent = (content: readonly string[], keep: string | null = null) =>
    [...new Set(content.map(picture).flatMap((c) => showing.get(c) ?? []))].filter((k) => k !== keep);

  const half = (key: string, salt: string): Half => halfOf(key, `${SALT}/${salt}`);
  const queries: RepostQuery[] = [];
  for (const g of reposts) {
    queries.push({
      item: g.item,
      kind: "repost",
      transform: g.transform,
      group: g.group,
      expected: g.source,
      excluded: sharingContent([g.source, ...g.fillers], g.source),
      half: half(g.source, "originals"),
    });
  }
  const museumByKey = new Map(paintings.db.map((d) => [d.id, d]));
  // A re-photo is a repost only of an indexed painting (the full corpus indexes all of them).
  const indexedKeys = new Set(indexed.map(itemKey));
  const rePhotos = paintings.queries.filter((q) => indexedKeys.has(itemKey(museumByKey.get(q.label!)!)));
  for (const q of rePhotos) {
    const target = museumByKey.get(q.label!)!;
    const expected = itemKey(target);
    queries.push({
      item: q,
      kind: "re-photo",
      transform: "re-photo",
      group: "re-photo",
      expected,
      excluded: sharingContent([expected], expected),
      half: half(itemKey(q), "re-photos"),
    });
  }
  const framedContent = new Map(framedIndexed.map((g) => [itemKey(g.item), [g.source, ...g.fillers]]));
  for (const item of indexed) {
    const key = itemKey(item);
    const content = framedContent.get(key) ?? [key];
    queries.push({
      item,
      kind: "non-repost",
      transform: "leave-one-out",
      group: "none",
      expected: null,
      excluded: [...new Set([key, ...sharingContent(content)])],
      half: half(key, "negatives"),
    });
  }
  for (const g of framedQueries) {
    queries.push({
      item: g.item,
      kind: "framed non-repost",
      transform: g.transform,
      group: "none",
      expected: null,
      excluded: sharingContent([g.source, ...g.fillers]),
      half: half(itemKey(g.item), "negatives"),
    });
  }
  const counts = {
    originals: originals.length,
    distractors: distractors.length,
    "framed distractors (indexed)": framedIndexed.length,
    indexed: indexed.length,
    "repost queries": reposts.length,
    "re-photo queries": rePhotos.length,
    "non-repost queries": indexed.length + framedQueries.length,
  };
  return { indexed, queries, originals, generated: [...reposts, ...framedIndexed, ...framedQueries], counts };
}
