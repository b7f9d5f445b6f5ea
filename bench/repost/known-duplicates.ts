/**
 * Pairs inside the shared sets that are the same picture (or two shots of one scene seconds apart)
 * although the sets list them as different images. A verdict "repost" between them is right, so
 * they may not count as false reposts: each member is excluded from the others' results.
 *
 * Found by looking at every pair (~90) that ranked as the top false repost of any non-repost query
 * under GeM, GeM + PCA-whitening, or pHash distance ≤ 8 (bench/RESULTS.md tells how many), and kept
 * only where a person judges them the same photograph. Near misses (same artist's series, same
 * flower species in the same light, similar airplanes) stay negatives.
 */

export interface DuplicateGroup {
  readonly members: readonly string[];
  readonly why: string;
}

const cifar = (cls: string, ...n: number[]) => n.map((i) => `cifar:images/${cls}/${String(i).padStart(4, "0")}.jpg`);

export const KNOWN_DUPLICATES: readonly DuplicateGroup[] = [
  { members: ["museum:bbdd_00043.jpg", "museum:bbdd_00249.jpg"], why: "two photos of one painting" },
  { members: ["museum:bbdd_00179.jpg", "museum:bbdd_00219.jpg"], why: "two photos of one painting" },
  { members: ["museum:bbdd_00138.jpg", "museum:bbdd_00139.jpg"], why: "two photos of one artwork" },
  { members: ["blockhash-js:00631701.jpg", "blockhash-js:00631801.jpg"], why: "two photos of one cabinet" },
  { members: cifar("automobile", 43, 51, 128, 231, 277, 281, 318, 337, 365, 415), why: "one car advert, ten copies" },
  { members: cifar("automobile", 363, 472), why: "identical" },
  { members: cifar("dog", 296, 415), why: "identical" },
  { members: cifar("horse", 370, 401), why: "identical" },
  { members: cifar("frog", 91, 226), why: "identical" },
  { members: cifar("frog", 172, 380), why: "identical" },
  { members: cifar("ship", 386, 496), why: "identical" },
  { members: cifar("deer", 241, 434), why: "identical" },
  { members: cifar("airplane", 403, 491), why: "identical" },
  {
    members: [
      "flowers:images/sunflower/14741813110_94964c39e2_n.jpg",
      "flowers:images/sunflower/14741907467_fab96f3b2b_n.jpg",
      "flowers:images/sunflower/14741866338_bdc8bfc8d5_n.jpg",
    ],
    why: "one flower, consecutive shots",
  },
  {
    members: ["flowers:images/dandelion/17482158576_86c5ebc2f8.jpg", "flowers:images/dandelion/23192507093_2e6ec77bef_n.jpg"],
    why: "same photo, cropped",
  },
  {
    members: ["flowers:images/dandelion/5109501167_2d9bbb0f27_m.jpg", "flowers:images/dandelion/5110103388_78dc02558e_n.jpg"],
    why: "consecutive shots",
  },
  {
    members: ["flowers:images/dandelion/19551343814_48f764535f_m.jpg", "flowers:images/dandelion/19551343954_83bb52f310_m.jpg"],
    why: "consecutive shots",
  },
  {
    members: ["flowers:images/sunflower/15054753070_4f6ae0e763_m.jpg", "flowers:images/sunflower/15054864508_0334b892be_m.jpg"],
    why: "consecutive shots",
  },
];

/** Maps every member to its group's first member (what the picture "is"); others map to themselves. */
export function canonicalPicture(): (key: string) => string {
  const canonical = new Map<string, string>();
  for (const group of KNOWN_DUPLICATES) for (const m of group.members) canonical.set(m, group.members[0]!);
  return (key) => canonical.get(key) ?? key;
}
