/**
 * When a newly posted image raises a repost alert: every rule of the server's repost settings, as
 * pure functions over plain data (no discord.js, no I/O), so each rule has a table test
 * (test/repost-policy.test.ts). The indexer gathers the facts (message fields, the poster's
 * visible channels), asks `repostQuery` what to search, runs the engine with it, and turns the
 * engine's verdict into an alert with `alertFor`; repost-alerts.ts delivers it as `alertAction` says.
 *
 * 1. `skipReason`: detection disabled, or the channel (or a thread's parent channel) is ignored.
 * 2. `repostQuery`: the sensitivity's thresholds; only earlier posts (within `lookbackDays`, 0 = all)
 *    from channels the poster can see, never the message itself; and an `accept` test that drops
 *    originals this picture was marked "not a repost" of, and the poster's own images within
 *    `sameAuthorWindowHours`.
 * 3. `alertFor`: only `exact` and `near-duplicate` verdicts alert (`similar` and `new` do not).
 */
import type { RowFilter } from "../retrieval/filters.ts";
import { hamming, hexToHash } from "../retrieval/hashes.ts";
import type { RepostVerdict } from "../retrieval/reposts.ts";
import type { RepostCalibration } from "../retrieval/thresholds.ts";
import type { GuildState, RepostSettings } from "./guild-state.ts";
import { thresholdsFor } from "./sensitivity.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** pHash distance within which two images count as the same picture for a "not a repost" mark. */
export const SAME_PICTURE_HAMMING = 6;

/** A newly posted message, as plain data. */
export interface Post {
  readonly messageId: string;
  readonly channelId: string;
  /** The channel a thread belongs to when the message is in a thread, else null. */
  readonly parentId: string | null;
  readonly authorId: string;
  /** When it was posted, in ms since the epoch. */
  readonly postedAt: number;
}

/** One image of a new post: the post and the image's perceptual hash. */
export interface PostedImage extends Post {
  readonly phash: bigint;
}

/** "This picture is not a repost of `originalId`", remembered by the picture's pHash (hex). */
export type NotARepostMark = GuildState["notReposts"][number];

/** What the rules read of a stored earlier image (a subset of the engine's Match). */
export interface Candidate {
  readonly id: string;
  readonly authorId?: string | null;
  readonly createdAt?: Date | null;
}

export type SkipReason = "disabled" | "ignored_channel";

export type RepostQuery =
  | { readonly check: false; readonly reason: SkipReason }
  | {
      readonly check: true;
      readonly thresholds: RepostCalibration;
      /** Which stored rows may be the original. */
      readonly filter: RowFilter;
      /** Whether a retrieved candidate may be the original (false: ignore it). */
      readonly accept: (match: Candidate) => boolean;
    };

/** An alert's content: the new image and the earlier image it repeats. */
export interface RepostFinding {
  readonly imageId: string;
  readonly verdict: "exact" | "near-duplicate";
  readonly original: NonNullable<RepostVerdict["match"]>;
}

/** Why a post's images are not checked at all, or null when they are. */
export function skipReason(post: Pick<Post, "channelId" | "parentId">, settings: RepostSettings): SkipReason | null {
  if (!settings.enabled) return "disabled";
  if (settings.ignoredChannelIds.some((id) => id === post.channelId || id === post.parentId)) return "ignored_channel";
  return null;
}

/** Whether the picture with this pHash was marked "not a repost" of `originalId`. */
export function markedNotARepost(phash: bigint, originalId: string, marks: readonly NotARepostMark[]): boolean {
  return marks.some((mark) => mark.originalId === originalId && hamming(hexToHash(mark.phash), phash) <= SAME_PICTURE_HAMMING);
}

/**
 * What to search for one new image: the thresholds, the rows that may be its original, and the
 * candidates to drop. `visibleChannelIds`: the channels the poster can see (permissions.ts).
 */
export function repostQuery(
  image: PostedImage,
  settings: RepostSettings,
  marks: readonly NotARepostMark[],
  visibleChannelIds: readonly string[],
): RepostQuery {
  const reason = skipReason(image, settings);
  if (reason) return { check: false, reason };
  const posted = image.postedAt;
  const sameAuthorWindow = settings.sameAuthorWindowHours * HOUR;
  return {
    check: true,
    thresholds: thresholdsFor(settings.sensitivity),
    // Only earlier posts the poster could have seen; never the message itself.
    filter: {
      visibleChannelIds,
      excludeMessageIds: [image.messageId],
      createdBefore: new Date(posted + 1),
      createdAfter: settings.lookbackDays > 0 ? new Date(posted - settings.lookbackDays * DAY) : undefined,
    },
    accept: (match) =>
      !markedNotARepost(image.phash, match.id, marks) &&
      !(match.authorId === image.authorId && posted - (match.createdAt?.getTime() ?? 0) < sameAuthorWindow),
  };
}

/** The alert for the engine's verdict on an image, or null: only exact copies and near-duplicates alert. */
export function alertFor(imageId: string, verdict: Pick<RepostVerdict, "verdict" | "match">): RepostFinding | null {
  if (verdict.verdict !== "exact" && verdict.verdict !== "near-duplicate") return null;
  if (!verdict.match) return null;
  return { imageId, verdict: verdict.verdict, original: verdict.match };
}

/** One alert per message: the finding with the highest score speaks for the rest (null if none). */
export function strongestFinding(findings: readonly RepostFinding[]): RepostFinding | null {
  return findings.reduce<RepostFinding | null>(
    (best, finding) => (best && best.original.score >= finding.original.score ? best : finding),
    null,
  );
}

/** How the alert is delivered: the log action without a log channel falls back to a reply. */
export type AlertAction = { readonly kind: "reply" } | { readonly kind: "react" } | { readonly kind: "log"; readonly channelId: string };

export function alertAction(settings: Pick<RepostSettings, "action" | "logChannelId">): AlertAction {
  if (settings.action === "react") return { kind: "react" };
  if (settings.action === "log" && settings.logChannelId) return { kind: "log", channelId: settings.logChannelId };
  return { kind: "reply" };
}
