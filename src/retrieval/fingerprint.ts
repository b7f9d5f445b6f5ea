/** Everything Lookalike keeps about one image's content: its vector and its perceptual hashes. */
import type { Descriptor } from "./descriptor.ts";
import type { Embedder } from "./embedder.ts";
import { throwIfAborted } from "./errors.ts";
import { DHASH_GRID, dhashFromGrey, PHASH_GRID, phashFromGrey } from "./hashes.ts";
import { type DecodedImage, flipHorizontal, greyscaleGrid } from "./image.ts";
import type { ResizeMode } from "./models.ts";

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
  readonly phash: bigint;
  readonly dhash: bigint;
  readonly width: number;
  readonly height: number;
}

export interface FingerprintOptions {
  readonly flipped?: boolean;
  /** Also embed the centre square (and its mirror, with `flipped`). */
  readonly centre?: boolean;
  readonly signal?: AbortSignal;
  /** Someone is waiting for this one: its model runs go ahead of queued background work. */
  readonly urgent?: boolean;
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
    const [vector, flippedVector, centreVector, centreFlippedVector] = await Promise.all([
      this.vector(image, signal, urgent),
      mirror?.then((m) => this.vector(m, signal, urgent)),
      options.centre ? this.vector(image, signal, urgent, "cover") : undefined,
      options.centre ? mirror?.then((m) => this.vector(m, signal, urgent, "cover")) : undefined,
    ]);
    throwIfAborted(signal);
    const { phash, dhash } = perceptualHashes(image);
    return { vector, flippedVector, centreVector, centreFlippedVector, phash, dhash, width: image.sourceWidth, height: image.sourceHeight };
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
