/** Everything Lookalike keeps about one image's content: its vector and its perceptual hashes. */
import type { Descriptor } from "./descriptor.ts";
import type { Embedder } from "./embedder.ts";
import { throwIfAborted } from "./errors.ts";
import { DHASH_GRID, PHASH_GRID, dhashFromGrey, phashFromGrey } from "./hashes.ts";
import { flipHorizontal, greyscaleGrid, type DecodedImage } from "./image.ts";

export interface Fingerprint {
  readonly vector: Float32Array;
  /** The mirrored image's vector, for queries that should also find flipped copies. */
  readonly flippedVector?: Float32Array;
  readonly phash: bigint;
  readonly dhash: bigint;
  readonly width: number;
  readonly height: number;
}

export interface FingerprintOptions {
  readonly flipped?: boolean;
  readonly signal?: AbortSignal;
}

export class Fingerprinter {
  constructor(
    readonly embedder: Embedder,
    readonly descriptor: Descriptor,
  ) {}

  async fingerprint(image: DecodedImage, options: FingerprintOptions = {}): Promise<Fingerprint> {
    const { signal } = options;
    const [vector, flippedVector, phash, dhash] = await Promise.all([
      this.vector(image, signal),
      options.flipped ? flipHorizontal(image).then((mirror) => this.vector(mirror, signal)) : undefined,
      greyscaleGrid(image, PHASH_GRID.width, PHASH_GRID.height).then(phashFromGrey),
      greyscaleGrid(image, DHASH_GRID.width, DHASH_GRID.height).then(dhashFromGrey),
    ]);
    throwIfAborted(signal);
    return { vector, flippedVector, phash, dhash, width: image.sourceWidth, height: image.sourceHeight };
  }

  private async vector(image: DecodedImage, signal?: AbortSignal): Promise<Float32Array> {
    const map = await this.embedder.featureMap(image, signal);
    return this.descriptor.describe(map);
  }
}
