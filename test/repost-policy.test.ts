/**
 * Every rule that decides whether a new image raises a repost alert (src/bot/repost-policy.ts), as
 * table tests over plain data: enabled, ignored channels and threads, the lookback window, the
 * same-author window, "not a repost" marks, sensitivity, which verdicts alert, and how.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RepostSettings } from "../src/bot/guild-state.ts";
import {
  alertAction,
  alertFor,
  type Candidate,
  type NotARepostMark,
  type PostedImage,
  type RepostFinding,
  type RepostQuery,
  repostQuery,
  SAME_PICTURE_HAMMING,
  strongestFinding,
} from "../src/bot/repost-policy.ts";
import { thresholdsFor } from "../src/bot/sensitivity.ts";
import type { RowFilter } from "../src/retrieval/filters.ts";
import type { RepostVerdict } from "../src/retrieval/reposts.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const POSTED = Date.UTC(2024, 5, 15, 12, 0, 0);
const PHASH = 0x0123_4567_89ab_cdefn;
const hex = (h: bigint) => h.toString(16).padStart(16, "0");
/** PHASH with its lowest `bits` bits flipped: that many bits of Hamming distance away. */
const flipped = (bits: number) => PHASH ^ ((1n << BigInt(bits)) - 1n);

const DEFAULTS: RepostSettings = {
  enabled: true,
  action: "reply",
  logChannelId: null,
  sensitivity: "balanced",
  ignoredChannelIds: [],
  lookbackDays: 0,
  sameAuthorWindowHours: 24,
};
const settings = (change: Partial<RepostSettings> = {}): RepostSettings => ({ ...DEFAULTS, ...change });

/** A new image by member 100 in channel 10 (or thread 11 of channel 10). */
const image = (change: Partial<PostedImage> = {}): PostedImage => ({
  messageId: "500",
  channelId: "10",
  parentId: null,
  authorId: "100",
  postedAt: POSTED,
  phash: PHASH,
  ...change,
});
const inThread: Partial<PostedImage> = { channelId: "11", parentId: "10" };
const VISIBLE = ["10", "20"];

function checked(query: RepostQuery): Extract<RepostQuery, { check: true }> {
  assert.equal(query.check, true, `expected a check, got ${JSON.stringify(query)}`);
  return query as Extract<RepostQuery, { check: true }>;
}

/**
 * Whether a row created at `createdAt` passes the filter's time bounds (createdAfter inclusive,
 * createdBefore exclusive, as RowFilter documents).
 */
function inTimeWindow(filter: RowFilter, createdAt: number): boolean {
  return (
    (!filter.createdAfter || createdAt >= filter.createdAfter.getTime()) &&
    (!filter.createdBefore || createdAt < filter.createdBefore.getTime())
  );
}

describe("repostQuery: whether a post is checked at all", () => {
  const cases: {
    name: string;
    settings: RepostSettings;
    post: Partial<PostedImage>;
    expected: { check: true } | { check: false; reason: string };
  }[] = [
    { name: "on by default", settings: settings(), post: {}, expected: { check: true } },
    { name: "detection disabled", settings: settings({ enabled: false }), post: {}, expected: { check: false, reason: "disabled" } },
    {
      name: "the channel is ignored",
      settings: settings({ ignoredChannelIds: ["10"] }),
      post: {},
      expected: { check: false, reason: "ignored_channel" },
    },
    { name: "another channel is ignored", settings: settings({ ignoredChannelIds: ["20", "30"] }), post: {}, expected: { check: true } },
    {
      name: "a thread of an ignored channel",
      settings: settings({ ignoredChannelIds: ["10"] }),
      post: inThread,
      expected: { check: false, reason: "ignored_channel" },
    },
    {
      name: "an ignored thread itself",
      settings: settings({ ignoredChannelIds: ["11"] }),
      post: inThread,
      expected: { check: false, reason: "ignored_channel" },
    },
    {
      name: "a thread of a channel that is not ignored",
      settings: settings({ ignoredChannelIds: ["20"] }),
      post: inThread,
      expected: { check: true },
    },
    {
      name: "disabled wins over ignored",
      settings: settings({ enabled: false, ignoredChannelIds: ["10"] }),
      post: {},
      expected: { check: false, reason: "disabled" },
    },
  ];
  for (const { name, settings: s, post, expected } of cases) {
    it(name, () => {
      const query = repostQuery(image(post), s, [], VISIBLE);
      assert.deepEqual(query.check ? { check: true } : query, expected);
    });
  }
});

describe("repostQuery: which stored rows may be the original", () => {
  it("earlier posts from the visible channels, never the message itself", () => {
    const { filter } = checked(repostQuery(image(), settings(), [], VISIBLE));
    assert.deepEqual(filter, {
      visibleChannelIds: ["10", "20"],
      excludeMessageIds: ["500"],
      createdBefore: new Date(POSTED + 1),
      createdAfter: undefined,
    });
  });
  it("lookback N days sets the lower bound N days before the post", () => {
    const { filter } = checked(repostQuery(image(), settings({ lookbackDays: 7 }), [], VISIBLE));
    assert.equal(filter.createdAfter?.toISOString(), "2024-06-08T12:00:00.000Z");
    assert.equal(filter.createdBefore?.toISOString(), "2024-06-15T12:00:00.001Z");
  });

  const cases: { name: string; lookbackDays: number; age: number; inWindow: boolean }[] = [
    { name: "lookback 0 = all history: ten years back", lookbackDays: 0, age: 3650 * DAY, inWindow: true },
    { name: "lookback 0: one minute back", lookbackDays: 0, age: 60_000, inWindow: true },
    { name: "lookback 7: six days back", lookbackDays: 7, age: 6 * DAY, inWindow: true },
    { name: "lookback 7: exactly seven days back (inclusive)", lookbackDays: 7, age: 7 * DAY, inWindow: true },
    { name: "lookback 7: seven days and a millisecond back", lookbackDays: 7, age: 7 * DAY + 1, inWindow: false },
    { name: "lookback 1: two days back", lookbackDays: 1, age: 2 * DAY, inWindow: false },
    { name: "posted in the same millisecond counts as earlier", lookbackDays: 7, age: 0, inWindow: true },
    { name: "a later post is never the original", lookbackDays: 0, age: -1, inWindow: false },
  ];
  for (const { name, lookbackDays, age, inWindow } of cases) {
    it(name, () => {
      const { filter } = checked(repostQuery(image(), settings({ lookbackDays }), [], VISIBLE));
      assert.equal(inTimeWindow(filter, POSTED - age), inWindow);
    });
  }
});

describe("repostQuery: which candidates are accepted as the original", () => {
  const candidate = (change: { id?: string; authorId?: string | null; age?: number | null } = {}): Candidate => ({
    id: change.id ?? "orig",
    authorId: change.authorId === undefined ? "200" : change.authorId,
    createdAt: change.age === null ? null : new Date(POSTED - (change.age ?? HOUR)),
  });
  const mark = (originalId: string, phash: bigint): NotARepostMark => ({ originalId, phash: hex(phash) });

  const cases: { name: string; settings?: Partial<RepostSettings>; marks?: NotARepostMark[]; match: Candidate; accepted: boolean }[] = [
    { name: "another member's earlier image", match: candidate(), accepted: true },
    // The same-author window (default 24 h).
    { name: "own image an hour earlier (inside the window)", match: candidate({ authorId: "100", age: HOUR }), accepted: false },
    { name: "own image just inside the window", match: candidate({ authorId: "100", age: 24 * HOUR - 1 }), accepted: false },
    { name: "own image exactly one window earlier (outside)", match: candidate({ authorId: "100", age: 24 * HOUR }), accepted: true },
    { name: "own image two days earlier", match: candidate({ authorId: "100", age: 2 * DAY }), accepted: true },
    { name: "another member's image inside the window", match: candidate({ authorId: "200", age: 60_000 }), accepted: true },
    {
      name: "window 0 = off: own image a minute earlier",
      settings: { sameAuthorWindowHours: 0 },
      match: candidate({ authorId: "100", age: 60_000 }),
      accepted: true,
    },
    {
      name: "window 2 h: own image 3 h earlier",
      settings: { sameAuthorWindowHours: 2 },
      match: candidate({ authorId: "100", age: 3 * HOUR }),
      accepted: true,
    },
    {
      name: "window 2 h: own image 1 h earlier",
      settings: { sameAuthorWindowHours: 2 },
      match: candidate({ authorId: "100", age: HOUR }),
      accepted: false,
    },
    { name: "own image of unknown date", match: candidate({ authorId: "100", age: null }), accepted: true },
    { name: "unknown author", match: candidate({ authorId: null, age: 60_000 }), accepted: true },
    // "Not a repost" marks: by original and by picture (pHash).
    { name: "marked not a repost of this original (same picture)", marks: [mark("orig", PHASH)], match: candidate(), accepted: false },
    {
      name: `marked against this original, picture ${SAME_PICTURE_HAMMING} bits away (still the same picture)`,
      marks: [mark("orig", flipped(SAME_PICTURE_HAMMING))],
      match: candidate(),
      accepted: false,
    },
    {
      name: `marked against this original, picture ${SAME_PICTURE_HAMMING + 1} bits away`,
      marks: [mark("orig", flipped(SAME_PICTURE_HAMMING + 1))],
      match: candidate(),
      accepted: true,
    },
    {
      name: "marked against this original, a different picture (pHash far)",
      marks: [mark("orig", ~PHASH & 0xffff_ffff_ffff_ffffn)],
      match: candidate(),
      accepted: true,
    },
    { name: "this picture marked against another original", marks: [mark("other", PHASH)], match: candidate(), accepted: true },
    { name: "one of several marks matches", marks: [mark("other", PHASH), mark("orig", flipped(2))], match: candidate(), accepted: false },
  ];
  for (const { name, settings: change, marks = [], match, accepted } of cases) {
    it(name, () => {
      const { accept } = checked(repostQuery(image(), settings(change), marks, VISIBLE));
      assert.equal(accept(match), accepted);
    });
  }
});

describe("repostQuery: sensitivity picks the matching thresholds", () => {
  const levels = ["strict", "balanced", "loose"] as const;
  for (const level of levels) {
    it(level, () => {
      const { thresholds } = checked(repostQuery(image(), settings({ sensitivity: level }), [], VISIBLE));
      assert.deepEqual(thresholds, thresholdsFor(level));
    });
  }

  // A stricter level never flags what a looser one would not: every floor at least as high, and a
  // regional rule only where the looser level has one too, at a floor at least as high.
  const floors = [
    "nearMinCosine",
    "hashNearMinCosine",
    "exactMinCosine",
    "similarMinCosine",
    "regionNearMinCosine",
    "verifiedMinInliers",
    "verifiedMinCosine",
    "cropMinInliers",
  ] as const;
  for (const [stricter, looser] of [
    ["strict", "balanced"],
    ["balanced", "loose"],
  ] as const) {
    for (const space of ["raw", "whitened"] as const) {
      it(`${stricter} is no looser than ${looser} (${space})`, () => {
        const a = thresholdsFor(stricter)[space];
        const b = thresholdsFor(looser)[space];
        for (const floor of floors) {
          if (a[floor] === undefined) continue;
          assert.ok(b[floor] !== undefined && a[floor]! >= b[floor]!, `${floor}: ${a[floor]} vs ${b[floor]}`);
        }
        assert.ok(a.hashNearMaxPhash <= b.hashNearMaxPhash || a.hashNearMinCosine > b.hashNearMinCosine);
        // The guard on the whole-image cosine rule keeps reposts out: a stricter level's is at least as high.
        assert.ok((a.nearMinInliers ?? 0) >= (b.nearMinInliers ?? 0), `nearMinInliers: ${a.nearMinInliers} vs ${b.nearMinInliers}`);
        assert.notDeepEqual(a, b);
      });
    }
  }
});

type Original = NonNullable<RepostVerdict["match"]>;
const original = (id: string, score: number): Original => ({
  id,
  collection: "1",
  source: `https://cdn/${id}.jpg`,
  width: 10,
  height: 10,
  phash: PHASH,
  dhash: 0n,
  score,
  hamming: 2,
  flipped: false,
  decisionScore: score,
});

describe("alertFor: only exact copies and near-duplicates alert", () => {
  const cases: { verdict: RepostVerdict["verdict"]; match: Original | null; alerts: boolean }[] = [
    { verdict: "exact", match: original("o1", 0.99), alerts: true },
    { verdict: "near-duplicate", match: original("o1", 0.92), alerts: true },
    { verdict: "similar", match: original("o1", 0.87), alerts: false },
    { verdict: "new", match: original("o1", 0.3), alerts: false },
    { verdict: "new", match: null, alerts: false },
  ];
  for (const { verdict, match, alerts } of cases) {
    it(`${verdict}${match ? "" : " (empty index)"}`, () => {
      const finding = alertFor("img1", { verdict, match });
      assert.deepEqual(finding, alerts ? { imageId: "img1", verdict, original: match } : null);
    });
  }
});

describe("delivery", () => {
  const finding = (imageId: string, score: number): RepostFinding => ({
    imageId,
    verdict: "near-duplicate",
    original: original(`o-${imageId}`, score),
  });
  it("one alert per message: the highest score speaks (the first on a tie)", () => {
    assert.equal(strongestFinding([]), null);
    assert.equal(strongestFinding([finding("a", 0.91), finding("b", 0.97), finding("c", 0.93)])?.imageId, "b");
    assert.equal(strongestFinding([finding("a", 0.95), finding("b", 0.95)])?.imageId, "a");
  });

  const cases: { name: string; action: RepostSettings["action"]; logChannelId: string | null; expected: ReturnType<typeof alertAction> }[] =
    [
      { name: "reply (the default)", action: "reply", logChannelId: null, expected: { kind: "reply" } },
      { name: "react", action: "react", logChannelId: "77", expected: { kind: "react" } },
      { name: "log to the log channel", action: "log", logChannelId: "77", expected: { kind: "log", channelId: "77" } },
      { name: "log without a log channel falls back to a reply", action: "log", logChannelId: null, expected: { kind: "reply" } },
      { name: "reply ignores a configured log channel", action: "reply", logChannelId: "77", expected: { kind: "reply" } },
    ];
  for (const { name, action, logChannelId, expected } of cases) {
    it(name, () => assert.deepEqual(alertAction({ action, logChannelId }), expected));
  }
});
