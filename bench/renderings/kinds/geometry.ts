/**
 * Geometric strong reposts: crops keeping 30–70 % of the area (corners, anywhere, reshaped, strips,
 * small re-shares) and rotations of 3–15° (canvas grown on black or white, cropped to fill, or kept at
 * the original size with black corners).
 */
import sharp from "sharp";
import { between } from "../../lib/random.ts";
import { type Picture, rotate } from "../../repost/edits.ts";
import { box } from "./mild.ts";
import { posted, type Render, type Rendering, round3 } from "./types.ts";

const corner = (random: () => number) => [random() < 0.5 ? 0 : 1, random() < 0.5 ? 0 : 1] as const;

/** How a crop is posted: optionally shrunk by `scale` (re-shared), then encoded (default JPEG q90). */
interface Posting {
  readonly scale?: number;
  readonly quality?: number;
  readonly format?: "jpeg" | "webp";
}

/** A crop of `area` of the picture, `wf` of its width, at (fx, fy), posted as `posting` says. */
async function cropArea(p: Picture, area: number, wf: number, fx: number, fy: number, posting: Posting = {}) {
  const b = box(p, wf, area / wf, fx, fy);
  const { scale, quality = 90, format = "jpeg" } = posting;
  let image = sharp(p.data).extract(b);
  if (scale !== undefined) image = sharp(await image.png().toBuffer()).resize(Math.round(b.width * scale), Math.round(b.height * scale));
  const params = { ...b, area: round3(area), scale: scale ?? 1 };
  return posted(image, params, format, { quality });
}

const area = (random: () => number) => between(random, 0.3, 0.7);

const CROPS: Rendering[] = [
  {
    id: "crop-a-corner",
    kind: "crop",
    split: "fit",
    description: "30–70 % of the area, same aspect, in a corner",
    render: (p, { random }) => {
      const a = area(random);
      const [fx, fy] = corner(random);
      return cropArea(p, a, Math.sqrt(a), fx, fy);
    },
  },
  {
    id: "crop-b-anywhere",
    kind: "crop",
    split: "fit",
    description: "30–70 % of the area, same aspect, anywhere",
    render: (p, { random }) => {
      const a = area(random);
      return cropArea(p, a, Math.sqrt(a), random(), random());
    },
  },
  {
    // The fit split's crops of another aspect than the picture's: a long side of 60–85 % keeps them
    // apart from the test split's strips (85–100 %).
    id: "crop-e-reshaped",
    kind: "crop",
    split: "fit",
    description: "30–70 % of the area, one side 60–85 % of its side (aspect changed), anywhere, q85",
    render: (p, { random }) => {
      const a = area(random);
      const long = between(random, Math.max(0.6, Math.sqrt(a)), 0.85);
      const wf = random() < 0.5 ? long : a / long;
      return cropArea(p, a, wf, random(), random(), { quality: 85 });
    },
  },
  {
    // The fit split's re-shared crops: the test split's are JPEG, in a corner, × 0.5–0.8.
    id: "crop-f-reshared-webp",
    kind: "crop",
    split: "fit",
    description: "30–70 % of the area, same aspect, anywhere, then × 0.4–0.9 as WebP q75",
    render: (p, { random }) => {
      const a = area(random);
      return cropArea(p, a, Math.sqrt(a), random(), random(), { scale: round3(between(random, 0.4, 0.9)), quality: 75, format: "webp" });
    },
  },
  {
    id: "crop-c-strip",
    kind: "crop",
    split: "test",
    description: "30–70 % of the area as a wide or tall strip (one side 85–100 %), anywhere",
    render: (p, { random }) => {
      const a = area(random);
      const long = between(random, 0.85, 1);
      return random() < 0.5 ? cropArea(p, a, long, random(), random()) : cropArea(p, a, a / long, random(), random());
    },
  },
  {
    id: "crop-d-corner-reshared",
    kind: "crop",
    split: "test",
    description: "30–70 % of the area, any aspect, in a corner, then × 0.5–0.8 at q70",
    render: (p, { random }) => {
      const a = area(random);
      const wf = between(random, Math.max(a, 0.45), Math.min(1, a / 0.45));
      const [fx, fy] = corner(random);
      return cropArea(p, a, wf, fx, fy, { scale: round3(between(random, 0.5, 0.8)), quality: 70 });
    },
  },
];

const signed = (random: () => number, low: number, high: number) => round3((random() < 0.5 ? 1 : -1) * between(random, low, high));

/** Rotated on a grown canvas of `background` (sharp's rotate keeps every pixel). */
const grown =
  (low: number, high: number, background: string): Render =>
  async (p, { random }) => {
    const angle = signed(random, low, high);
    return posted(sharp(p.data).rotate(angle, { background }), { angle, background });
  };

/** The largest centred box with the picture's aspect inside the picture rotated by `angle`. */
export function inscribedScale(width: number, height: number, angle: number): number {
  const t = (Math.abs(angle) * Math.PI) / 180;
  const [c, s] = [Math.cos(t), Math.sin(t)];
  return Math.min(width / (width * c + height * s), height / (width * s + height * c));
}

/** Rotated, then cropped to fill: no corner shows, the edges of the picture are gone. */
const filled =
  (low: number, high: number, quality: number): Render =>
  async (p, { random }) => {
    const angle = signed(random, low, high);
    const { data, info } = await sharp(p.data).rotate(angle).png().toBuffer({ resolveWithObject: true });
    const k = inscribedScale(p.width, p.height, angle) * 0.99; // a pixel's margin against resampled edges
    const [width, height] = [Math.floor(p.width * k), Math.floor(p.height * k)];
    const cropBox = { left: Math.round((info.width - width) / 2), top: Math.round((info.height - height) / 2), width, height };
    return posted(sharp(data).extract(cropBox), { angle, kept: round3(k), quality }, "jpeg", { quality });
  };

const ROTATIONS: Rendering[] = [
  {
    id: "rotate-a-black-grown",
    kind: "rotate",
    split: "fit",
    description: "± 3–8°, canvas grown, black corners",
    render: grown(3, 8, "#000000"),
  },
  { id: "rotate-b-filled", kind: "rotate", split: "fit", description: "± 8–15°, cropped to fill (no corners)", render: filled(8, 15, 90) },
  {
    id: "rotate-c-white-grown",
    kind: "rotate",
    split: "test",
    description: "± 8–15°, canvas grown, white corners",
    render: grown(8, 15, "#ffffff"),
  },
  {
    id: "rotate-d-same-size",
    kind: "rotate",
    split: "test",
    description: "± 3–15°, cropped back to the original size (black corners)",
    render: async (p, context) => {
      const { picture, params } = await rotate(round3(between(context.random, 3, 15)))(p, context);
      return posted(picture, params);
    },
  },
  { id: "rotate-e-filled-small", kind: "rotate", split: "test", description: "± 3–8°, cropped to fill, q75", render: filled(3, 8, 75) },
];

export const GEOMETRY_RENDERINGS: readonly Rendering[] = [...CROPS, ...ROTATIONS];
