/** Screenshots and collages made with sharp at test time, with the box where the picture went. */
import sharp from "sharp";

export interface Placed {
  readonly image: Buffer;
  readonly width: number;
  readonly height: number;
  /** Where the picture is, in pixels: [x, y, width, height]. */
  readonly box: readonly [number, number, number, number];
}

/** A light or dark app screen with the picture at `share` of its width, text lines above and below. */
export async function appScreenshot(
  file: string | Buffer,
  options: { dark: boolean; share: number; left: number; top: number },
): Promise<Placed> {
  const width = 720;
  const height = 1400;
  const shownWidth = Math.round(width * options.share);
  const inner = await sharp(file).resize(shownWidth, undefined).toBuffer({ resolveWithObject: true });
  const fg = options.dark ? "#eeeeee" : "#111111";
  const line = (y: number, words: string) => `<text x="24" y="${y}" font-size="26" fill="${fg}" font-family="DejaVu Sans">${words}</text>`;
  const { top, left } = options;
  const below = top + inner.info.height;
  const chrome = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${line(40, "9:41 5G 87%")}${line(top - 60, "@someone posted")}` +
      `${line(top - 20, "look at this one")}${line(below + 50, "♥ 1,204 likes")}${line(below + 100, "View all 48 comments")}</svg>`,
  );
  const image = await sharp({ create: { width, height, channels: 3, background: options.dark ? "#121212" : "#fafafa" } })
    .composite([{ input: chrome }, { input: inner.data, left, top }])
    .jpeg({ quality: 85 })
    .toBuffer();
  return { image, width, height, box: [left, top, inner.info.width, inner.info.height] };
}

/** A grid of `columns`×`rows` square tiles with gutters; the picture goes in tile `position`, `fillers` in the others. */
export async function gridCollage(
  picture: string | Buffer,
  fillers: readonly (string | Buffer)[],
  options: { columns: number; rows: number; position: number; gutter: number; tile: number; background: string },
): Promise<Placed> {
  const { columns, rows, gutter, tile } = options;
  const width = columns * tile + (columns + 1) * gutter;
  const height = rows * tile + (rows + 1) * gutter;
  const others = [...fillers];
  const tiles = await Promise.all(
    Array.from({ length: columns * rows }, (_, i) =>
      sharp(i === options.position ? picture : others.shift()!)
        .resize(tile, tile, { fit: "cover" })
        .toBuffer(),
    ),
  );
  const at = (i: number) => ({ left: gutter + (i % columns) * (tile + gutter), top: gutter + Math.floor(i / columns) * (tile + gutter) });
  const image = await sharp({ create: { width, height, channels: 3, background: options.background } })
    .composite(tiles.map((input, i) => ({ input, ...at(i) })))
    .jpeg({ quality: 85 })
    .toBuffer();
  const { left, top } = at(options.position);
  return { image, width, height, box: [left, top, tile, tile] };
}
