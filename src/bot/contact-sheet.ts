/**
 * One image showing every match: stored thumbnails in a grid with rank badges. Built from the
 * thumbnails kept in the index, so it never depends on Discord's expiring attachment links.
 */
import sharp from "sharp";

export interface SheetTile {
  readonly thumbnail: Buffer | null;
  /** Blurred, for spoilered images shown outside their channel. */
  readonly blur: boolean;
  /** The part of the image that matched ([x, y, width, height], fractions 0–1): outlined on the tile. */
  readonly box?: readonly [number, number, number, number];
}

const TILE = 160;
const GAP = 6;
const BACKGROUND = { r: 43, g: 45, b: 49, alpha: 1 }; // Discord's dark theme, so the sheet blends in

function badge(rank: number): Buffer {
  const size = 30;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
      `<circle cx="${size / 2}" cy="${size / 2}" r="${size / 2 - 1}" fill="#5865f2" stroke="white" stroke-width="2"/>` +
      `<text x="50%" y="50%" dy=".35em" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-weight="bold" ` +
      `font-size="15" fill="white">${rank}</text>` +
      `</svg>`,
  );
}

async function tile(source: SheetTile): Promise<Buffer> {
  if (!source.thumbnail) {
    return sharp({ create: { width: TILE, height: TILE, channels: 4, background: { r: 80, g: 80, b: 80, alpha: 1 } } })
      .png()
      .toBuffer();
  }
  let image = sharp(source.thumbnail).resize(TILE, TILE, { fit: "contain", background: BACKGROUND });
  if (source.blur) image = image.blur(18);
  const fitted = await image.png().toBuffer();
  if (!source.box || source.box[2] * source.box[3] >= 0.99) return fitted;
  const { width = TILE, height = TILE } = await sharp(source.thumbnail).metadata();
  return sharp(fitted)
    .composite([{ input: outline(source.box, width, height) }])
    .png()
    .toBuffer();
}

/** A rectangle around `box` of a width×height thumbnail as it sits in its tile ("contain": centred, scaled to fit). */
function outline([x, y, w, h]: readonly [number, number, number, number], width: number, height: number): Buffer {
  const scale = Math.min(TILE / width, TILE / height);
  const left = (TILE - width * scale) / 2 + x * width * scale;
  const top = (TILE - height * scale) / 2 + y * height * scale;
  const rect = [left + 1.5, top + 1.5, Math.max(1, w * width * scale - 3), Math.max(1, h * height * scale - 3)].map((v) => v.toFixed(1));
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${TILE}" height="${TILE}">` +
      `<rect x="${rect[0]}" y="${rect[1]}" width="${rect[2]}" height="${rect[3]}" fill="none" stroke="#fee75c" stroke-width="3"/></svg>`,
  );
}

/** A WebP contact sheet, up to 5 tiles per row. */
export async function contactSheet(tiles: readonly SheetTile[]): Promise<Buffer> {
  const columns = Math.min(5, Math.max(1, tiles.length));
  const rows = Math.max(1, Math.ceil(tiles.length / columns));
  const width = columns * TILE + (columns + 1) * GAP;
  const height = rows * TILE + (rows + 1) * GAP;
  const layers = await Promise.all(
    tiles.map(async (source, index) => {
      const left = GAP + (index % columns) * (TILE + GAP);
      const top = GAP + Math.floor(index / columns) * (TILE + GAP);
      return [
        { input: await tile(source), left, top },
        { input: badge(index + 1), left: left + 4, top: top + 4 },
      ];
    }),
  );
  return sharp({ create: { width, height, channels: 4, background: BACKGROUND } })
    .composite(layers.flat())
    .webp({ quality: 80 })
    .toBuffer();
}
