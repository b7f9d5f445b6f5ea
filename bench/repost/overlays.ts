/**
 * SVG overlays for the repost transforms: meme captions, phone-screenshot chrome, watermarks and
 * sticker shapes. Rasterised by sharp (librsvg) with the system DejaVu fonts, so the text is real
 * glyphs, as in a real meme or screenshot.
 */

const escapeXml = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);

export function svg(width: number, height: number, body: string): Buffer {
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body}</svg>`,
  );
}

export function text(
  x: number,
  y: number,
  content: string,
  size: number,
  options: {
    fill?: string;
    anchor?: "start" | "middle" | "end";
    bold?: boolean;
    italic?: boolean;
    opacity?: number;
    /** One of the families fonts-dejavu-core installs: "DejaVu Sans", "DejaVu Serif", "DejaVu Sans Mono". */
    family?: string;
    /** An outline (meme text drawn straight on the picture). */
    stroke?: { colour: string; width: number };
    /** Degrees, clockwise around (x, y) (diagonal watermarks). */
    rotate?: number;
  } = {},
): string {
  const { fill = "#000", anchor = "start", bold = false, italic = false, opacity = 1, family = "DejaVu Sans", stroke, rotate } = options;
  const outline = stroke ? ` stroke="${stroke.colour}" stroke-width="${stroke.width}" paint-order="stroke" stroke-linejoin="round"` : "";
  const turn = rotate ? ` transform="rotate(${rotate} ${x} ${y})"` : "";
  return (
    `<text x="${x}" y="${y}" font-family="${family}" font-size="${size}" font-weight="${bold ? "bold" : "normal"}" ` +
    `font-style="${italic ? "italic" : "normal"}" fill="${fill}" fill-opacity="${opacity}" text-anchor="${anchor}" ` +
    `dominant-baseline="middle"${outline}${turn}>${escapeXml(content)}</text>`
  );
}

/** A caption line sized to fit `width` (DejaVu Sans Bold averages ~0.62 em per character). */
export function fittedSize(content: string, width: number, maxSize: number): number {
  return Math.max(10, Math.min(maxSize, Math.floor((width * 0.92) / (content.length * 0.62))));
}

export const MEME_CAPTIONS = [
  ["WHEN THE CODE COMPILES", "ON THE FIRST TRY"],
  ["NOBODY:", "ABSOLUTELY NOBODY:"],
  ["ME EXPLAINING MY PLAN", "MY FRIENDS"],
  ["THIS IS FINE", "EVERYTHING IS FINE"],
  ["POV: MONDAY MORNING", "AND NO COFFEE"],
  ["THEY SAID IT COULDN'T BE DONE", "THEY WERE RIGHT"],
] as const;

export const HANDLES = ["@pixel_hunter", "@memes.daily", "@sunset_lover", "@repost.king", "@lookalike_fan"] as const;

/** Sticker shapes: a smiley, a heart, a star (no emoji font needed, same visual role). */
export function sticker(kind: number, cx: number, cy: number, r: number): string {
  switch (kind % 3) {
    case 0:
      return (
        `<circle cx="${cx}" cy="${cy}" r="${r}" fill="#ffcc22" stroke="#aa7700" stroke-width="${r * 0.05}"/>` +
        `<circle cx="${cx - r * 0.35}" cy="${cy - r * 0.25}" r="${r * 0.12}" fill="#332200"/>` +
        `<circle cx="${cx + r * 0.35}" cy="${cy - r * 0.25}" r="${r * 0.12}" fill="#332200"/>` +
        `<path d="M ${cx - r * 0.5} ${cy + r * 0.2} Q ${cx} ${cy + r * 0.75} ${cx + r * 0.5} ${cy + r * 0.2}" stroke="#332200" stroke-width="${r * 0.1}" fill="none"/>`
      );
    case 1:
      return `<path d="M ${cx} ${cy + r * 0.9} C ${cx - r * 1.6} ${cy - r * 0.2} ${cx - r * 0.6} ${cy - r * 1.3} ${cx} ${cy - r * 0.4} C ${cx + r * 0.6} ${cy - r * 1.3} ${cx + r * 1.6} ${cy - r * 0.2} ${cx} ${cy + r * 0.9} Z" fill="#e8203a"/>`;
    default: {
      const points = Array.from({ length: 10 }, (_, i) => {
        const angle = (Math.PI / 5) * i - Math.PI / 2;
        const radius = i % 2 === 0 ? r : r * 0.45;
        return `${(cx + radius * Math.cos(angle)).toFixed(1)},${(cy + radius * Math.sin(angle)).toFixed(1)}`;
      });
      return `<polygon points="${points.join(" ")}" fill="#ffd700" stroke="#cc8800" stroke-width="${r * 0.04}"/>`;
    }
  }
}
