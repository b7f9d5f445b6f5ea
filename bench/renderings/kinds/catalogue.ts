/**
 * Every kind of repost and its renderings, and the split between them: for each kind some
 * renderings are only ever used to fit thresholds and the others only to report them. The split
 * table in the report is printed from here.
 */
import { CAPTION_RENDERINGS } from "./captions.ts";
import { COLLAGE_RENDERINGS } from "./collages.ts";
import { BORDER_RENDERINGS, STICKER_RENDERINGS } from "./decorations.ts";
import { GEOMETRY_RENDERINGS } from "./geometry.ts";
import { MILD_RENDERINGS } from "./mild.ts";
import { SCREENSHOT_RENDERINGS } from "./screenshots.ts";
import { TONE_RENDERINGS } from "./tones.ts";
import type { Kind, Rendering, Split } from "./types.ts";

export const KINDS: readonly Kind[] = [
  { name: "jpeg", group: "mild", description: "re-encoded JPEG, q30–70" },
  { name: "resize", group: "mild", description: "resized to 0.3–0.6" },
  { name: "crop80", group: "mild", description: "80 % crop" },
  { name: "flip", group: "mild", description: "mirrored" },
  { name: "brightness", group: "mild", description: "brighter or darker" },
  { name: "webp", group: "mild", description: "saved as WebP" },
  { name: "png", group: "mild", description: "saved as PNG" },
  { name: "caption", group: "mild", description: "caption text above, below or on it" },
  { name: "screenshot", group: "strong", description: "phone screenshot of a social app" },
  { name: "collage", group: "strong", description: "one tile of a collage" },
  { name: "crop", group: "strong", description: "crop keeping 30–70 % of the area" },
  { name: "stickers", group: "strong", description: "1–4 stickers or emoji, 3–10 % of the area each" },
  { name: "border", group: "strong", description: "border and watermark" },
  { name: "rotate", group: "strong", description: "rotated 3–15°" },
  { name: "greyscale", group: "strong", description: "greyscale" },
  { name: "blur", group: "strong", description: "blurred, σ 2–4" },
];

export const RENDERINGS: readonly Rendering[] = [
  ...MILD_RENDERINGS,
  ...CAPTION_RENDERINGS,
  ...SCREENSHOT_RENDERINGS,
  ...COLLAGE_RENDERINGS,
  ...GEOMETRY_RENDERINGS,
  ...STICKER_RENDERINGS,
  ...BORDER_RENDERINGS,
  ...TONE_RENDERINGS,
];

/** The renderings of `kind` in `split`, in catalogue order. */
export const renderingsOf = (kind: string, split: Split): Rendering[] => RENDERINGS.filter((r) => r.kind === kind && r.split === split);

export const kindNamed = (name: string): Kind => {
  const kind = KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`unknown kind ${name}`);
  return kind;
};

export const renderingNamed = (id: string): Rendering => {
  const rendering = RENDERINGS.find((r) => r.id === id);
  if (!rendering) throw new Error(`unknown rendering ${id}`);
  return rendering;
};

/** The catalogue's own rules, checked once at load: a broken catalogue must not produce numbers. */
function check(): void {
  const ids = new Set<string>();
  for (const r of RENDERINGS) {
    if (ids.has(r.id)) throw new Error(`rendering id ${r.id} is used twice`);
    ids.add(r.id);
    kindNamed(r.kind);
  }
  for (const k of KINDS) {
    for (const split of ["fit", "test"] as const) {
      if (renderingsOf(k.name, split).length === 0) throw new Error(`kind ${k.name} has no ${split} rendering`);
    }
  }
}
check();
