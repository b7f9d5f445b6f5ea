/** Everything Lookalike keeps about one image's content: its vector and its perceptual hashes. */
import type { Descriptor } from "./descriptor.ts";
import type { Embedder } from "./embedder.ts";
import { throwIfAborted } from "./errors.ts";
import { DHASH_GRID, dhashFromGrey, PHASH_GRID, phashFromGrey } from "./hashes.ts";
import { type DecodedImage, flipHorizontal, greyscaleGrid } from "./image.ts";
import type { ResizeMode } from "./models.ts";
import type { FeatureMap } from "./pooling.ts";
import { cropImage, detailSize, type RegionBox, regionBoxes, scaledBox } from "./regions/layout.ts";
import { type CellSet, cellsOf, type ImageParts, PARTS_INPUT_SIZE, QUERY_CELLS_INPUT_SIZES, regionsOf } from "./regions/parts.ts";

/**
 * A part of the query searched for by itself: the picture inside a frame (`content`: a screenshot's
 * chrome, caption bars and borders trimmed) or one tile of a collage. `box` is [x, y, width,
 * height] as fractions of the image (0–1).
 */
export interface RegionView {
  readonly kind: RegionBox["kind"];
  readonly box: readonly [number, number, number, number];
  readonly vector: Float32Array;
  /**
   * Its cells, for spatial verification (with `parts`): from its 224-px map and from its own run at
   * PARTS_INPUT_SIZE. The picture inside a screenshot or a collage tile is a fraction of the query,
   * so the query's own cells cover it with a few; run by itself at 448 px it gets as many cells as
   * a stored image, at the scale of the stored image's fine cells.
   */
  readonly cells?: readonly CellSet[];
}

export interface Fingerprint {
  readonly vector: Float32Array;
  /** The mirrored image's vector, for queries that should also find flipped copies. */
  readonly flippedVector?: Float32Array;
  /**
   * The centre square's vector (the model input cropped to fill, not letterboxed) and, with
   * `flippedVector`, its mirror's: repost queries use them to see through the frame of a
   * screenshot, a caption bar or a border around the original picture.
   */
  readonly centreVector?: Float32Array;
  readonly centreFlippedVector?: Float32Array;
  /** The picture's content box and collage tiles, each embedded on its own (queries only). */
  readonly regionViews?: readonly RegionView[];
  /** Regional descriptors and cells (regions/parts.ts): stored with the image, and used by queries. */
  readonly parts?: ImageParts;
  /**
   * The whole query's cells at each of QUERY_CELLS_INPUT_SIZES, for spatial verification only
   * (queries with regions and parts; never stored): a crop or a collage tile shows its cells on one
   * of them at about the scale of the stored image's cells.
   */
  readonly verificationCells?: readonly CellSet[];
  readonly phash: bigint;
  readonly dhash: bigint;
  readonly width: number;
  readonly height: number;
}

export interface FingerprintOptions {
  readonly flipped?: boolean;
  /** Also embed the centre square (and its mirror, with `flipped`). */
  readonly centre?: boolean;
  /** Also embed the content box and the collage tiles (see RegionView). */
  readonly regions?: boolean;
  /** Also compute the image's parts (regions and cells at PARTS_INPUT_SIZE; one more model run). */
  readonly parts?: boolean;
  readonly signal?: AbortSignal;
  /** Someone is waiting for this one: its model runs go ahead of queued background work. */
  readonly urgent?: boolean;
  /**
   * The same image decoded again with a working copy whose long side is at most `workingSize`
   * (never enlarged): region views are cut from it when the working copy shows them with fewer
   * pixels than the model's parts input (regions/layout.ts `detailSize`). Absent, or resolving to
   * undefined (no time left for it): they are cut from the working copy.
   */
  readonly detail?: (workingSize: number) => Promise<DecodedImage | undefined>;
}

/** The image's 64-bit pHash and dHash, from its decoded working copy. */
export function perceptualHashes(image: DecodedImage): { phash: bigint; dhash: bigint } {
  return {
    phash: phashFromGrey(greyscaleGrid(image, PHASH_GRID.width, PHASH_GRID.height)),
    dhash: dhashFromGrey(greyscaleGrid(image, DHASH_GRID.width, DHASH_GRID.height)),
  };
}

export class Fingerprinter {
  constructor(
    readonly embedder: Embedder,
    readonly descriptor: Descriptor,
  ) {}

  async fingerprint(image: DecodedImage, options: FingerprintOptions = {}): Promise<Fingerprint> {
    const { signal, urgent } = options;
    const mirror = options.flipped ? flipHorizontal(image) : undefined;
    const [whole, flippedVector, centreVector, centreFlippedVector, regionViews, fine, verificationMaps] = await Promise.all([
      this.embed(image, signal, urgent),
      mirror?.then((m) => this.vector(m, signal, urgent)),
      options.centre ? this.vector(image, signal, urgent, "cover") : undefined,
      options.centre ? mirror?.then((m) => this.vector(m, signal, urgent, "cover")) : undefined,
      options.regions ? this.regionViews(image, options) : undefined,
      options.parts ? this.embedder.featureMap(image, signal, this.letterbox, urgent, PARTS_INPUT_SIZE) : undefined,
      options.parts && options.regions
        ? Promise.all(QUERY_CELLS_INPUT_SIZES.map((size) => this.embedder.featureMap(image, signal, this.letterbox, urgent, size)))
        : undefined,
    ]);
    const { vector } = whole;
    const parts = fine && {
      regions: regionsOf(fine, ...this.aspect(image), this.stride),
      cells: [cellsOf(fine, ...this.aspect(image), this.stride), cellsOf(whole.map, ...this.aspect(image), this.stride)],
    };
    const verificationCells = verificationMaps?.map((map) => cellsOf(map, ...this.aspect(image), this.stride));
    throwIfAborted(signal);
    const { phash, dhash } = perceptualHashes(image);
    return {
      vector,
      flippedVector,
      centreVector,
      centreFlippedVector,
      regionViews,
      parts,
      verificationCells,
      phash,
      dhash,
      width: image.sourceWidth,
      height: image.sourceHeight,
    };
  }

  /**
   * The content box (when a frame was trimmed) and the collage tiles inside it, each embedded as an
   * image: found in the working copy, cut from a sharper decode when there is one (`detail`).
   */
  private async regionViews(image: DecodedImage, options: FingerprintOptions): Promise<RegionView[]> {
    const { signal, urgent, parts: withCells } = options;
    const parts = regionBoxes(image);
    const size = detailSize(image, parts);
    const sharper = size && options.detail ? await options.detail(size) : undefined;
    return Promise.all(
      parts.map(async ({ kind, box }) => {
        const crop = sharper ? cropImage(sharper, scaledBox(box, image, sharper)) : cropImage(image, box);
        const [{ vector, map }, fine] = await Promise.all([
          this.embed(crop, signal, urgent),
          withCells ? this.embedder.featureMap(crop, signal, this.letterbox, urgent, PARTS_INPUT_SIZE) : undefined,
        ]);
        const fractions = [box.x / image.width, box.y / image.height, box.width / image.width, box.height / image.height] as const;
        if (!fine) return { kind, box: fractions, vector };
        const cells = [cellsOf(map, ...this.aspect(crop), this.stride), cellsOf(fine, ...this.aspect(crop), this.stride)];
        return { kind, box: fractions, vector, cells };
      }),
    );
  }

  /** The model's input mode for parts: their cell geometry assumes the whole image is shown (letterboxed). */
  private readonly letterbox: ResizeMode = "contain";

  private get stride(): number {
    return this.embedder.model.features.stride;
  }

  /** The shape the input showed the image at: its own aspect when letterboxed, square when stretched or cropped. */
  private aspect(image: DecodedImage): [number, number] {
    return this.embedder.model.input.resize === "contain" ? [image.width, image.height] : [1, 1];
  }

  private async embed(
    image: DecodedImage,
    signal: AbortSignal | undefined,
    urgent: boolean | undefined,
  ): Promise<{ vector: Float32Array; map: FeatureMap }> {
    const map = await this.embedder.featureMap(image, signal, undefined, urgent);
    return { vector: this.descriptor.describe(map), map };
  }

  private async vector(
    image: DecodedImage,
    signal: AbortSignal | undefined,
    urgent: boolean | undefined,
    resize?: ResizeMode,
  ): Promise<Float32Array> {
    const map = await this.embedder.featureMap(image, signal, resize, urgent);
    return this.descriptor.describe(map);
  }
}
