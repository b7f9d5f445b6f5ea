/**
 * Things pasted on or around the picture: stickers and emoji (1–4 of them, each 3–10 % of the
 * area: smileys and hearts, stars and discs, speech bubbles, glyph emoji with badges) and
 * borders with watermarks (solid + diagonal mark, polaroid + corner mark, double border + tiled
 * mark, blurred square fill + small mark).
 */
import sharp from "sharp";
import { between, pick } from "../../lib/random.ts";
import { HANDLES, sticker, svg, text } from "../../repost/overlays.ts";
import { circle, rect } from "./screen.ts";
import { STICKER_WORDS } from "./text-layout.ts";
import { posted, type Render, type Rendering, round3 } from "./types.ts";

/** Draws one sticker filling a `side` × `side` box centred on (cx, cy). */
type Shape = (cx: number, cy: number, side: number, random: () => number) => string;

const BRIGHT = ["#ef476f", "#ffd166", "#06d6a0", "#118ab2", "#8338ec", "#ff7f11", "#ffffff"] as const;

const smileyOrHeart: Shape = (cx, cy, side, random) => sticker(random() < 0.5 ? 0 : 1, cx, cy, side / 2);
const starOrDisc: Shape = (cx, cy, side, random) =>
  random() < 0.5
    ? sticker(2, cx, cy, side / 2)
    : circle(cx, cy, side / 2, pick(BRIGHT, random), `stroke="#fff" stroke-width="${side * 0.06}"`) +
      circle(cx, cy, side * 0.18, "#fff", 'fill-opacity="0.85"');
const speechBubble: Shape = (cx, cy, side, random) => {
  const [w, h] = [side * 1.35, side / 1.35];
  const word = pick(STICKER_WORDS, random);
  const tail = `<path d="M ${cx - w * 0.2} ${cy + h / 2 - 1} L ${cx - w * 0.35} ${cy + h / 2 + h * 0.35} L ${cx} ${cy + h / 2 - 1} Z" fill="#fff" stroke="#222" stroke-width="${side * 0.02}"/>`;
  return (
    rect(cx - w / 2, cy - h / 2, w, h, "#fff", `rx="${h * 0.4}" stroke="#222" stroke-width="${side * 0.02}"`) +
    tail +
    text(cx, cy, word, Math.min(h * 0.45, (w * 0.85) / (word.length * 0.62)), { anchor: "middle", bold: true, fill: "#222" })
  );
};
/** Emoji drawn with DejaVu Sans symbol glyphs (no colour-emoji font needed), or a word badge. */
const glyphOrBadge: Shape = (cx, cy, side, random) => {
  if (random() < 0.6) {
    const glyph = pick(["☺", "★", "♥", "☀", "☂", "♫", "✈", "☎", "✿"], random);
    return text(cx, cy, glyph, side * 0.95, {
      anchor: "middle",
      bold: true,
      fill: pick(BRIGHT, random),
      stroke: { colour: "#222", width: side * 0.03 },
    });
  }
  const word = pick(["NEW", "LOL", "OMG", "#1", "WOW", "HOT"], random);
  const [w, h] = [side * 1.5, side / 1.5];
  return (
    rect(cx - w / 2, cy - h / 2, w, h, pick(BRIGHT.slice(0, 6), random), `rx="${h * 0.25}"`) +
    text(cx, cy, word, h * 0.6, { anchor: "middle", bold: true, fill: "#fff" })
  );
};

const stickers =
  (shape: Shape): Render =>
  async (p, { random }) => {
    const count = 1 + Math.floor(random() * 4);
    const fractions: number[] = [];
    const drawn: string[] = [];
    for (let i = 0; i < count; i++) {
      const fraction = between(random, 0.03, 0.1);
      const side = Math.sqrt(fraction * p.width * p.height);
      fractions.push(round3(fraction));
      drawn.push(shape(between(random, side / 2, p.width - side / 2), between(random, side / 2, p.height - side / 2), side, random));
    }
    return posted(sharp(p.data).composite([{ input: svg(p.width, p.height, drawn.join("")) }]), { count, fractions: fractions.join(" ") });
  };

export const STICKER_RENDERINGS: readonly Rendering[] = [
  {
    id: "stickers-a-smileys-hearts",
    kind: "stickers",
    split: "fit",
    description: "smiley faces and hearts",
    render: stickers(smileyOrHeart),
  },
  { id: "stickers-b-stars-discs", kind: "stickers", split: "fit", description: "stars and coloured discs", render: stickers(starOrDisc) },
  {
    id: "stickers-c-speech-bubbles",
    kind: "stickers",
    split: "test",
    description: "speech bubbles with a word",
    render: stickers(speechBubble),
  },
  {
    id: "stickers-d-emoji-badges",
    kind: "stickers",
    split: "test",
    description: "symbol emoji (DejaVu glyphs) and word badges",
    render: stickers(glyphOrBadge),
  },
];

const BORDERS = ["#ffffff", "#000000", "#1e3a8a", "#7f1d1d", "#f59e0b", "#065f46", "#f472b6"] as const;

/** One handle written large across the picture's centre at −25…−45°. */
const diagonalMark = (width: number, height: number, handle: string, random: () => number) =>
  text(width / 2, height / 2, handle, Math.max(14, Math.min(width / (handle.length * 0.5), height / 3)), {
    anchor: "middle",
    bold: true,
    fill: random() < 0.5 ? "#ffffff" : "#000000",
    opacity: round3(between(random, 0.25, 0.4)),
    rotate: -round3(between(random, 25, 45)),
  });

/** The handle repeated over a grid, turned −20…−30°, faint. */
function tiledMark(width: number, height: number, handle: string, random: () => number): string {
  const size = Math.max(10, Math.round(Math.min(width, height) * 0.045));
  const [opacity, angle] = [round3(between(random, 0.15, 0.25)), -round3(between(random, 20, 30))];
  const marks: string[] = [];
  for (let y = size; y < height + size; y += size * 4) {
    for (let x = ((y / size) % 8) * size * 0.5; x < width + size * 8; x += handle.length * size * 0.75) {
      marks.push(text(x, y, handle, size, { fill: "#ffffff", opacity, bold: true }));
    }
  }
  return `<g transform="rotate(${angle} ${width / 2} ${height / 2})">${marks.join("")}</g>`;
}

const withMark = (width: number, height: number, mark: string) => ({ input: svg(width, height, mark) });

export const BORDER_RENDERINGS: readonly Rendering[] = [
  {
    id: "border-a-solid-diagonal",
    kind: "border",
    split: "fit",
    description: "solid border 3–8 %, large diagonal handle across the picture",
    render: async (p, { random }) => {
      const b = Math.round(Math.min(p.width, p.height) * between(random, 0.03, 0.08));
      const colour = pick(BORDERS, random);
      const mark = diagonalMark(p.width + 2 * b, p.height + 2 * b, pick(HANDLES, random), random);
      const image = sharp(p.data).extend({ top: b, bottom: b, left: b, right: b, background: colour });
      return posted(sharp(await image.png().toBuffer()).composite([withMark(p.width + 2 * b, p.height + 2 * b, mark)]), {
        border: b,
        colour,
      });
    },
  },
  {
    id: "border-b-polaroid",
    kind: "border",
    split: "fit",
    description: "polaroid frame (thick bottom with a serif note), handle in a corner",
    render: async (p, { random }) => {
      const side = Math.round(Math.min(p.width, p.height) * between(random, 0.04, 0.06));
      const bottom = Math.round(p.height * between(random, 0.16, 0.22));
      const [width, height] = [p.width + 2 * side, p.height + side + bottom];
      const handle = pick(HANDLES, random);
      const size = Math.max(12, Math.round(p.width * 0.04));
      const note = text(width / 2, height - bottom / 2, pick(["summer '19", "best day ever", "us ♥", "home"], random), bottom * 0.35, {
        anchor: "middle",
        italic: true,
        family: "DejaVu Serif",
        fill: "#333",
      });
      const mark = text(side + p.width - size * 0.5, side + p.height - size, handle, size, {
        anchor: "end",
        bold: true,
        fill: "#fff",
        opacity: 0.55,
      });
      const image = sharp(p.data).extend({ top: side, left: side, right: side, bottom, background: pick(["#ffffff", "#fbf7ee"], random) });
      return posted(sharp(await image.png().toBuffer()).composite([withMark(width, height, note + mark)]), { side, bottom });
    },
  },
  {
    id: "border-c-double-tiled",
    kind: "border",
    split: "test",
    description: "double border (thin inner, wide outer), faint tiled handles over everything",
    render: async (p, { random }) => {
      const inner = Math.max(2, Math.round(Math.min(p.width, p.height) * between(random, 0.01, 0.02)));
      const outer = Math.round(Math.min(p.width, p.height) * between(random, 0.03, 0.06));
      const a = pick(BORDERS, random);
      const b = pick(
        BORDERS.filter((c) => c !== a),
        random,
      );
      const once = await sharp(p.data).extend({ top: inner, bottom: inner, left: inner, right: inner, background: a }).png().toBuffer();
      const twice = await sharp(once).extend({ top: outer, bottom: outer, left: outer, right: outer, background: b }).png().toBuffer();
      const [width, height] = [p.width + 2 * (inner + outer), p.height + 2 * (inner + outer)];
      return posted(sharp(twice).composite([withMark(width, height, tiledMark(width, height, pick(HANDLES, random), random))]), {
        inner,
        outer,
        a,
        b,
      });
    },
  },
  {
    id: "border-d-blurred-square",
    kind: "border",
    split: "test",
    description: "padded to a square on a blurred, darkened copy of itself, small diagonal handle",
    render: async (p, { random }) => {
      const side = Math.round(Math.max(p.width, p.height) * between(random, 1.05, 1.15));
      const backdrop = await sharp(p.data).resize(side, side, { fit: "cover" }).blur(20).modulate({ brightness: 0.7 }).png().toBuffer();
      const handle = pick(HANDLES, random);
      const size = Math.max(12, Math.round(side * 0.04));
      const mark = text(side * 0.8, side * 0.9, handle, size, { anchor: "middle", bold: true, fill: "#fff", opacity: 0.5, rotate: -30 });
      const left = Math.round((side - p.width) / 2);
      const top = Math.round((side - p.height) / 2);
      return posted(sharp(backdrop).composite([{ input: p.data, left, top }, withMark(side, side, mark)]), { side, left, top });
    },
  },
];
