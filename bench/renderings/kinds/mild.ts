/**
 * Mild reposts: the whole picture is there, only re-encoded, resized, lightly cropped, mirrored,
 * brightened or darkened, or saved as WebP or PNG. Each kind has independent renderings (other
 * encoders, kernels, crop shapes, tone operations), half for fitting and half for testing.
 */

import type { KernelEnum } from "sharp";
import sharp from "sharp";
import { between } from "../../lib/random.ts";
import { brightnessContrast, centralCrop, flip, type Picture } from "../../repost/edits.ts";
import { posted, type RenderContext, type Rendering, round3 } from "./types.ts";

const image = (p: Picture) => sharp(p.data);
const int = (random: () => number, low: number, high: number) => Math.round(between(random, low, high));

/** A box of `wf` × `hf` of the picture's sides, its free space split by fx, fy (0 = left/top). */
export function box(p: Picture, wf: number, hf: number, fx: number, fy: number) {
  const width = Math.max(1, Math.round(p.width * wf));
  const height = Math.max(1, Math.round(p.height * hf));
  return { left: Math.round((p.width - width) * fx), top: Math.round((p.height - height) * fy), width, height };
}

const jpeg: Rendering[] = [
  {
    id: "jpeg-a-q30-45",
    kind: "jpeg",
    split: "fit",
    description: "libjpeg q30–45, 4:2:0",
    render: async (p, { random }) => {
      const quality = int(random, 30, 45);
      return posted(p, { quality }, "jpeg", { quality });
    },
  },
  {
    id: "jpeg-b-q55-70-444",
    kind: "jpeg",
    split: "fit",
    description: "libjpeg q55–70, 4:4:4 chroma",
    render: async (p, { random }) => {
      const quality = int(random, 55, 70);
      return posted(p, { quality }, "jpeg", { quality, chromaSubsampling: "4:4:4" });
    },
  },
  {
    id: "jpeg-c-mozjpeg-q35-55",
    kind: "jpeg",
    split: "test",
    description: "mozjpeg q35–55 (trellis, progressive)",
    render: async (p, { random }) => {
      const quality = int(random, 35, 55);
      return posted(p, { quality, mozjpeg: true }, "jpeg", { quality, mozjpeg: true });
    },
  },
  {
    id: "jpeg-d-twice",
    kind: "jpeg",
    split: "test",
    description: "saved twice: q60–70, then q30–45 progressive",
    render: async (p, { random }) => {
      const first = int(random, 60, 70);
      const quality = int(random, 30, 45);
      const once = await image(p).jpeg({ quality: first }).toBuffer();
      return posted(sharp(once), { first, quality }, "jpeg", { quality, progressive: true });
    },
  },
];

const resizeWith =
  (kernel: keyof KernelEnum, low: number, high: number, quality: number): Rendering["render"] =>
  async (p, { random }) => {
    const factor = round3(between(random, low, high));
    const resized = image(p).resize(Math.max(8, Math.round(p.width * factor)), Math.max(8, Math.round(p.height * factor)), { kernel });
    return posted(resized, { factor, kernel, quality }, "jpeg", { quality });
  };

const resize: Rendering[] = [
  {
    id: "resize-a-lanczos",
    kind: "resize",
    split: "fit",
    description: "× 0.30–0.45, Lanczos-3, q90",
    render: resizeWith("lanczos3", 0.3, 0.45, 90),
  },
  {
    id: "resize-b-linear",
    kind: "resize",
    split: "fit",
    description: "× 0.45–0.60, bilinear, q85",
    render: resizeWith("linear", 0.45, 0.6, 85),
  },
  {
    id: "resize-c-nearest",
    kind: "resize",
    split: "test",
    description: "× 0.30–0.60, nearest neighbour, q90",
    render: resizeWith("nearest", 0.3, 0.6, 90),
  },
  {
    id: "resize-d-mitchell-q70",
    kind: "resize",
    split: "test",
    description: "× 0.30–0.60, Mitchell, q70",
    render: resizeWith("mitchell", 0.3, 0.6, 70),
  },
];

const cropTo = async (p: Picture, wf: number, hf: number, fx: number, fy: number) => {
  const b = box(p, wf, hf, fx, fy);
  return posted(image(p).extract(b), { ...b });
};

const crop80: Rendering[] = [
  {
    id: "crop80-a-centred",
    kind: "crop80",
    split: "fit",
    description: "80 % of each side, centred",
    render: async (p, context) => {
      const { picture } = await centralCrop(0.8)(p, context);
      return posted(picture, { ...box(p, 0.8, 0.8, 0.5, 0.5) });
    },
  },
  {
    id: "crop80-b-offset",
    kind: "crop80",
    split: "fit",
    description: "80 % of each side, anywhere",
    render: (p, { random }) => cropTo(p, 0.8, 0.8, random(), random()),
  },
  {
    id: "crop80-c-one-side",
    kind: "crop80",
    split: "test",
    description: "one side cut to 80 % from one end (the other side whole)",
    render: (p, { random }) => {
      const end = random() < 0.5 ? 0 : 1;
      return random() < 0.5 ? cropTo(p, 0.8, 1, end, 0) : cropTo(p, 1, 0.8, 0, end);
    },
  },
  {
    id: "crop80-d-area-any-aspect",
    kind: "crop80",
    split: "test",
    description: "80 % of the area, aspect changed, anywhere",
    render: (p, { random }) => {
      const wf = between(random, 0.8, 1);
      return cropTo(p, wf, 0.8 / wf, random(), random());
    },
  },
];

const mirrored = async (p: Picture, context: RenderContext) => (await flip(p, context)).picture;

const flips: Rendering[] = [
  {
    id: "flip-a-plain",
    kind: "flip",
    split: "fit",
    description: "mirrored, q90",
    render: async (p, c) => posted(await mirrored(p, c), {}),
  },
  {
    id: "flip-b-q50",
    kind: "flip",
    split: "fit",
    description: "mirrored, q50",
    render: async (p, c) => posted(await mirrored(p, c), { quality: 50 }, "jpeg", { quality: 50 }),
  },
  {
    id: "flip-c-png",
    kind: "flip",
    split: "test",
    description: "mirrored, PNG",
    render: async (p, c) => posted(await mirrored(p, c), {}, "png"),
  },
  {
    id: "flip-d-webp",
    kind: "flip",
    split: "test",
    description: "mirrored, WebP q75",
    render: async (p, c) => posted(await mirrored(p, c), { quality: 75 }, "webp", { quality: 75 }),
  },
];

const brightness: Rendering[] = [
  {
    id: "brightness-a-brighter",
    kind: "brightness",
    split: "fit",
    description: "HSV value × 1.15–1.35",
    render: async (p, { random }) => {
      const factor = round3(between(random, 1.15, 1.35));
      return posted(image(p).modulate({ brightness: factor }), { brightness: factor });
    },
  },
  {
    id: "brightness-b-darker",
    kind: "brightness",
    split: "fit",
    description: "HSV value × 0.65–0.85",
    render: async (p, { random }) => {
      const factor = round3(between(random, 0.65, 0.85));
      return posted(image(p).modulate({ brightness: factor }), { brightness: factor });
    },
  },
  {
    id: "brightness-c-offset",
    kind: "brightness",
    split: "test",
    description: "every channel ± 25–45 levels",
    render: async (p, { random }) => {
      const offset = Math.round((random() < 0.5 ? 1 : -1) * between(random, 25, 45));
      return posted(image(p).linear(1, offset), { offset });
    },
  },
  {
    id: "brightness-d-contrast",
    kind: "brightness",
    split: "test",
    description: "brightness and contrast × or ÷ 1.25 (directions at random)",
    render: async (p, context) => {
      const { picture, params } = await brightnessContrast(0.25)(p, context);
      return posted(picture, params);
    },
  },
];

const webp: Rendering[] = [
  {
    id: "webp-a-q50-80",
    kind: "webp",
    split: "fit",
    description: "lossy WebP q50–80",
    render: async (p, { random }) => {
      const quality = int(random, 50, 80);
      return posted(p, { quality }, "webp", { quality });
    },
  },
  {
    id: "webp-b-q30-50",
    kind: "webp",
    split: "fit",
    description: "lossy WebP q30–50, effort 6",
    render: async (p, { random }) => {
      const quality = int(random, 30, 50);
      return posted(p, { quality }, "webp", { quality, effort: 6 });
    },
  },
  {
    id: "webp-c-lossless",
    kind: "webp",
    split: "test",
    description: "lossless WebP",
    render: (p) => posted(p, {}, "webp", { lossless: true }),
  },
  {
    id: "webp-d-smart-subsample",
    kind: "webp",
    split: "test",
    description: "lossy WebP q40–70, smart chroma subsampling",
    render: async (p, { random }) => {
      const quality = int(random, 40, 70);
      return posted(p, { quality }, "webp", { quality, smartSubsample: true });
    },
  },
];

const png: Rendering[] = [
  { id: "png-a-truecolour", kind: "png", split: "fit", description: "24-bit PNG", render: (p) => posted(p, {}, "png") },
  {
    id: "png-b-palette-256",
    kind: "png",
    split: "fit",
    description: "PNG, 256-colour palette",
    render: (p) => posted(p, { colours: 256 }, "png", { palette: true, colours: 256 }),
  },
  {
    id: "png-c-palette-64-dither",
    kind: "png",
    split: "test",
    description: "PNG, 64-colour palette, full dithering",
    render: (p) => posted(p, { colours: 64 }, "png", { palette: true, colours: 64, dither: 1 }),
  },
  {
    id: "png-d-from-jpeg",
    kind: "png",
    split: "test",
    description: "a q55–65 JPEG saved again as PNG",
    render: async (p, { random }) => {
      const quality = int(random, 55, 65);
      return posted(sharp(await image(p).jpeg({ quality }).toBuffer()), { quality }, "png");
    },
  },
];

export const MILD_RENDERINGS: readonly Rendering[] = [...jpeg, ...resize, ...crop80, ...flips, ...brightness, ...webp, ...png];
