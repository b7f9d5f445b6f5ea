/**
 * Caption reposts (mild: the picture is whole, text is added): the classic two white bars, a
 * Twitter-style serif caption bar on top, outlined text straight on the picture, a black subtitle
 * bar in a monospaced font. Fonts are the DejaVu families CI installs.
 */
import sharp from "sharp";
import { between, pick } from "../../lib/random.ts";
import { memeCaption, type Picture } from "../../repost/edits.ts";
import { fittedSize, MEME_CAPTIONS, svg, text } from "../../repost/overlays.ts";
import { POST_TEXTS, wrap } from "./text-layout.ts";
import { posted, type Rendering, round3 } from "./types.ts";

/** Lines of text in a bar of `width`, as SVG, from baseline `top`, `size` px apart by `lineHeight`. */
function lines(content: readonly string[], x: number, top: number, size: number, options: Parameters<typeof text>[4]): string {
  return content.map((line, i) => text(x, top + (i + 0.5) * size * 1.25, line, size, options)).join("");
}

/** The picture below (or above) a bar of `bar` px filled with `colour`, with `overlay` drawn on the whole. */
async function withBar(p: Picture, bar: number, where: "top" | "bottom", colour: string, overlay: string) {
  const height = p.height + bar;
  const canvas = sharp({ create: { width: p.width, height, channels: 3, background: colour } });
  return canvas.composite([{ input: p.data, top: where === "top" ? bar : 0, left: 0 }, { input: svg(p.width, height, overlay) }]);
}

export const CAPTION_RENDERINGS: readonly Rendering[] = [
  {
    id: "caption-a-two-bars",
    kind: "caption",
    split: "fit",
    description: "white bars above and below, bold sans caption (classic meme)",
    render: async (p, context) => {
      const { picture, params } = await memeCaption(p, context);
      return posted(picture, params);
    },
  },
  {
    id: "caption-b-serif-top",
    kind: "caption",
    split: "fit",
    description: "one white bar on top, 1–3 left-aligned lines of serif text",
    render: async (p, { random }) => {
      const size = Math.max(12, Math.round(p.width * between(random, 0.04, 0.065)));
      const content = wrap(pick(POST_TEXTS, random), p.width * 0.9, size);
      const bar = Math.round(content.length * size * 1.25 + size * 1.2);
      const overlay = lines(content, p.width * 0.04, size * 0.6, size, { family: "DejaVu Serif" });
      return posted(await withBar(p, bar, "top", "#ffffff", overlay), { lines: content.length, size, bar });
    },
  },
  {
    id: "caption-c-outlined",
    kind: "caption",
    split: "test",
    description: "white bold text with a black outline drawn on the picture, top and bottom",
    render: async (p, { random }) => {
      const [top, bottom] = pick(MEME_CAPTIONS, random);
      const max = p.height * between(random, 0.08, 0.13);
      const size = (line: string) => fittedSize(line, p.width, max);
      const outline = (line: string) => ({ colour: "#000", width: Math.max(2, size(line) * 0.12) });
      const overlay =
        text(p.width / 2, size(top) * 0.9, top, size(top), { anchor: "middle", bold: true, fill: "#fff", stroke: outline(top) }) +
        text(p.width / 2, p.height - size(bottom) * 0.9, bottom, size(bottom), {
          anchor: "middle",
          bold: true,
          fill: "#fff",
          stroke: outline(bottom),
        });
      return posted(sharp(p.data).composite([{ input: svg(p.width, p.height, overlay) }]), { top, bottom, maxSize: round3(max) });
    },
  },
  {
    id: "caption-d-mono-subtitle",
    kind: "caption",
    split: "test",
    description: "black bar below, 1–2 lines of white monospaced text",
    render: async (p, { random }) => {
      const size = Math.max(11, Math.round(p.width * between(random, 0.03, 0.05)));
      const content = wrap(pick(POST_TEXTS, random), p.width * 0.9, size, 2);
      const bar = Math.round(content.length * size * 1.25 + size * 1.4);
      const overlay = lines(content, p.width / 2, p.height + size * 0.7, size, {
        family: "DejaVu Sans Mono",
        fill: "#f5f5f5",
        anchor: "middle",
      });
      return posted(await withBar(p, bar, "bottom", "#000000", overlay), { lines: content.length, size, bar });
    },
  },
];
