/** Word-wrapping and canned texts for captions, screenshots and stickers (SVG has no text flow). */
import { pick } from "../../lib/random.ts";

/** Average advance of a DejaVu glyph in em (Sans ~0.55–0.62, Mono 0.6): enough to wrap believably. */
const EM_PER_CHAR = 0.6;

/** Lines of at most the characters that fit `width` at font `size`; never more than `maxLines`. */
export function wrap(content: string, width: number, size: number, maxLines = 3): string[] {
  const perLine = Math.max(4, Math.floor(width / (size * EM_PER_CHAR)));
  const lines: string[] = [];
  let line = "";
  for (const word of content.split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (next.length > perLine && line) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${kept[maxLines - 1]!.slice(0, Math.max(1, perLine - 1))}…`;
  return kept;
}

export const POST_TEXTS = [
  "I can't believe nobody is talking about this",
  "found this in my camera roll from last summer and honestly it still hits",
  "the view from our hike this morning, worth every step",
  "someone explain this to me like I'm five",
  "this is the most relaxing thing you'll see today",
  "my grandmother painted this in 1974 and we just found it in the attic",
  "tag someone who needs to see this",
  "ok but why does this look like a video game",
  "not me saving this as my wallpaper for the third time",
  "reposting because the first one got buried",
] as const;

export const COMMENTS = [
  "this is amazing",
  "where is this??",
  "saving this",
  "wow the colours",
  "I've seen this before somewhere",
  "need this as a poster",
  "haha this is so good",
  "underrated post",
] as const;

export const NAMES = ["Maya Chen", "Jonas Weber", "Priya N.", "Alex Moreau", "Sam O'Neil", "Lucía R.", "Tom Baker", "Ana Sousa"] as const;

export const STICKER_WORDS = ["lol", "wow", "same", "me irl", "omg", "nope", "mood", "yes!!"] as const;

export const pickText = <T>(items: readonly T[], random: () => number): T => pick(items, random);
