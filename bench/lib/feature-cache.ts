/**
 * Conv feature maps for benchmark images, cached on disk as raw Float32 files keyed by
 * (model, resize mode, dataset, image, mirrored). Every pooling variant, whitening and threshold
 * sweep reads the same maps, so the model runs once per image per resize mode, ever; deleting
 * bench/.cache/ recomputes them identically. Misses go through the library's own Embedder (the
 * same decode → writeModelInput → worker path the engine uses), many in flight so it batches.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import sharp from "sharp";
import { Embedder } from "../../src/retrieval/embedder.ts";
import { decodeImage, flipHorizontal } from "../../src/retrieval/image.ts";
import { DEFAULT_MODEL_ID, getModel, type ModelDescription } from "../../src/retrieval/models.ts";
import type { FeatureMap } from "../../src/retrieval/pooling.ts";
import { mapLimit } from "./concurrency.ts";
import type { ImageItem } from "./datasets.ts";
import { cacheDir, modelsDir } from "./paths.ts";

export type ResizeMode = ModelDescription["input"]["resize"];
export const RESIZE_MODES: readonly ResizeMode[] = ["fill", "cover", "contain"];

export interface MapRequest {
  readonly item: ImageItem;
  readonly mode: ResizeMode;
  /** The mirror image's map (query-time flip augmentation). */
  readonly flipped?: boolean;
}

/** A map, or why the image could not be read (the intake refused it). */
export type MapResult = FeatureMap | Error;

const IN_FLIGHT = 48;

export class FeatureCache {
  private readonly embedders = new Map<ResizeMode, Promise<Embedder>>();
  private misses = 0;
  private readonly squares = new Map<string, Promise<boolean>>();

  constructor(
    private readonly log: (line: string) => void = () => {},
    readonly model: ModelDescription = getModel(DEFAULT_MODEL_ID),
  ) {}

  /** How many maps had to be computed by the model so far. */
  get computed(): number {
    return this.misses;
  }

  /**
   * Calls `use` once per request with its map (in completion order, with the request's index).
   * Maps are not kept: callers reduce each to the descriptors they need, so memory stays flat.
   */
  async each(requests: readonly MapRequest[], use: (result: MapResult, index: number) => void): Promise<void> {
    let done = 0;
    await mapLimit(requests, IN_FLIGHT, async (request, index) => {
      use(await this.map(request), index);
      if (++done % 2000 === 0) this.log(`  feature maps: ${done}/${requests.length} (${this.misses} computed)`);
    });
  }

  async close(): Promise<void> {
    for (const embedder of this.embedders.values()) await (await embedder).close();
    this.embedders.clear();
  }

  private async map(request: MapRequest): Promise<MapResult> {
    const file = this.fileOf(request, await this.isSquare(request.item));
    const { channels, height, width } = this.model.features;
    const size = channels * height * width;
    const cached = await readFile(file).catch(() => undefined);
    if (cached && cached.length === size * 4) {
      // Copy into a fresh aligned buffer: readFile's Buffer may sit at an unaligned pool offset.
      const data = new Float32Array(size);
      new Uint8Array(data.buffer).set(cached);
      return { data, channels, height, width };
    }
    let decoded: Awaited<ReturnType<typeof decodeImage>>;
    try {
      decoded = await decodeImage(request.item.file);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    const image = request.flipped ? await flipHorizontal(decoded) : decoded;
    const embedder = await this.embedder(request.mode);
    const map = await embedder.featureMap(image);
    this.misses++;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, new Uint8Array(map.data.buffer, map.data.byteOffset, map.data.byteLength));
    return map;
  }

  /**
   * A square picture reaches the model identically under every resize mode (nothing to squash, crop
   * or pad), so its maps are shared across modes. Read from the header only.
   */
  private isSquare(item: ImageItem): Promise<boolean> {
    let square = this.squares.get(item.file);
    if (!square) {
      square = sharp(item.file)
        .metadata()
        .then(
          (meta) => meta.width === meta.height,
          () => false,
        );
      this.squares.set(item.file, square);
    }
    return square;
  }

  private fileOf({ item, mode, flipped }: MapRequest, square: boolean): string {
    const name = `${item.id.replaceAll("/", "__")}${flipped ? ".flip" : ""}.f32`;
    return path.join(cacheDir(), "maps", this.model.id, square ? "square" : mode, item.dataset, name);
  }

  private embedder(mode: ResizeMode): Promise<Embedder> {
    let embedder = this.embedders.get(mode);
    if (!embedder) {
      const model = { ...this.model, input: { ...this.model.input, resize: mode } };
      embedder = Embedder.create({ model, modelsDir, download: false });
      this.embedders.set(mode, embedder);
    }
    return embedder;
  }
}
