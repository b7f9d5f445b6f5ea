/**
 * What a rendering is: one independent way of making one kind of repost (a layout, a style, an
 * encoder), with a stable id and the split it belongs to. Thresholds are fitted on the "fit"
 * renderings and reported on the "test" ones, so a test row never shares its rendering style with
 * a fit row (nor its original: see split.ts).
 */

import type { JpegOptions, PngOptions, Sharp, WebpOptions } from "sharp";
import sharp from "sharp";
import type { Params, Picture } from "../../repost/edits.ts";

export type Split = "fit" | "test";
export type Group = "mild" | "strong";
export type Format = "jpeg" | "png" | "webp";

export interface RenderContext {
  /** Seeded by (rendering id, source): every parameter drawn from it is reproducible. */
  readonly random: () => number;
  /** Other, never-stored pictures for collage tiles (already chosen and recorded by the caller). */
  readonly fillers: readonly Buffer[];
}

/** The posted file and the parameters that made it (written to the manifest next to it). */
export interface Rendered {
  readonly data: Buffer;
  readonly format: Format;
  readonly params: Params;
}

export type Render = (source: Picture, context: RenderContext) => Promise<Rendered>;

export interface Rendering {
  /** Stable: it names cached files and evidence rows, and the split table. */
  readonly id: string;
  readonly kind: string;
  readonly split: Split;
  /** One line for the split table. */
  readonly description: string;
  readonly render: Render;
  /** Fillers it needs (collages); the caller picks them from pictures that are never stored. */
  readonly fillers?: number;
}

export interface Kind {
  readonly name: string;
  readonly group: Group;
  readonly description: string;
}

/** Encodes the final picture as posted; JPEG q90 unless the rendering is about the encoding. */
export async function posted(
  picture: Picture | Sharp,
  params: Params,
  format: Format = "jpeg",
  options: JpegOptions & PngOptions & WebpOptions = {},
): Promise<Rendered> {
  const image = "data" in picture ? sharp(picture.data) : picture;
  const encoded =
    format === "jpeg"
      ? image.jpeg({ quality: 90, ...options })
      : format === "png"
        ? image.png({ compressionLevel: 6, ...options })
        : image.webp({ quality: 80, ...options });
  return { data: await encoded.toBuffer(), format, params };
}

export const round3 = (x: number): number => Math.round(x * 1000) / 1000;
