/**
 * One image showing every match: stored thumbnails in a grid with rank badges. Built from the
 * thumbnails kept in the index, so it never depends on Discord's expiring attachment links.
 */
import sharp from "sharp";

export interface SheetTile {
  readonly thumbnail: Buffer | null;
  /** Blurred, for spoilered images shown outside their channel. */
  readonly blur: boolean;
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
  return image.png().toBuffer();
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
